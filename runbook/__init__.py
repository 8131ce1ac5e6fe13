"""runbook: an interactive incident runbook for the terminal."""

__version__ = "0.1.0"
