"""From files and flags to a Report: find the requirements, apply overrides, plan, sweep, compare."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from hashigo.ops.plan.catalog import DEFAULT_OVERRIDE_FILE, Catalog, load_catalog
from hashigo.ops.plan.costing import Context
from hashigo.ops.plan.demand import fmt
from hashigo.ops.plan.engine import Plan, build_plan, context_for, stacks_considered
from hashigo.ops.plan.errors import PlanInputError, load_yaml_mapping
from hashigo.ops.plan.reference import compare_reference
from hashigo.ops.plan.report import Report
from hashigo.ops.plan.requirements import (
    DEFAULT_FILE,
    PhaseSpec,
    Requirements,
    apply_overrides,
    load_requirements,
    parse_requirements,
)
from hashigo.ops.plan.sweep import parse_users, sweep

EXAMPLES = ("seed003-aws", "seed003-gcp", "seed002")


@dataclass
class PlanRequest:
    requirements: Path | None = None
    prices: Path | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    users: str | None = None
    compare: list[str] | None = None
    chart: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    today: date = field(default_factory=date.today)


def template_text(example: str | None = None) -> str:
    data = resources.files("hashigo").joinpath("data", "plan")
    if example is None:
        return data.joinpath("requirements.yaml").read_text(encoding="utf-8")
    if example not in EXAMPLES:
        raise PlanInputError([f"--example: unknown example {example!r}; accepted: {', '.join(EXAMPLES)}"])
    return data.joinpath("examples", f"{example}.yaml").read_text(encoding="utf-8")


def resolve_requirements(request: PlanRequest) -> tuple[Requirements, str, list[str]]:
    """The requirements file given, else ./hashigo-plan.yaml, else the defaults (and a note saying so)."""
    notes: list[str] = []
    path, shown = request.requirements, str(request.requirements)
    if path is None and (request.cwd / DEFAULT_FILE).is_file():
        path, shown = request.cwd / DEFAULT_FILE, DEFAULT_FILE
    if path is not None:
        req, source = load_requirements(path, shown), shown
    else:
        req = parse_requirements(load_yaml_mapping("built-in defaults", template_text()), "built-in defaults")
        source = "built-in defaults"
        notes.append(f"no {DEFAULT_FILE} here, so the plan uses the built-in defaults (a commercial Tokyo app, "
                     f"{fmt(req.users.mau)} MAU); `hashigo plan init` writes them to {DEFAULT_FILE} for you to edit")
    if request.flags:
        req = apply_overrides(req, request.flags, "flags")
    return req, source, notes


def resolve_catalog(request: PlanRequest) -> Catalog:
    if request.prices is None and (request.cwd / DEFAULT_OVERRIDE_FILE).is_file():
        return load_catalog(request.cwd / DEFAULT_OVERRIDE_FILE, DEFAULT_OVERRIDE_FILE)
    return load_catalog(request.prices)


def make_report(request: PlanRequest, progress: Callable[[str], None] | None = None) -> Report:
    req, source, notes = resolve_requirements(request)
    catalog = resolve_catalog(request)
    if request.compare is not None:
        stacks_considered(req, catalog, request.compare)
    low = high = None
    if request.users is not None:
        low, high = parse_users(request.users)
        if low == high:
            req = req.model_copy(update={"phases": [PhaseSpec(name=f"at-{fmt(low).replace(',', '')}",
                                                              title=f"At {fmt(low)} MAU", up_to_mau=low)]})
    plan = build_plan(req, catalog, request.today, source, request.compare)
    report = Report(plan, notes=tuple(notes), reference=compare_reference(req, catalog),
                    compare=tuple(request.compare or ()))
    if (low is not None and high is not None and high > low) or request.chart:
        if low is None or high is None or high <= low:
            low, high = default_range(plan)
        report.sweep = sweep(req, catalog, chart_stacks(plan, request.compare), low, high,
                             phase_context(plan), progress=progress)
    return report


def default_range(plan: Plan) -> tuple[float, float]:
    first, last = plan.phases[0].mau, plan.phases[-1].mau
    low = 10 ** math.floor(math.log10(max(first / 5, 1)))
    return low, max(last, low * 10)


def chart_stacks(plan: Plan, compare: list[str] | None) -> list[str]:
    """The compared stacks; by default the chosen ones, topped up with the best others to at least three."""
    if compare:
        return list(compare)
    chosen = list(dict.fromkeys(p.chosen.stack.id for p in plan.phases if p.chosen))
    for phase in reversed(plan.phases):
        for cost in phase.ranked:
            if len(chosen) >= 3:
                return chosen
            if cost.stack.id not in chosen:
                chosen.append(cost.stack.id)
    return chosen or list(plan.catalog.stacks)[:3]


def phase_context(plan: Plan) -> Callable[[float], Context]:
    """Each user count gets the context of the phase it falls in (HA appears where the plan adds it)."""
    bounds = [(p.mau, p.context) for p in plan.phases]

    def context_at(mau: float) -> Context:
        for bound, ctx in bounds:
            if mau <= bound * (1 + 1e-9):
                return ctx
        return bounds[-1][1] if bounds else context_for(plan.requirements, plan.catalog)
    return context_at
