"""Errors of `hashigo migrate db`: each carries the exit code the CLI returns and one readable line."""

from __future__ import annotations

from hashigo.errors import HashigoError

EXIT_OK = 0
EXIT_FAILED = 1  # a step failed or verify found differences
EXIT_BAD_INPUT = 2  # bad URL or option, target not empty, nothing to resume
EXIT_PREFLIGHT = 3  # preflight found a blocker (privilege, extension, version)


class MigrateDbError(HashigoError):
    """A failure the user can act on; the message names what was wrong and what is accepted."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(MigrateDbError):
    exit_code = EXIT_BAD_INPUT


class PreflightBlocked(MigrateDbError):
    exit_code = EXIT_PREFLIGHT
