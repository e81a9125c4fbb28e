"""Metric sources. Each reads some metrics under a timeout and returns readings; one failing never
stops the others, and its failure names the source and why (base.py)."""
