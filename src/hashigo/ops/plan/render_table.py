"""The plan for people: rich tables (phase × component × monthly total, then every line item)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hashigo.ops.plan.catalog import Catalog, StaleSource
from hashigo.ops.plan.costing import Line, signed_usd, usd
from hashigo.ops.plan.demand import fmt
from hashigo.ops.plan.engine import PhaseResult
from hashigo.ops.plan.migration import Migration
from hashigo.ops.plan.reference import Comparison
from hashigo.ops.plan.report import Report
from hashigo.ops.plan.sweep import Sweep, describe_point

COMPONENT_TITLES = {"frontend": "frontend", "compute": "compute", "load_balancer": "load bal.",
                    "database": "database", "cache": "cache", "storage": "storage", "cdn": "CDN",
                    "document_db": "MongoDB", "ai": "AI"}


def print_report(console: Console, report: Report, detail: bool = True) -> None:
    plan = report.plan
    req = plan.requirements
    console.print(f"[bold]hashigo plan[/bold] — {req.app}, region {req.region}, "
                  f"{'commercial' if req.commercial else 'non-commercial'}; requirements: {plan.requirements_source}")
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    console.print(phase_table(report))
    if report.compare:
        for phase in plan.phases:
            console.print(side_by_side(phase))
    if detail:
        for phase in plan.phases:
            print_phase(console, phase)
    for migration in plan.migrations:
        print_migration(console, migration)
    if report.sweep is not None:
        console.print(sweep_table(report.sweep))
    for sentence in report.crossover_sentences():
        console.print(f"• {escape(sentence)}", highlight=False)
    if report.reference is not None:
        print_reference(console, report.reference)
    print_footer(console, report)


def phase_table(report: Report) -> Table:
    """Components down, phases across (it fits a terminal): each cell is that component's monthly cost."""
    phases = report.plan.phases
    table = Table(title="Phases (USD per month)", title_justify="left")
    table.add_column("", no_wrap=True)
    for phase in phases:
        table.add_column(f"{phase.spec.name}\n≤ {fmt(phase.mau)} MAU\n≈ {fmt(phase.demand.dau)} DAU",
                         justify="right", overflow="fold")
    table.add_row("stack", *[p.chosen.stack.id if p.chosen else "[red]none fits[/red]" for p in phases])
    for component in report.used_components():
        table.add_row(COMPONENT_TITLES[component],
                      *[usd(p.chosen.component_cost(component)) if p.chosen and component in p.chosen.choices
                        else "—" for p in phases])
    table.add_row("[bold]total[/bold]", *[f"[bold]{usd(p.chosen.monthly)}[/bold]" if p.chosen else "—"
                                          for p in phases])
    if any(p.spec.budget_usd is not None for p in phases):
        table.add_row("budget", *[_budget(p) for p in phases])
    return table


def side_by_side(phase: PhaseResult) -> Table:
    """The compared stacks in one phase: components down, stacks across."""
    costs = sorted([*phase.ranked, *phase.refused], key=lambda c: (not c.fits, c.monthly))
    table = Table(title=f"{phase.spec.name} (≤ {fmt(phase.mau)} MAU): stacks side by side, USD per month",
                  title_justify="left")
    table.add_column("", no_wrap=True)
    for cost in costs:
        table.add_column(cost.stack.id, justify="right", overflow="fold")
    used = [c for c in COMPONENT_TITLES if any(c in cost.choices for cost in costs)]
    for component in used:
        table.add_row(COMPONENT_TITLES[component], *[
            f"{usd(cost.component_cost(component))}\n[dim]{cost.choices[component].entry.id}[/dim]"
            if component in cost.choices else "—" for cost in costs])
    table.add_row("[bold]total[/bold]", *[f"[bold]{usd(cost.monthly)}[/bold]" if cost.fits
                                          else "[red]refused[/red]" for cost in costs])
    return table


def _budget(phase: PhaseResult) -> str:
    if phase.spec.budget_usd is None:
        return "—"
    text = usd(phase.spec.budget_usd)
    return f"[red]{text} (over)[/red]" if phase.over_budget else text


def source_cell(line: Line) -> str:
    mark = " [yellow]unconfirmed[/yellow]" if line.unconfirmed else ""
    override = " [cyan]override[/cyan]" if line.overridden else ""
    return f"{line.source.url} ({line.source.shown_date()}){mark}{override}"


def print_phase(console: Console, phase: PhaseResult) -> None:
    title = phase.spec.title or phase.spec.name
    if phase.chosen is None:
        console.print(f"\n[bold]{title}[/bold]: [red]no stack fits[/red]")
    else:
        console.print(f"\n[bold]{title}[/bold]: {phase.chosen.stack.name} — [bold]{usd(phase.chosen.monthly)}"
                      f"[/bold]/month ({phase.why_chosen})")
        lines = Table(show_header=True, header_style="dim", expand=True)
        lines.add_column("component", no_wrap=True)
        lines.add_column("item", overflow="fold", ratio=2)
        lines.add_column("quantity × price = cost", overflow="fold", ratio=3)
        lines.add_column("source", overflow="fold", ratio=3)
        for line in phase.chosen.lines:
            choice = phase.chosen.choices[line.component]
            item = f"{choice.entry.label()}: {line.item}"
            lines.add_row(line.component, item, line.formula(), source_cell(line))
        console.print(lines)
    ranking = Table(title=f"stacks for {phase.spec.name}", title_justify="left", show_header=True,
                    header_style="dim", expand=True)
    ranking.add_column("stack", no_wrap=True)
    ranking.add_column("monthly", justify="right", no_wrap=True)
    ranking.add_column("why not / notes", overflow="fold")
    for cost in phase.ranked:
        ranking.add_row(cost.stack.id, usd(cost.monthly), "chosen" if cost is phase.chosen else "")
    for cost in phase.refused:
        more = f" (+{len(cost.reasons) - 1} more)" if len(cost.reasons) > 1 else ""
        ranking.add_row(cost.stack.id, "refused", cost.reasons[0] + more)
    console.print(ranking)
    for warning in phase.warnings:
        console.print(f"  [yellow]![/yellow] {escape(warning)}", highlight=False)


