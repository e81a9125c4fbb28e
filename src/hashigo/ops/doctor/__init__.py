"""`hashigo doctor`: what is configured, and whether each backend answers."""

from hashigo.ops.doctor.checks import CheckResult, ConfigRow, configuration_rows, run_checks

__all__ = ["CheckResult", "ConfigRow", "configuration_rows", "run_checks"]
