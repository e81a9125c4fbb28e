"""Errors shared by every port, so callers can map them without knowing the adapter."""

from __future__ import annotations


class HashigoError(Exception):
    """Base of every error hashigo raises on purpose."""


class ConfigError(HashigoError):
    """The configuration is invalid; the message names the setting and what is accepted."""


class BackendUnavailable(HashigoError):
    """A backend did not answer in time or refused the connection.

    The service maps this to 503 with Retry-After; it never means "not found".
    """

    def __init__(self, backend: str, detail: str) -> None:
        super().__init__(f"{backend}: {detail}")
        self.backend = backend
        self.detail = detail
