"""The `hashigo` command: wires subcommands to the work in ops/ and db/, nothing else."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from hashigo import __version__
from hashigo.cli_lazy import lazy_group
from hashigo.errors import BackendUnavailable, ConfigError, HashigoError
from hashigo.settings import Settings, load_settings

T = TypeVar("T")

# Each ops domain keeps its commands in its own cli.py, imported when its command runs.
_SUBAPPS = {"plan": "hashigo.ops.plan.cli:plan_app", "migrate": "hashigo.ops.migrate.cli:migrate_app",
            "deploy": "hashigo.ops.deploy.cli:deploy_app", "check": "hashigo.ops.check.cli:check_app"}
app = typer.Typer(help="hashigo: from a laptop to AWS/GCP without rewriting code or losing data.",
                  cls=lazy_group(_SUBAPPS), no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)
db_app = typer.Typer(help="Database schema migrations (Alembic), on DATABASE_URL.", no_args_is_help=True)
app.add_typer(db_app, name="db")
sessions_app = typer.Typer(help="The reference service's sessions: lifecycle and clean-up.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")

out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]hashigo:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)


@app.command()
def version() -> None:
    """Print hashigo's version."""
    out.print(__version__)


@app.command()
def doctor(json_output: JsonFlag = False) -> None:
    """Show the active configuration and check every backend (exit 1 if any check fails)."""
    from hashigo.ops.doctor import configuration_rows, run_checks
    from hashigo.ops.doctor.report import as_json, print_report

    settings = _settings()
    rows = configuration_rows(settings)
    results = asyncio.run(run_checks(settings))
    if json_output:
        print(as_json(rows, results))
    else:
        print_report(out, rows, results)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: HASHIGO_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT / HASHIGO_PORT or 8000).")] = None,
    migrate: Annotated[bool | None, typer.Option(
        "--migrate/--no-migrate",
        help="Run `db upgrade` first. Default: yes in development, no elsewhere (run it as a release step).")] = None,
) -> None:
    """Run the reference service: auth, users, sessions with files, WebSocket, /healthz, /metrics."""
    import uvicorn

    from hashigo.db import migrate_schema

    settings = _settings()
    service = settings.service
    if migrate if migrate is not None else settings.security.environment in {"development", "test"}:
        _run_db(lambda: migrate_schema.upgrade(settings.database, "head"))
    _check_auth_keys(settings)
    _files_url_follows_listener(settings, host, port)
    uvicorn.run(
        "hashigo.service.app:create_app",
        factory=True,
        host=host or service.host,
        port=port or service.port,
        ws_max_size=service.ws_max_message_bytes,
        ws_ping_interval=service.ws_ping_seconds,
        ws_ping_timeout=service.ws_ping_seconds,
        # permessage-deflate keeps ~37 KiB of zlib state per socket for small JSON events:
        # more than the rest of an idle connection (bench/websocket_idle.py).
        ws_per_message_deflate=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        access_log=False,  # the service logs every request itself, as JSON with a request id
        log_config=None,
        timeout_graceful_shutdown=10,
    )


def _check_auth_keys(settings: Settings) -> None:
    """Refuse to start with keys that would make tokens forgeable (checked again by the app)."""
    from hashigo.service.auth.tokens import TokenCodec

    try:
        TokenCodec.from_settings(settings)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up to REVISION (default: head)."""
    from hashigo.db import migrate_schema

    settings = _settings()
    _check_revision(revision, migrate_schema.known_revisions())
    _run_db(lambda: migrate_schema.upgrade(settings.database, revision))
    out.print(f"database upgraded to {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")]) -> None:
    """Migrate the database down to REVISION."""
    from hashigo.db import migrate_schema

    settings = _settings()
    _check_revision(revision, migrate_schema.known_revisions())
    _run_db(lambda: migrate_schema.downgrade(settings.database, revision))
    out.print(f"database downgraded to {revision}")


@db_app.command("current")
def db_current(json_output: JsonFlag = False) -> None:
    """Show the database's schema revision and the package's head."""
    from hashigo.db import create_engine, migrate_schema

    settings = _settings()

    async def read() -> str | None:
        engine = create_engine(settings.database)
        try:
            return await migrate_schema.current_revision(engine)
        finally:
            await engine.dispose()

    current = _run_db(lambda: asyncio.run(read()))
    head = migrate_schema.head_revision()
    if json_output:
        print(json.dumps({"current": current, "head": head, "up_to_date": current == head}))
    else:
        out.print(f"current: {current or '(none — run `hashigo db upgrade`)'}   head: {head}")


@db_app.command("history")
def db_history() -> None:
    """List the package's migrations, newest first."""
    from hashigo.db import migrate_schema

    for line in migrate_schema.history_lines():
        out.print(line, highlight=False)


