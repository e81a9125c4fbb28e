"""`hashigo check`: the typer sub-app. Wiring only; the work is in the modules next to it.

Exit codes: 0 ok, 1 consider, 2 required, 3 a source could not be measured (and nothing is
required), 4 bad input — a malformed rules file, plan file or billing CSV, a bad flag or bad
configuration. Click's own usage errors are 2 elsewhere; here they are 4, so 2 always means "required".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from hashigo.ops.check.history import History
from hashigo.ops.check.loading import DEFAULT_RULES_FILE, CheckInputError, builtin_text, validate
from hashigo.ops.check.report import metrics_table, print_run
from hashigo.ops.check.rulefile import RulesFile
from hashigo.ops.check.run import CheckRun, Setup, check_once, close_sources, prepare, watch
from hashigo.ops.check.verdict import EXIT_BAD_INPUT

out = Console()
err = Console(stderr=True)


# Typer ≥ 0.24 vendors click; its UsageError is BadParameter's base either way.
_USAGE_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class CheckGroup(TyperGroup):
    """Usage errors (unknown flag, bad number) exit 4, not click's 2, which here means "required"."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _USAGE_ERROR as exc:
            setattr(exc, "exit_code", EXIT_BAD_INPUT)  # noqa: B010 -- an instance attribute over the class's 2
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _USAGE_ERROR as exc:
            setattr(exc, "exit_code", EXIT_BAD_INPUT)  # noqa: B010
            raise


check_app = typer.Typer(cls=CheckGroup, invoke_without_command=True, no_args_is_help=False,
                        help="Live metrics against the seeds' migration triggers: stay, consider, or move now.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (one object per sample).")]


