"""`hashigo plan`: the typer sub-app. Wiring only; the work is in the modules next to it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress

from hashigo.ops.plan.catalog import DEFAULT_OVERRIDE_FILE, STALE_AFTER_DAYS, load_catalog
from hashigo.ops.plan.catalog_schema import COMPONENTS
from hashigo.ops.plan.errors import PlanInputError
from hashigo.ops.plan.planning import EXAMPLES, PlanRequest, make_report, template_text
from hashigo.ops.plan.render_html import to_html
from hashigo.ops.plan.render_markdown import to_markdown
from hashigo.ops.plan.render_table import catalog_table, print_report
from hashigo.ops.plan.report import Report, to_json
from hashigo.ops.plan.requirements import DEFAULT_FILE

plan_app = typer.Typer(help="Phased hosting plans with sourced cost estimates (seeds 000-004).",
                       invoke_without_command=True, no_args_is_help=False)
out = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PricesOption = Annotated[Path | None, typer.Option(
    "--prices", help=f"Price override file (default: ./{DEFAULT_OVERRIDE_FILE} if present); it wins over the catalog.")]


def _fail(problems: list[str], code: int = 2) -> NoReturn:
    for problem in problems:
        err.print(f"[red]hashigo plan:[/red] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _flags(**values: Any) -> dict[str, Any]:
    names = {"mau": "users.mau", "dau": "users.dau", "region": "region", "commercial": "commercial",
             "peak_rps": "traffic.peak_rps", "cpu_ms": "traffic.cpu_ms_per_request",
             "websockets": "websocket.concurrent", "db_gb": "database.size_gb", "storage_gb": "storage.size_gb",
             "egress_gb": "egress.files_gb_per_month", "must_have": "must_have", "phases": "phase_preset"}
    return {names[k]: v for k, v in values.items() if v not in (None, [])}


def _format(json_output: bool, markdown: bool, html: bool, output: Path | None) -> str:
    chosen = [name for name, on in (("json", json_output), ("markdown", markdown), ("html", html)) if on]
    if len(chosen) > 1:
        _fail([f"choose one output format, got --{' and --'.join(chosen)}"])
    if chosen:
        return chosen[0]
    if output is not None:
        by_suffix = {".json": "json", ".md": "markdown", ".html": "html", ".htm": "html"}
        if output.suffix.lower() not in by_suffix:
            _fail([f"--output {output}: add --json, --markdown or --html, or use a .json, .md or .html name"])
        return by_suffix[output.suffix.lower()]
    return "table"


@plan_app.callback()
def plan(
    ctx: typer.Context,
    requirements: Annotated[Path | None, typer.Option(
        "--requirements", "-r",
        help=f"Requirements file (default: ./{DEFAULT_FILE}, else the built-in defaults).")] = None,
    prices: PricesOption = None,
    users: Annotated[str | None, typer.Option(
        "--users", help="N: plan at N monthly active users; LOW..HIGH: sweep (e.g. 1000..1000000, 1k..1M).")] = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", help="Only these stacks, side by side: stackA,stackB (`hashigo plan stacks` lists them).")] = None,
    phases: Annotated[str | None, typer.Option(
        "--phases", help="Phase preset: seed004, seed002, seed004-users.")] = None,
    mau: Annotated[float | None, typer.Option("--mau", help="Monthly active users the volumes are for.")] = None,
    dau: Annotated[float | None, typer.Option("--dau", help="Daily active users.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Where the app runs (tokyo, singapore, ...).")] = None,
    commercial: Annotated[bool | None, typer.Option("--commercial/--non-commercial", help="Commercial use.")] = None,
    peak_rps: Annotated[float | None, typer.Option("--peak-rps", help="Peak requests per second.")] = None,
    cpu_ms: Annotated[float | None, typer.Option("--cpu-ms", help="CPU-ms per request.")] = None,
    websockets: Annotated[float | None, typer.Option("--websockets", help="Concurrent WebSockets at peak.")] = None,
    db_gb: Annotated[float | None, typer.Option("--db-gb", help="Database size in GB.")] = None,
    storage_gb: Annotated[float | None, typer.Option("--storage-gb", help="Object storage in GB.")] = None,
    egress_gb: Annotated[float | None, typer.Option("--egress-gb", help="File downloads, GB per month.")] = None,
    must_have: Annotated[list[str] | None, typer.Option(
        "--must-have", help="Replaces the must-haves (repeat): cli, autoscaling, websocket, container, ha, "
                            "japan_region, region.")] = None,
    json_output: JsonFlag = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown plan document.")] = False,
    html: Annotated[bool, typer.Option("--html", help="Print a self-contained HTML report with a cost chart.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the output to this file.")] = None,
    brief: Annotated[bool, typer.Option("--brief", help="Table output without line items.")] = False,
) -> None:
    """Plan the phases of a hosting ladder: stacks that fit, monthly cost of each, and how to move.

    Exit codes: 0 every phase has a stack; 1 some phase has none; 2 invalid input.
    """
    if ctx.invoked_subcommand is not None:
        return
    fmt = _format(json_output, markdown, html, output)
    request = PlanRequest(
        requirements=requirements, prices=prices, users=users, chart=fmt == "html",
        compare=[s.strip() for s in compare.split(",") if s.strip()] if compare is not None else None,
        flags=_flags(mau=mau, dau=dau, region=region, commercial=commercial, peak_rps=peak_rps, cpu_ms=cpu_ms,
                     websockets=websockets, db_gb=db_gb, storage_gb=storage_gb, egress_gb=egress_gb,
                     must_have=must_have, phases=phases))
    try:
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("costing stacks", total=None)
            report = make_report(request, progress=lambda stack: bar.update(task, description=f"sweeping {stack}"))
    except PlanInputError as exc:
        _fail(exc.problems)
    _emit(report, fmt, output, brief)
    if not report.plan.complete:
        raise typer.Exit(1)


def _emit(report: Report, fmt: str, output: Path | None, brief: bool) -> None:
    if fmt == "table" and output is None:
        print_report(out, report, detail=not brief)
        return
    text = {"json": to_json, "markdown": to_markdown, "html": to_html}[fmt](report) if fmt != "table" else ""
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail([f"--output {output}: cannot write ({exc.strerror or exc})"], 1)
    err.print(f"wrote {output}")


@plan_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the requirements file.")] = Path(DEFAULT_FILE),
    example: Annotated[str | None, typer.Option(
        "--example", help=f"Write a seed example instead: {', '.join(EXAMPLES)}.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Write a commented requirements file (exit 1 if it exists and --force is not given)."""
    try:
        text = template_text(example)
    except PlanInputError as exc:
        _fail(exc.problems)
    if path.exists() and not force:
        _fail([f"{path} already exists; edit it, or pass --force to replace it"], 1)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail([f"{path}: cannot write ({exc.strerror or exc})"], 1)
    if json_output:
        print(json.dumps({"written": str(path), "example": example}))
    else:
        out.print(f"wrote {path}: edit the numbers, then run `hashigo plan`"
                  + ("" if path.name == DEFAULT_FILE else f" -r {path}"))


