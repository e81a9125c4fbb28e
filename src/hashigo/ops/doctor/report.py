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
    config = Table(title="Configuration", title_justify="left", expand=True)
    config.add_column("setting", no_wrap=True)
    # Fold rather than cut with "…": a truncated URL would hide what is configured.
    config.add_column("adapter", overflow="fold", ratio=2)
    config.add_column("value", overflow="fold", ratio=4)
    config.add_column("source", overflow="fold", ratio=2)
    for row in rows:
        config.add_row(row.setting, row.adapter, row.value, row.source)
    console.print(config)

    checks = Table(title="Checks", title_justify="left", expand=True)
    checks.add_column("check", no_wrap=True)
    checks.add_column("status", no_wrap=True)
    checks.add_column("detail", overflow="fold", ratio=1)
    checks.add_column("time", no_wrap=True, justify="right")
    for result in results:
        status = "[green]ok[/green]" if result.ok else "[red]FAIL[/red]"
        checks.add_row(result.name, status, result.detail, f"{result.seconds * 1000:.0f} ms")
    console.print(checks)
    for result in results:
        if not result.ok and result.hint:
            console.print(f"[red]✗[/red] {result.name}: {result.hint}")
    failed = [r.name for r in results if not r.ok]
    console.print("[green]all checks passed[/green]" if not failed else f"[red]failed: {', '.join(failed)}[/red]")
