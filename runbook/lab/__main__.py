"""`python -m runbook.lab ...`: the lab command without the rest of the CLI."""

import sys

from runbook.lab.cli import main

sys.exit(main())
