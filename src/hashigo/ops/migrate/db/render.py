"""Human output: one table per step, differences listed under it."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from hashigo.ops.migrate.db.preflight import FAIL, INFO, OK, WARN, PreflightReport
from hashigo.ops.migrate.db.reports import VerifyReport

_STATUS = {OK: "[green]ok[/green]", WARN: "[yellow]warn[/yellow]", FAIL: "[red]FAIL[/red]", INFO: "[blue]info[/blue]"}
SHOWN = 20


def print_preflight(console: Console, report: PreflightReport) -> None:
    table = Table(title="Preflight", title_justify="left", expand=True)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    for check in report.checks:
        table.add_row(check.name, _STATUS[check.status], check.detail)
    console.print(table)


def print_step(console: Console, title: str, result: dict[str, Any]) -> None:
    table = Table(title=title, title_justify="left", show_header=False, expand=True)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold", ratio=1)
    for key, value in result.items():
        if key == "step":
            continue
        if isinstance(value, list):
            value = "\n".join(str(v) for v in value[:SHOWN]) or "—"
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


def print_verify(console: Console, report: VerifyReport) -> None:
    table = Table(title="Verify: rows (count + content hash, computed on each server)", title_justify="left",
                  expand=True)
    for name, justify in (("table", "left"), ("source rows", "right"), ("target rows", "right"),
                          ("chunks", "right"), ("result", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in report.tables():
        chunks = [u.removeprefix(row.table).strip() for u in row.differing_units if u != row.table]
        result = ("[green]same[/green]" if row.ok else
                  "[red]DIFFERENT[/red]" + (" in " + ", ".join(chunks[:3]) if chunks else ""))
        table.add_row(row.table, f"{row.source_rows:,}", f"{row.target_rows:,}", str(row.units), result)
    console.print(table)
    for label, diff in report.drills.items():
        lines = [f"[red]✗[/red] {label}:"]
        if diff.only_source:
            lines.append(f"  missing on the target (key): {', '.join(diff.only_source)}")
        if diff.only_target:
            lines.append(f"  only on the target (key): {', '.join(diff.only_target)}")
        if diff.changed:
            lines.append(f"  different content (key): {', '.join(diff.changed)}")
        if diff.note:
            lines.append(f"  {diff.note}")
        console.print("\n".join(lines), highlight=False)
    schema = report.schema
    verdict = "[green]same[/green]" if schema.ok else "[red]DIFFERENT[/red]"
    console.print(f"Schema: {schema.compared} objects compared (tables, columns, types, indexes, constraints, "
                  f"triggers, sequences and their values): {verdict}", highlight=False)
    for line in (schema.missing + schema.different)[:SHOWN]:
        console.print(f"  [red]✗[/red] {line}", highlight=False)
    if schema.extra:
        console.print(f"  only on the target (not a failure): {len(schema.extra)} object(s), e.g. {schema.extra[0]}",
                      highlight=False)
    differing = len(report.differing)
    console.print("[green]verify: no differences[/green]" if report.ok else
                  f"[red]verify: {differing} unit(s) with different rows, "
                  f"{len(schema.missing) + len(schema.different)} schema difference(s)[/red]")


def print_cutover(console: Console, result: dict[str, Any]) -> None:
    if result["recopied_units"]:
        console.print(f"re-copied after the switch: {', '.join(result['recopied_units'][:SHOWN])}", highlight=False)
    else:
        console.print("nothing changed on the source since the copy", highlight=False)
    if not result["ok"]:
        console.print("[red]cutover stopped: the target differs from the source (listed above). The source stays "
                      "read-only; `hashigo migrate db rollback` makes it writable again.[/red]")
        return
    console.print(f"[green]cutover done[/green] in {result['seconds']:.1f}s: the source is read-only "
                  f"({result['sessions_ended']} session(s) ended). Point the app at the target:", highlight=False)
    console.print(f"  {result['env']['set']}", highlight=False, soft_wrap=True)
    console.print(f"  (was {result['env']['was']}; `hashigo migrate db rollback` goes back)", highlight=False,
                  soft_wrap=True)


def print_rollback(console: Console, result: dict[str, Any]) -> None:
    console.print(f"[green]rollback done[/green]: default_transaction_read_only on the source is back to "
                  f"{result['restored_setting']} ({result['sessions_ended']} read-only session(s) ended). "
                  f"Point the app back at the source:", highlight=False)
    console.print(f"  {result['env']['set']}", highlight=False, soft_wrap=True)