def print_migration(console: Console, migration: Migration) -> None:
    console.print(f"\n[bold]{migration.from_phase} → {migration.to_phase}[/bold]: "
                  f"{migration.from_stack} → {migration.to_stack}; move when {migration.trigger}")
    if not migration.moves:
        console.print("  nothing moves" + (": " + "; ".join(s.detail for s in migration.steps if s.action == "resize")
                                           if any(s.action == "resize" for s in migration.steps) else ""))
        return
    for number, step in enumerate((s for s in migration.steps if s.action != "stays"), start=1):
        console.print(f"  {number}. {escape(f'[{step.component}]')} {escape(step.detail)}", highlight=False)
        for command in step.commands:
            console.print(f"       $ {command}", highlight=False)
        for env in step.env:
            console.print(f"       set {env}", highlight=False)


def sweep_table(sweep: Sweep) -> Table:
    table = Table(title=f"Monthly cost by users ({fmt(sweep.low)}..{fmt(sweep.high)} MAU)", title_justify="left")
    table.add_column("MAU", justify="right")
    for series in sweep.series:
        table.add_column(series.stack, justify="right")
    rows = len(sweep.series[0].points) if sweep.series else 0
    step = max(1, (rows - 1) // 10)
    for index in range(0, rows, step):
        table.add_row(fmt(sweep.series[0].points[index].mau),
                      *[describe_point(s.points[index]) for s in sweep.series])
    return table


def print_reference(console: Console, comparison: Comparison) -> None:
    console.print(f"\n[bold]Reference[/bold]: {escape(comparison.source)} — {escape(comparison.verdict())}",
                  highlight=False)
    for line in comparison.lines:
        reference = (f"reference {usd(line.reference_usd)} ({', '.join(line.labels)})"
                     if line.reference_usd is not None else "not in the reference")
        console.print(f"  [bold]{line.component}[/bold]: {escape(reference)} → plan {usd(line.plan_usd)}, "
                      f"difference {signed_usd(line.difference)}", highlight=False)
        for why in line.explanation:
            console.print(f"      · {escape(why)}", highlight=False)


def print_footer(console: Console, report: Report) -> None:
    plan = report.plan
    unconfirmed = report.unconfirmed_entries()
    if unconfirmed:
        console.print(f"\n[yellow]unconfirmed prices used:[/yellow] {', '.join(unconfirmed)} — put a quote in an "
                      "override file (hashigo-prices.yaml) to replace them")
    if plan.catalog.overridden:
        console.print(f"[cyan]overridden entries:[/cyan] {', '.join(sorted(plan.catalog.overridden))}")
    if plan.stale:
        entries = sorted({s.entry_id for s in plan.stale})
        console.print(f"[yellow]{len(entries)} catalog entries have prices read more than 180 days ago[/yellow]; "
                      "`hashigo plan catalog --stale` lists them")


def catalog_table(catalog: Catalog, stale: list[StaleSource], ids: list[str]) -> Table:
    table = Table(title="Price catalog", title_justify="left", expand=True)
    table.add_column("id", no_wrap=True)
    table.add_column("component", no_wrap=True)
    table.add_column("prices", overflow="fold", ratio=3)
    table.add_column("free / limits / restrictions", overflow="fold", ratio=3)
    table.add_column("regions", overflow="fold", ratio=2)
    table.add_column("source (read)", overflow="fold", ratio=3)
    stale_ids = {s.entry_id for s in stale}
    for entry_id in ids:
        entry = catalog.entries[entry_id]
        prices = ([f"{usd(entry.base_usd_per_month)}/month"] if entry.base_usd_per_month else [])
        prices += [f"{s.name}: " + (f"${s.usd_per_month:g}/mo" if s.usd_per_month is not None
                                    else f"${s.usd_per_hour or 0:g}/h") for s in entry.sizes]
        prices += [f"{m.unit}: ${m.price:g}" + (f"/{fmt(m.per)}" if m.per != 1 else "") for m in entry.meters]
        free = [f"{fmt(m.free)} {m.unit} free" for m in entry.meters if m.free]
        free += [f"≤ {fmt(limit.max)} {limit.unit} ({limit.consequence})" for limit in entry.limits]
        free += [r.text for r in entry.restrictions]
        marks = (" [yellow]unconfirmed[/yellow]" if entry.is_unconfirmed() else "") + (
            " [red]stale[/red]" if entry_id in stale_ids else "") + (
            " [cyan]override[/cyan]" if entry_id in catalog.overridden else "")
        table.add_row(entry_id + marks, entry.component, "\n".join(prices) or "—", "\n".join(free) or "—",
                      ", ".join(entry.regions), f"{entry.source.url} ({entry.source.shown_date()})")
    return table
