"""Requirements → phases, each with the stacks that fit ranked by monthly cost, and the stack chosen."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from hashigo.ops.plan.catalog import Catalog, StaleSource
from hashigo.ops.plan.costing import Context, usd
from hashigo.ops.plan.demand import Demand, demand_at, fmt
from hashigo.ops.plan.errors import PlanInputError
from hashigo.ops.plan.migration import Migration, migration_between
from hashigo.ops.plan.requirements import PhaseSpec, Requirements
from hashigo.ops.plan.stack_cost import StackCost, evaluate_stack


@dataclass
class PhaseResult:
    spec: PhaseSpec
    lower_mau: float
    mau: float
    demand: Demand
    context: Context
    ranked: list[StackCost]
    refused: list[StackCost]
    chosen: StackCost | None
    why_chosen: str
    warnings: list[str] = field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        budget = self.spec.budget_usd
        return budget is not None and self.chosen is not None and self.chosen.monthly > budget + 1e-9


@dataclass
class Plan:
    requirements: Requirements
    requirements_source: str
    phases: list[PhaseResult]
    migrations: list[Migration]
    stale: list[StaleSource]
    catalog: Catalog

    @property
    def complete(self) -> bool:
        return all(p.chosen is not None for p in self.phases)


def context_for(req: Requirements, catalog: Catalog, extra_must: Sequence[str] | None = None,
                commercial: bool | None = None, expansion: bool = False) -> Context:
    return Context(region=req.region, commercial=req.commercial if commercial is None else commercial,
                   must_have=frozenset([*req.must_have, *(extra_must or [])]),
                   expansion_regions=tuple(req.expansion.regions) if expansion else (),
                   overridden=frozenset(catalog.overridden))


def stacks_considered(req: Requirements, catalog: Catalog, only: list[str] | None = None) -> list[str]:
    wanted = only if only is not None else req.stacks
    if wanted is None:
        return list(catalog.stacks)
    unknown = [s for s in wanted if s not in catalog.stacks]
    if unknown:
        field_name = "--compare" if only is not None else "stacks"
        raise PlanInputError([f"{field_name}: unknown stack {', '.join(map(repr, unknown))}; accepted: "
                              f"{', '.join(catalog.stacks)}"])
    return list(wanted)


def rank(req: Requirements, catalog: Catalog, mau: float, ctx: Context,
         stack_ids: list[str]) -> tuple[Demand, list[StackCost], list[StackCost]]:
    demand = demand_at(req, mau, ha="ha" in ctx.must_have)
    costs = [evaluate_stack(catalog.stacks[s], catalog, demand, ctx) for s in stack_ids]
    ranked = sorted((c for c in costs if c.fits), key=lambda c: c.monthly)
    return demand, ranked, [c for c in costs if not c.fits]


def build_plan(req: Requirements, catalog: Catalog, today: date, source: str,
               compare: list[str] | None = None) -> Plan:
    stack_ids = stacks_considered(req, catalog, compare)
    specs = req.phase_specs()
    names = [p.name for p in specs]
    expand_from = names.index(req.expansion.from_phase) if req.expansion.from_phase else None
    phases: list[PhaseResult] = []
    previous: StackCost | None = None
    lower = 0.0
    for index, spec in enumerate(specs):
        mau = req.phase_mau(spec)
        expansion = bool(req.expansion.regions) and (expand_from is None or index >= expand_from)
        ctx = context_for(req, catalog, spec.must_have, spec.commercial, expansion)
        demand, ranked, refused = rank(req, catalog, mau, ctx, stack_ids)
        chosen, why = _choose(ranked, previous, req.plan.stay_within)
        phase = PhaseResult(spec, lower, mau, demand, ctx, ranked, refused, chosen, why)
        phase.warnings = _phase_warnings(phase)
        phases.append(phase)
        previous, lower = chosen or previous, mau
    migrations = [migration_between(a, b, req) for a, b in itertools.pairwise(phases)]
    return Plan(req, source, phases, migrations, catalog.stale(today), catalog)


def _choose(ranked: list[StackCost], previous: StackCost | None,
            stay_within: float) -> tuple[StackCost | None, str]:
    if not ranked:
        return None, "no stack fits this phase"
    cheapest = ranked[0]
    if previous is not None and previous.stack.id != cheapest.stack.id:
        staying = next((c for c in ranked if c.stack.id == previous.stack.id), None)
        if staying is not None and staying.monthly <= cheapest.monthly * (1 + stay_within) + 1e-9:
            return staying, (f"kept from the previous phase: {usd(staying.monthly)} is within "
                             f"{stay_within:.0%} of the cheapest ({cheapest.stack.id}, {usd(cheapest.monthly)}), "
                             f"and staying saves a move")
    runner = f"; next: {ranked[1].stack.id} at {usd(ranked[1].monthly)}" if len(ranked) > 1 else ""
    return cheapest, f"cheapest of {len(ranked)} stack(s) that fit{runner}"


def _phase_warnings(phase: PhaseResult) -> list[str]:
    found = []
    if phase.chosen is None:
        found.append(f"no stack fits phase {phase.spec.name} ({fmt(phase.mau)} MAU): see the refusals")
    elif phase.over_budget:
        found.append(f"phase {phase.spec.name}: {usd(phase.chosen.monthly)}/month is over the "
                     f"{usd(phase.spec.budget_usd or 0)} budget, and it is the cheapest stack that fits")
    if phase.chosen is not None:
        found += phase.chosen.warnings
    return found
