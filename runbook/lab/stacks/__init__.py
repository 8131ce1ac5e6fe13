"""One module per stack (the gateway and app software a fault breaks), each making its faults.

A stack module exports FAULTS, a tuple of runbook.lab.fault.Fault; runbook/lab/faults.py
registers them.
"""
