"""Shared fixtures. Real servers come from tests/harness/ (URL from env → private instance → loud skip)."""

pytest_plugins = [
    "tests.harness.postgres",
    "tests.harness.redis",
    "tests.harness.objectstores",
    "tests.harness.blackhole",
    "tests.harness.service",
]
