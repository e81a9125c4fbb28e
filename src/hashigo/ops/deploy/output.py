"""Tables and JSON for `hashigo deploy render|validate|diff`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from hashigo.ops.deploy.pipeline import Rendered
    from hashigo.ops.deploy.validate import Report
    from hashigo.ops.deploy.write import WriteResult

_STYLE = {"ok": "green", "failed": "red", "not checked": "yellow"}


def print_validation(out: Console, report: Report, written: WriteResult | None = None) -> None:
    table = Table(title=f"hashigo deploy validate {report.root}")
    table.add_column("file")
    if written is not None:
        table.add_column("written")
    else:
        table.add_column("checks")
    table.add_column("result")
    for f in report.files:
        row = [f.path, written.status(f.path) if written is not None else ", ".join(f.checks) or "—"]
        style = _STYLE[f.status]
        table.add_row(*row, f"[{style}]{f.status}[/{style}]")
    out.print(table)
    for f in report.files:
        for finding in f.findings:
            colour = {"error": "red", "warning": "yellow", "note": "dim"}[finding.level]
            out.print(f"[{colour}]{finding.level}[/{colour}] {f.path} ({finding.check}): {finding.message}",
                      highlight=False, soft_wrap=True)
    failed = sum(1 for f in report.files if f.errors)
    summary = (f"[red]{failed} of {len(report.files)} files failed[/red]" if failed
               else f"[green]all {len(report.files)} files passed their checks[/green]")
    out.print(summary)


def print_render(out: Console, err: Console, rendered: Rendered, written: WriteResult, report: Report,
                 folder: Path) -> None:
    choices = Table(title="choices")
    for column in ("target", "region", "instances", "size", "from"):
        choices.add_column(column)
    for cfg in rendered.configs:
        choices.add_row(cfg.target, f"{cfg.region} ({cfg.region_code})",
                        f"{cfg.compute.min_instances}–{cfg.compute.max_instances}",
                        f"{cfg.compute.vcpu:g} vCPU, {cfg.compute.memory_gb:g} GB", cfg.source)
    out.print(choices)
    print_validation(out, report, written)
    for warning in rendered.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    out.print(f"wrote {len(written.created)} new and {len(written.updated)} changed file(s) to {folder}; "
              f"{folder / 'README.md'} says how to apply them", highlight=False)


def render_json(rendered: Rendered, written: WriteResult, report: Report, folder: Path) -> dict[str, Any]:
    return {
        "out": str(folder),
        "plan": rendered.plan.source if rendered.plan else None,
        "targets": [{"target": c.target, "env": c.env, "region": c.region, "region_code": c.region_code,
                     "phase": c.phase, "source": c.source, "min_instances": c.compute.min_instances,
                     "max_instances": c.compute.max_instances, "vcpu": c.compute.vcpu, "memory_gb": c.compute.memory_gb,
                     "websocket": c.websocket,
                     "database": {"min_acu": c.database.min_acu, "max_acu": c.database.max_acu,
                                  "multi_az": c.database.multi_az, "backup_days": c.database.backup_days},
                     "cache": {"node_type": c.cache.node_type, "nodes": c.cache.nodes}} for c in rendered.configs],
        "files": {"created": written.created, "updated": written.updated, "unchanged": written.unchanged},
        "warnings": rendered.warnings,
        "validation": report.as_dict(),
    }


def print_diff(out: Console, result: dict[str, Any]) -> None:
    table = Table(title=f"{result['from']} → {result['to']} ({result['plan']})")
    for column in ("", result["from"], result["to"]):
        table.add_column(column)
    for row in result["rows"]:
        mark = "[bold yellow]" if row["changed"] else ""
        table.add_row(row["aspect"], row["from"], f"{mark}{row['to']}{'[/bold yellow]' if mark else ''}")
    out.print(table)
    files = result["files"]
    for label, names in (("files added", files["added"]), ("files removed", files["removed"])):
        if names:
            out.print(f"{label} ({len(names)}): " + ", ".join(names[:12]) + (" …" if len(names) > 12 else ""),
                      highlight=False)
    if result["steps"]:
        steps = Table(title="migration steps (from the plan)")
        for column in ("phases", "component", "action", "commands (details: --json)"):
            steps.add_column(column)
        for step in result["steps"]:
            steps.add_row(step["phases"], step["component"], step["action"], "\n".join(step.get("commands") or []))
        out.print(steps)
