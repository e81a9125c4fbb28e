"""Render doctor results for people (rich tables) and for scripts (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from hashigo.ops.doctor.checks import CheckResult, ConfigRow


def as_json(rows: list[ConfigRow], results: list[CheckResult]) -> str:
    return json.dumps({
        "ok": all(r.ok for r in results),
        "configuration": [asdict(row) for row in rows],
        "checks": [r.as_dict() for r in results],
    }, indent=2, ensure_ascii=False)


def print_report(console: Console, rows: list[ConfigRow], results: list[CheckResult]) -> None:
    config = Table(title="Configuration", title_justify="left")
    for column in ("setting", "adapter", "value", "source"):
        config.add_column(column)
    for row in rows:
        config.add_row(row.setting, row.adapter, row.value, row.source)
    console.print(config)

    checks = Table(title="Checks", title_justify="left")
    for column in ("check", "status", "detail", "time"):
        checks.add_column(column)
    for result in results:
        status = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
        checks.add_row(result.name, status, result.detail, f"{result.seconds * 1000:.0f} ms")
    console.print(checks)
    for result in results:
        if not result.ok and result.hint:
            console.print(f"[red]✗[/red] {result.name}: {result.hint}")
    failed = [r.name for r in results if not r.ok]
    console.print("[green]all checks passed[/green]" if not failed else f"[red]failed: {', '.join(failed)}[/red]")