def fail(problems: list[str]) -> NoReturn:
    for problem in problems:
        err.print(f"[red]hashigo check:[/red] {escape(problem)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _pairs(flag: str, items: list[str] | None) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in items or []:
        name, sep, number = item.partition("=")
        try:
            found[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            fail([f"{flag} {item!r}: expected NAME=NUMBER, e.g. {flag} "
                  f"{'dau=1200' if flag == '--value' else 'database_gb=8'}"])
    return found


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        current = data.get(key)
        if not isinstance(current, dict):
            current = data[key] = {}
        data = current
    data[last] = value


def overrides(options: dict[str, Any]) -> Any:
    """A function applying the flags to the rules file, validated as the file is."""
    def patch(rules: RulesFile) -> RulesFile:
        data = rules.model_dump(mode="python", exclude_none=True)
        for source in ("service", "postgres", "redis", "storage"):
            data["sources"][source] = dict(data["sources"][source])
        for path, value in options.items():
            if path in ("values", "limits"):
                data[path] = {**data.get(path, {}), **value}
            elif value is not None:
                _set(data, path, value)
        return validate(data, "command line")
    return patch


@check_app.callback()
def check(
    ctx: typer.Context,
    rules: Annotated[Path | None, typer.Option(
        "--rules", "-r", help=f"Rules file (default: ./{DEFAULT_RULES_FILE} if present, else the seeds').")] = None,
    plan: Annotated[str | None, typer.Option(
        "--plan", help="Catalog entries the app is on now, comma-separated (e.g. supabase.free,upstash.free).")] = None,
    plan_file: Annotated[Path | None, typer.Option("--plan-file", help="Output of `hashigo plan --json`.")] = None,
    phase: Annotated[str | None, typer.Option("--phase", help="The phase of --plan-file you are in now.")] = None,
    prices: Annotated[Path | None, typer.Option("--prices", help="Price override file, as for `hashigo plan`.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="The service's URL (its /metrics).")] = None,
    prometheus: Annotated[str | None, typer.Option("--prometheus", help="A Prometheus server's URL.")] = None,
    window: Annotated[str | None, typer.Option("--window", help="PromQL range for --prometheus, e.g. 5m.")] = None,
    database: Annotated[str | None, typer.Option("--database", help="PostgreSQL URL (default: DATABASE_URL).")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL (default: REDIS_URL).")] = None,
    storage: Annotated[str | None, typer.Option("--storage", help="Object store URL (default: STORAGE_URL).")] = None,
    bill: Annotated[float | None, typer.Option("--bill", help="This month's bill in USD.", min=0)] = None,
    bill_csv: Annotated[Path | None, typer.Option("--bill-csv", help="A billing CSV (date,amount or AWS CUR).")] = None,
    value: Annotated[list[str] | None, typer.Option("--value", help="METRIC=NUMBER for what no source measures "
                                                                     "(repeat), e.g. dau=1200.")] = None,
    limit: Annotated[list[str] | None, typer.Option("--limit", help="QUANTITY=NUMBER, your own limit (repeat), "
                                                                     "e.g. connections=60.")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Do not measure this source (repeat): service, "
                                                                   "postgres, redis, storage.")] = None,
    sample_seconds: Annotated[float | None, typer.Option("--sample-seconds", help="Seconds between the two reads "
                                                         "of counters (service, Redis).")] = None,
    history: Annotated[Path | None, typer.Option("--history", help="History file (SQLite).")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="Notify level changes here ({\"text\": …}).")] = None,
    watch_mode: Annotated[bool, typer.Option("--watch", help="Sample on an interval until stopped.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between samples with --watch.", min=1)] = 60,
    count: Annotated[int | None, typer.Option("--count", help="Stop --watch after this many samples.", min=1)] = None,
    json_output: JsonFlag = False,
) -> None:
    """Measure, compare every rule, and say whether to stay, consider the next phase, or move now.

    Exit codes: 0 ok, 1 consider, 2 required, 3 a source could not be measured (and nothing is
    required), 4 bad input.
    """
    if ctx.invoked_subcommand is not None:
        return
    bad = sorted(set(skip or []) - {"service", "postgres", "redis", "storage"})
    if bad:
        fail([f"--skip {', '.join(bad)}: accepted: service, postgres, redis, storage"])
    options: dict[str, Any] = {
        "plan.entries": [e.strip() for e in plan.split(",") if e.strip()] if plan is not None else None,
        "plan.file": plan_file, "plan.phase": phase, "plan.prices": prices,
        "sources.service.url": service, "sources.service.sample_seconds": sample_seconds,
        "sources.postgres.url": database, "sources.redis.url": redis, "sources.storage.url": storage,
        "history.path": history, "notify.webhook": webhook,
        "values": _pairs("--value", value), "limits": _pairs("--limit", limit),
    }
    if prometheus is not None:
        options["sources.prometheus"] = {"url": prometheus, **({"window": window} if window else {})}
    if bill is not None or bill_csv is not None:
        options["sources.billing"] = {"monthly_usd": bill, "csv": bill_csv}
    for name in skip or []:
        options[f"sources.{name}.enabled"] = False
    try:
        setup = prepare(rules, overrides(options))
    except CheckInputError as exc:
        fail(exc.problems)
    code = asyncio.run(_run(setup, json_output, watch_mode, interval, count))
    raise typer.Exit(code)


async def _run(setup: Setup, json_output: bool, watch_mode: bool, interval: float, count: int | None) -> int:
    samples = 0

    def show(run: CheckRun) -> None:
        nonlocal samples
        samples += 1
        if json_output:
            sys.stdout.write(json.dumps(run.as_dict(setup), ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return
        if watch_mode:
            at = datetime.fromtimestamp(run.at).strftime("%Y-%m-%d %H:%M:%S")
            out.rule(f"sample {samples} · {at} · {run.verdict.level}")
        print_run(out, run, setup)

    try:
        with History(setup.history_path) as history:
            if watch_mode:
                run = await watch(setup, history, interval, count, show)
            else:
                with _status(json_output, setup):
                    run = await check_once(setup, history)
                show(run)
    finally:
        await close_sources(setup)
    if run.notify_error:
        err.print(f"[red]hashigo check:[/red] {escape(run.notify_error)}", highlight=False)
    return run.verdict.exit_code


def _status(json_output: bool, setup: Setup) -> contextlib.AbstractContextManager[Any]:
    if json_output or not err.is_terminal:
        return contextlib.nullcontext()
    names = ", ".join(s.name for s in setup.assembly.sources) or "nothing"
    return err.status(f"measuring {names} …")


@check_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the rules file.")] = Path(DEFAULT_RULES_FILE),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Write a commented rules file with the seeds' thresholds (exit 4 if it exists and --force is not given)."""
    if path.exists() and not force:
        fail([f"{path} exists; add --force to overwrite it"])
    try:
        path.write_text(builtin_text(), encoding="utf-8")
    except OSError as exc:
        fail([f"{path}: cannot be written ({exc})"])
    if json_output:
        print(json.dumps({"written": str(path)}))
    else:
        out.print(f"wrote {escape(str(path))}: edit the thresholds, then run `hashigo check`")


@check_app.command("metrics")
def metrics(json_output: JsonFlag = False) -> None:
    """List the metrics a rule can name, with units and the plan limit each is compared with."""
    from hashigo.ops.check.metrics import METRICS

    if json_output:
        print(json.dumps([{"metric": s.name, "unit": s.unit, "title": s.title, "component": s.component,
                           "plan_quantity": s.plan_quantity} for s in METRICS.values()], ensure_ascii=False))
    else:
        out.print(metrics_table())
