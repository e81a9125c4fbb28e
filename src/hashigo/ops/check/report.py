"""`hashigo check` for people: a table of every rule, the sources, trends, and the verdict with commands."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hashigo.ops.check.evaluate import RuleResult
from hashigo.ops.check.metrics import METRICS
from hashigo.ops.check.run import CheckRun, Setup

_STYLE = {"ok": "green", "consider": "yellow", "required": "bold red", "no data": "dim", "unmeasured": "red",
          "no limit": "dim"}


def _level_cell(result: RuleResult) -> str:
    text = f"[{_STYLE[result.status]}]{result.status}[/]"
    if result.now_level is not None and result.rule.sustained and result.now_level != result.status:
        text += f"\n[dim](now {result.now_level})[/dim]"
    return text


_ORDER = ("required", "consider", "unmeasured", "ok", "no limit", "no data")


def rules_table(results: list[RuleResult]) -> Table:
    """Every rule, what matters first; rules nothing measures are one short line each (hints below)."""
    table = Table(title="Rules", title_justify="left", expand=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("measured", overflow="fold", ratio=3)
    table.add_column("threshold", overflow="fold", ratio=3)
    table.add_column("window", overflow="fold", ratio=3)
    table.add_column("level", no_wrap=True)
    for result in sorted(results, key=lambda r: _ORDER.index(r.status)):
        measured = escape(result.measured_text())
        if result.source:
            measured += f" [dim]{escape(result.source)}[/dim]"
        if result.status in ("unmeasured", "no limit") or (result.status == "no data" and not _sourceless(result)):
            measured += f"\n[dim]{escape(result.note)}[/dim]"
        elif result.status == "no data":
            measured = "[dim]no source[/dim]"
        window = escape(result.window or (f"needs {result.rule.sustained}" if result.rule.sustained else "now"))
        table.add_row(escape(result.name), measured, escape(result.threshold_text()), window, _level_cell(result))
    return table


def _sourceless(result: RuleResult) -> bool:
    return result.note.startswith("no source gives")


def print_hints(console: Console, results: list[RuleResult]) -> None:
    """One line per part of the stack that nothing measured, with what would measure it."""
    by_hint: dict[str, list[str]] = {}
    for result in results:
        if result.status == "no data" and _sourceless(result):
            by_hint.setdefault(result.note.split("; ", 1)[-1], []).append(result.name)
    for hint, names in by_hint.items():
        console.print(f"[dim]no source for {escape(', '.join(names))}: {escape(hint)}[/dim]")


def sources_table(run: CheckRun) -> Table:
    table = Table(title="Sources", title_justify="left", expand=True)
    table.add_column("source", no_wrap=True)
    table.add_column("where", overflow="fold", ratio=3)
    table.add_column("result", overflow="fold", ratio=4)
    table.add_column("time", justify="right", no_wrap=True)
    for outcome in run.outcomes:
        if outcome.ok:
            shown = [r for r in outcome.sample.readings if r.value is not None]
            result = "[green]ok[/green] " + escape(", ".join(f"{r.metric}" for r in shown[:6])
                                                   + (" …" if len(shown) > 6 else ""))
        else:
            result = f"[red]could not measure:[/red] {escape(outcome.error or '')}"
        table.add_row(outcome.name, escape(outcome.target), result, f"{outcome.seconds:.1f} s")
    for line in run.skipped:
        name, _, why = line.partition(": ")
        table.add_row(name, "", f"[dim]skipped: {escape(why)}[/dim]", "")
    return table


def print_run(console: Console, run: CheckRun, setup: Setup) -> None:
    console.print(rules_table(run.results))
    print_hints(console, run.results)
    console.print(sources_table(run))
    _print_details(console, run)
    for trend in run.trends:
        console.print(f"[cyan]trend:[/cyan] {escape(trend.sentence())}")
    verdict = run.verdict
    style = _STYLE[verdict.level]
    where = f" (phase {setup.plan.phase})" if setup.plan.phase else ""
    console.print(f"\n[{style}]{verdict.level.upper()}[/]{escape(where)}: {escape(verdict.summary)}")
    for step in verdict.steps:
        console.print(f"  • {escape(step)}")
    if verdict.commands:
        console.print("[bold]commands:[/bold]")
        for command in verdict.commands:
            console.print(f"  {escape(command)}", highlight=False, soft_wrap=True)
    if run.notified:
        console.print(f"[dim]notified the webhook: {run.previous_level or 'none'} → {verdict.level}[/dim]")
    if run.notify_error:
        console.print(f"[red]notification failed (retried next run):[/red] {escape(run.notify_error)}")
    console.print(f"[dim]rules: {escape(setup.rules_name)}; history: {escape(str(run.history_path))}; "
                  f"exit {verdict.exit_code}[/dim]")


def _print_details(console: Console, run: CheckRun) -> None:
    """The few details that explain a database number: what runs longest, which statements are slowest."""
    for outcome in run.outcomes:
        for query in outcome.sample.details.get("longest_queries", [])[:3]:
            if query["seconds"] >= 1:
                console.print(f"[dim]running {query['seconds']:.1f} s (pid {query['pid']}):[/dim] "
                              f"{escape(' '.join(str(query['query']).split()))}", soft_wrap=True)
        for statement in outcome.sample.details.get("slowest_statements", [])[:3]:
            console.print(f"[dim]slow statement {statement['mean_ms']:.1f} ms mean × {statement['calls']}:[/dim] "
                          f"{escape(' '.join(str(statement['query']).split()))}", soft_wrap=True)


def metrics_table() -> Table:
    table = Table(title="Metrics a rule can use", title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("unit")
    table.add_column("what")
    table.add_column("part")
    table.add_column("plan limit")
    for spec in METRICS.values():
        table.add_row(spec.name, spec.unit, spec.title, spec.component, spec.plan_quantity or "")
    return table
