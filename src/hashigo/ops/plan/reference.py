"""Compare a hand-made estimate (a seed's cost table) with the plan's figures, line by line."""

from __future__ import annotations

from dataclasses import dataclass, field

from hashigo.ops.plan.catalog import Catalog
from hashigo.ops.plan.catalog_schema import COMPONENTS
from hashigo.ops.plan.costing import Line, usd
from hashigo.ops.plan.demand import demand_at
from hashigo.ops.plan.engine import context_for
from hashigo.ops.plan.errors import PlanInputError
from hashigo.ops.plan.requirements import Requirements
from hashigo.ops.plan.stack_cost import StackCost, evaluate_stack


@dataclass(frozen=True)
class ComparedLine:
    component: str
    labels: tuple[str, ...]
    reference_usd: float | None
    plan_usd: float
    explanation: tuple[str, ...]

    @property
    def difference(self) -> float:
        return self.plan_usd - (self.reference_usd or 0.0)

    def as_dict(self) -> dict[str, object]:
        return {"component": self.component, "reference_labels": list(self.labels),
                "reference_usd": self.reference_usd, "plan_usd": round(self.plan_usd, 6),
                "difference_usd": round(self.difference, 6), "explanation": list(self.explanation)}


@dataclass
class Comparison:
    source: str
    stack: str
    mau: float
    reference_total: float
    low: float
    high: float
    plan: StackCost
    lines: list[ComparedLine] = field(default_factory=list)

    @property
    def plan_total(self) -> float:
        return self.plan.monthly if self.plan.fits else 0.0

    @property
    def in_range(self) -> bool:
        return self.plan.fits and self.low - 1e-9 <= self.plan_total <= self.high + 1e-9

    def verdict(self) -> str:
        if not self.plan.fits:
            return f"the {self.stack} stack does not fit these requirements: " + "; ".join(self.plan.reasons)
        where = "within" if self.in_range else "outside"
        return (f"plan {usd(self.plan_total)}/month vs reference {usd(self.reference_total)} "
                f"(range {usd(self.low)}-{usd(self.high)}): {where} the range"
                + ("" if self.in_range else "; the lines below explain each difference"))

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "stack": self.stack, "mau": self.mau,
                "reference_total_usd": self.reference_total, "range_usd": [self.low, self.high],
                "plan_total_usd": round(self.plan_total, 6), "in_range": self.in_range, "verdict": self.verdict(),
                "refused": self.plan.reasons, "lines": [line.as_dict() for line in self.lines]}


def compare_reference(req: Requirements, catalog: Catalog) -> Comparison | None:
    ref = req.reference
    if ref is None:
        return None
    if ref.stack not in catalog.stacks:
        raise PlanInputError([f"reference.stack: unknown stack {ref.stack!r}; accepted: {', '.join(catalog.stacks)}"])
    mau = ref.mau or req.users.mau
    ctx = context_for(req, catalog)
    cost = evaluate_stack(catalog.stacks[ref.stack], catalog, demand_at(req, mau), ctx)
    low = ref.low_usd if ref.low_usd is not None else ref.total_usd * (1 - ref.tolerance)
    high = ref.high_usd if ref.high_usd is not None else ref.total_usd * (1 + ref.tolerance)
    result = Comparison(ref.source, ref.stack, mau, ref.total_usd, low, high, cost)
    if cost.fits:
        result.lines = _lines(req, cost)
    return result


def _lines(req: Requirements, cost: StackCost) -> list[ComparedLine]:
    assert req.reference is not None
    by_component: dict[str, list[tuple[str, float, str | None]]] = {}
    for line in req.reference.lines:
        by_component.setdefault(line.component, []).append((line.label, line.usd, line.note))
    out = []
    for component in COMPONENTS:
        ours = cost.choices.get(component)
        theirs = by_component.get(component)
        if ours is None and theirs is None:
            continue
        plan_usd = ours.monthly if ours else 0.0
        explanation = [f"{line.item}: {line.formula()} ({_cite(line)})" for line in (ours.lines if ours else [])]
        if theirs is None:
            why = f"; the plan has it because: {ours.entry.notes}" if ours and ours.entry.notes else ""
            explanation.append("not in the reference estimate" + why)
        elif ours is None:
            explanation.append("the plan has no such component for these requirements")
        explanation += [f"reference note: {note}" for _, _, note in theirs or [] if note]
        reference = sum(usd_ for _, usd_, _ in theirs) if theirs else None
        labels = tuple(label for label, _, _ in theirs or [])
        out.append(ComparedLine(component, labels, reference, plan_usd, tuple(explanation)))
    return out


def _cite(line: Line) -> str:
    mark = ", unconfirmed" if line.unconfirmed else ""
    return f"{line.source.url}, read {line.source.shown_date()}{mark}"
