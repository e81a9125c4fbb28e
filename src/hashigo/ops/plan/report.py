"""One report object for every output format: the plan, an optional sweep and reference comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hashigo.ops.plan.catalog_schema import COMPONENTS
from hashigo.ops.plan.engine import PhaseResult, Plan
from hashigo.ops.plan.reference import Comparison
from hashigo.ops.plan.stack_cost import StackCost
from hashigo.ops.plan.sweep import Sweep, fit_limits

FORMAT_VERSION = 1


@dataclass
class Report:
    plan: Plan
    sweep: Sweep | None = None
    reference: Comparison | None = None
    notes: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()

    def used_components(self) -> list[str]:
        used = {c for p in self.plan.phases if p.chosen for c in p.chosen.choices}
        return [c for c in COMPONENTS if c in used]

    def unconfirmed_entries(self) -> list[str]:
        seen: dict[str, None] = {}
        for phase in self.plan.phases:
            for line in phase.chosen.lines if phase.chosen else []:
                if line.unconfirmed:
                    seen[line.entry_id] = None
        return list(seen)

    def crossover_sentences(self) -> list[str]:
        if self.sweep is None:
            return []
        return [c.sentence() for c in self.sweep.crossovers] + [
            text for series in self.sweep.series for text in fit_limits(series)]


def stack_summary(cost: StackCost) -> dict[str, Any]:
    return {"stack": cost.stack.id, "name": cost.stack.name, "seeds": cost.stack.seeds,
            "monthly_usd": round(cost.monthly, 6) if cost.fits else None,
            "components": {c: round(choice.monthly, 6) for c, choice in cost.choices.items()},
            "reasons": cost.reasons}


def phase_dict(phase: PhaseResult) -> dict[str, Any]:
    chosen = phase.chosen
    d = phase.demand
    return {
        "name": phase.spec.name, "title": phase.spec.title, "from_mau": round(phase.lower_mau),
        "to_mau": round(phase.mau), "dau": round(d.dau), "budget_usd": phase.spec.budget_usd,
        "over_budget": phase.over_budget, "must_have": sorted(phase.context.must_have),
        "commercial": phase.context.commercial, "expansion_regions": list(phase.context.expansion_regions),
        "chosen": chosen.stack.id if chosen else None, "why": phase.why_chosen,
        "monthly_usd": round(chosen.monthly, 6) if chosen else None,
        "components": [{"component": c, "entry": choice.entry.id, "label": choice.entry.label(),
                        "size": choice.size, "instances": choice.instances, "monthly_usd": round(choice.monthly, 6)}
                       for c, choice in (chosen.choices.items() if chosen else [])],
        "lines": [line.as_dict() for line in chosen.lines] if chosen else [],
        "ranked": [stack_summary(c) for c in phase.ranked],
        "refused": [stack_summary(c) for c in phase.refused],
        "warnings": phase.warnings,
        "usage": {"requests_per_month": round(d.requests_month), "average_rps": d.avg_rps, "peak_rps": d.peak_rps,
                  "busy_vcpu_peak": d.busy_vcpu_peak, "websockets_peak": d.ws_peak, "database_gb": d.db_gb,
                  "cache_memory_gb": d.cache_memory_gb, "storage_gb": d.storage_gb,
                  "api_egress_gb": d.api_egress_gb, "files_egress_gb": d.files_egress_gb, "ha": d.ha},
    }


def as_dict(report: Report) -> dict[str, Any]:
    plan = report.plan
    sweep = report.sweep
    return {
        "version": FORMAT_VERSION,
        "app": plan.requirements.app,
        "region": plan.requirements.region,
        "requirements_source": plan.requirements_source,
        "requirements": plan.requirements.model_dump(mode="json"),
        "notes": list(report.notes),
        "complete": plan.complete,
        "phases": [phase_dict(p) for p in plan.phases],
        "migrations": [m.as_dict() for m in plan.migrations],
        "sweep": None if sweep is None else {
            "low_mau": sweep.low, "high_mau": sweep.high,
            "series": [{"stack": s.stack, "name": s.name,
                        "points": [{"mau": round(p.mau), "monthly_usd": None if p.monthly is None
                                    else round(p.monthly, 6), "reason": p.reason} for p in s.points]}
                       for s in sweep.series],
            "crossovers": [c.as_dict() for c in sweep.crossovers],
            "fit_limits": [t for s in sweep.series for t in fit_limits(s)],
        },
        "reference": report.reference.as_dict() if report.reference else None,
        "overrides": sorted(plan.catalog.overridden),
        "unconfirmed_entries": report.unconfirmed_entries(),
        "stale": [{"entry": s.entry_id, "what": s.what, "read": s.source.read.isoformat(),
                   "age_days": s.age_days, "url": s.source.url} for s in plan.stale],
    }


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False)
