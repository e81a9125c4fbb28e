"""`hashigo migrate storage …` commands (being built: copy, plan, verify)."""

from __future__ import annotations

import typer

storage_app = typer.Typer(help="Copy every object between two stores: verified, resumable, never deleting the source.",
                          no_args_is_help=True)