@plan_app.command("catalog")
def catalog(
    component: Annotated[str | None, typer.Option("--component", help=f"Only: {', '.join(COMPONENTS)}.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider (e.g. AWS, Supabase).")] = None,
    stale_only: Annotated[bool, typer.Option("--stale", help="Only entries with a stale source.")] = False,
    stale_days: Annotated[int, typer.Option(
        "--stale-days", min=1, help="Age in days that makes a price stale.")] = STALE_AFTER_DAYS,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any listed entry is stale.")] = False,
    prices: PricesOption = None,
    json_output: JsonFlag = False,
) -> None:
    """List the price catalog with sources and read dates; warn about prices read long ago."""
    if component is not None and component not in COMPONENTS:
        _fail([f"--component {component!r}: accepted: {', '.join(COMPONENTS)}"])
    try:
        loaded = load_catalog(prices if prices is not None else _default_prices())
    except PlanInputError as exc:
        _fail(exc.problems)
    stale = loaded.stale(date.today(), stale_days)
    stale_ids = {s.entry_id for s in stale}
    ids = [i for i, e in loaded.entries.items() if (component is None or e.component == component)
           and (provider is None or e.provider.lower() == provider.lower()) and (not stale_only or i in stale_ids)]
    listed_stale = [s for s in stale if s.entry_id in ids]
    if json_output:
        print(json.dumps({"entries": [_entry_json(loaded, i, stale_ids) for i in ids],
                          "stale": [{"entry": s.entry_id, "what": s.what, "read": s.source.read.isoformat(),
                                     "age_days": s.age_days, "url": s.source.url} for s in listed_stale],
                          "stale_after_days": stale_days}, indent=2, ensure_ascii=False))
    else:
        out.print(catalog_table(loaded, stale, ids))
    for item in listed_stale:
        err.print(f"[yellow]warning:[/yellow] {item.entry_id} ({item.what}): read {item.source.shown_date()}, "
                  f"{item.age_days} days ago (> {stale_days}); re-check {item.source.url}", highlight=False)
    if strict and listed_stale:
        raise typer.Exit(1)


def _default_prices() -> Path | None:
    candidate = Path(DEFAULT_OVERRIDE_FILE)
    return candidate if candidate.is_file() else None


def _entry_json(loaded: Any, entry_id: str, stale_ids: set[str]) -> dict[str, Any]:
    entry = loaded.entries[entry_id]
    data: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
    data.update({"unconfirmed": entry.is_unconfirmed(), "stale": entry_id in stale_ids,
                 "override": entry_id in loaded.overridden, "origin": loaded.origin.get(entry_id)})
    return data


@plan_app.command("stacks")
def stacks(prices: PricesOption = None, json_output: JsonFlag = False) -> None:
    """List the named stacks `--compare` accepts, with the catalog entries each slot may use."""
    try:
        loaded = load_catalog(prices if prices is not None else _default_prices())
    except PlanInputError as exc:
        _fail(exc.problems)
    if json_output:
        print(json.dumps([s.model_dump(mode="json") for s in loaded.stacks.values()], indent=2, ensure_ascii=False))
        return
    for stack in loaded.stacks.values():
        out.print(f"[bold]{stack.id}[/bold] — {stack.name} ({stack.seeds})")
        for component, ids in stack.slots.items():
            out.print(f"    {component}: {', '.join(ids)}", highlight=False)
