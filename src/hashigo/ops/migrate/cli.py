"""The `hashigo migrate` sub-app. Each mover keeps its commands in its own package's cli.py
and adds one line to the lazy group here."""

from __future__ import annotations

import typer

from hashigo.cli_lazy import lazy_group

migrate_app = typer.Typer(help="Move data between backends: verified, resumable, never touching the source.",
                          cls=lazy_group({"storage": "hashigo.ops.migrate.storage.cli:storage_app",
                                          "db": "hashigo.ops.migrate.db.cli:db_migrate_app"}),
                          no_args_is_help=True)
