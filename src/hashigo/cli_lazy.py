"""Sub-apps imported only when their command runs.

Importing every sub-app up front cost about a second per `hashigo` call (check's sources pull
in SQLAlchemy, plan its catalog, deploy its validators); the migrators run the CLI once per step
and the benchmarks time it. A command group built from `lazy_group` lists its sub-apps by name
and imports one when click asks for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup


def lazy_group(subapps: dict[str, str]) -> type[TyperGroup]:
    """A group class for ``typer.Typer(cls=...)``; ``subapps`` maps a name to "module:attribute"."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            return [*super().list_commands(ctx), *(name for name in subapps if name not in self.commands)]

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name not in self.commands and cmd_name in subapps:
                self.add_command(_load(subapps[cmd_name], cmd_name), cmd_name)
            return super().get_command(ctx, cmd_name)

    return LazyGroup


def _load(target: str, name: str) -> TyperGroup:
    module, _, attribute = target.partition(":")
    sub: Any = getattr(import_module(module), attribute)
    group = typer.main.get_group(sub)
    group.name = name  # what usage lines and the help listing show
    return group
