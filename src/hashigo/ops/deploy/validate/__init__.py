"""Validation of rendered deployment files (`hashigo deploy validate`)."""

from hashigo.ops.deploy.validate.report import FileReport, Finding, Report
from hashigo.ops.deploy.validate.run import classify, validate_dir

__all__ = ["FileReport", "Finding", "Report", "classify", "validate_dir"]
