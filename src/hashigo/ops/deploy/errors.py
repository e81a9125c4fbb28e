"""Errors of `hashigo deploy`: bad input (exit 2) and files that do not validate (exit 1)."""

from __future__ import annotations


class DeployInputError(Exception):
    """Options, plan or output folder the command cannot use; every problem is listed, each names the fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
