"""Fixtures for real servers; see tests/harness/base.py."""
