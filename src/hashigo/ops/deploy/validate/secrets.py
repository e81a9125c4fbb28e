"""Secret values that must never be in a generated file: keys, tokens, credentials inside URLs.

Placeholders (UPPER_CASE words, ``${…}``, ``<…>``) are not secrets; anything else that looks like one is.
"""

from __future__ import annotations

import re

from hashigo.ops.deploy.validate.report import FileReport

# Variables whose value is a secret: the service's own (settings.py) and the cloud credentials.
SECRET_VARIABLES = frozenset({"SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID",
                              "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_ACCOUNT_KEY",
                              "AZURE_STORAGE_CONNECTION_STRING", "GEMINI_API_KEY"})

_PATTERNS = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{20,}"), "a GitHub token"),
    (re.compile(r"\b(sk_live|rk_live)_[A-Za-z0-9]{10,}"), "a payment API key"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
)
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s:/@'\"]+):([^\s@/'\"]+)@")


def is_placeholder(text: str) -> bool:
    text = text.strip()
    return (not text or text.startswith(("${", "<", "$")) or re.fullmatch(r"[A-Z][A-Z0-9_-]*", text) is not None
            or text in {"unset", "changeme-never-used"})


def scan(report: FileReport, text: str) -> None:
    report.ran("secret scan")
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in _PATTERNS:
            if pattern.search(line):
                report.error("secret scan", f"line {number}: looks like {what}; use a reference to a secret store")
        for match in _URL_CREDENTIALS.finditer(line):
            if not is_placeholder(match.group(2)):
                report.error("secret scan", f"line {number}: a URL with a password in it; keep the URL in a secret "
                                            f"store and reference it")


def literal_secret(name: str, value: object) -> bool:
    """A secret variable given a value here rather than a reference or a placeholder."""
    return name in SECRET_VARIABLES and isinstance(value, str) and not is_placeholder(value)
