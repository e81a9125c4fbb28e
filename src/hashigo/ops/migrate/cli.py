"""The `hashigo migrate` sub-app. Each mover keeps its commands in its own package's cli.py
and adds one ``migrate_app.add_typer(...)`` line here."""

from __future__ import annotations

import typer

from hashigo.ops.migrate.db.cli import db_migrate_app
from hashigo.ops.migrate.storage.cli import storage_app

migrate_app = typer.Typer(help="Move data between backends: verified, resumable, never touching the source.",
                          no_args_is_help=True)
migrate_app.add_typer(storage_app, name="storage")
migrate_app.add_typer(db_migrate_app, name="db")