def _check_revision(revision: str, known: set[str]) -> None:
    relative = revision.lstrip("+-").isdigit() and revision[:1] in "+-"
    if revision not in known | {"head", "base", "heads"} and not relative:
        _fail(f"unknown revision {revision!r}; accepted: head, base, a relative step like -1, "
              f"or one of {', '.join(sorted(known))}", 2)


def _run_db(action: Callable[[], T]) -> T:
    try:
        return action()
    except BackendUnavailable as exc:
        _fail(str(exc), 1)
    except (OSError, HashigoError) as exc:
        _fail(f"database: {exc}", 1)
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "alembic", "sqlite3")):
            _fail(f"database: {str(exc).splitlines()[0]}", 1)
        raise


def _files_url_follows_listener(settings: Settings, host: str | None, port: int | None) -> None:
    """`--host/--port` move the listener; signed local-store URLs must follow unless set explicitly."""
    origin = settings.origins.get("storage.public_base_url")
    if (host or port) and (origin is None or origin.source in {"default", "derived"}):
        shown = host or settings.service.host
        shown = "127.0.0.1" if shown in {"0.0.0.0", ""} else shown
        os.environ["STORAGE_PUBLIC_BASE_URL"] = f"http://{shown}:{port or settings.service.port}/api/v1/files"


@sessions_app.command("sweep")
def sessions_sweep(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be removed; remove nothing.")] = False,
    older_than_days: Annotated[float | None, typer.Option(
        "--older-than-days", help="Remove files older than this (default: SESSION_FILES_LIFECYCLE_DAYS).")] = None,
    grace_seconds: Annotated[float, typer.Option(
        "--grace-seconds", help="Leave objects younger than this alone (uploads in flight).")] = 3600,
    json_output: JsonFlag = False,
) -> None:
    """Remove expired session files, orphaned objects and expired sessions' objects (exit 1 on errors)."""
    import contextlib
    from datetime import timedelta

    from hashigo.service.sessions.sweep import print_report, sweep

    if older_than_days is not None and older_than_days < 0:
        _fail(f"--older-than-days must be 0 or more, got {older_than_days:g}", 2)
    if grace_seconds < 0:
        _fail(f"--grace-seconds must be 0 or more, got {grace_seconds:g}", 2)
    settings = _settings()
    try:
        with contextlib.nullcontext() if json_output else err.status("sweeping sessions/ …"):
            report = asyncio.run(sweep(settings, lifecycle_days=older_than_days,
                                       grace=timedelta(seconds=grace_seconds), dry_run=dry_run))
    except BackendUnavailable as exc:
        _fail(f"backend unavailable: {exc}; nothing more was removed, run the sweep again", 1)
    except HashigoError as exc:
        _fail(str(exc), 1)
    if json_output:
        print(json.dumps(report.as_dict()))
    else:
        print_report(out, report)
    if report.errors:
        raise typer.Exit(1)


def main() -> None:
    """Run the command, then end the process without interpreter shutdown.

    obstore's tokio threads can still be letting go of Python objects at shutdown; a thread that asks
    for the GIL while Python finalizes is ended with pthread_exit, which aborts the process (exit 134,
    about one run in 50, after all output was written). Every command has closed and flushed what
    matters by the time it returns, so the last steps are flushing the streams and logs ourselves.
    """
    code = _run()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run() -> int:
    try:
        app(standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("HASHIGO_DEBUG"):
            raise
        err.print(f"[red]hashigo: internal error:[/red] {escape(type(exc).__name__)}: {escape(str(exc))} "
                  f"(rerun with HASHIGO_DEBUG=1 for the traceback)", highlight=False)
        return 70
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message and ends with 1
    return 1
