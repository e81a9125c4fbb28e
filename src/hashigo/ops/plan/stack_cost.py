"""Cost a whole stack: route traffic to its slots, pick the cheapest candidates that fit together."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hashigo.ops.plan.catalog import Catalog, Stack
from hashigo.ops.plan.catalog_schema import COMPONENTS, Component
from hashigo.ops.plan.costing import Context, EntryCost, Line, cost_entry, usd
from hashigo.ops.plan.demand import Demand, fmt
from hashigo.ops.plan.quantities import SlotTraffic

NEEDED_IN_EVERY_STACK = ("database", "cache", "storage", "frontend", "document_db", "ai")


@dataclass
class StackCost:
    stack: Stack
    choices: dict[str, EntryCost] = field(default_factory=dict)
    refused: dict[str, list[EntryCost]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not self.reasons

    @property
    def lines(self) -> list[Line]:
        return [line for component in COMPONENTS if component in self.choices
                for line in self.choices[component].lines]

    @property
    def monthly(self) -> float:
        return sum(choice.monthly for choice in self.choices.values())

    @property
    def warnings(self) -> list[str]:
        seen: dict[str, None] = {}
        for choice in self.choices.values():
            seen.update(dict.fromkeys(choice.warnings))
        return list(seen)

    def component_cost(self, component: str) -> float:
        choice = self.choices.get(component)
        return choice.monthly if choice else 0.0


def slot_traffic(stack: Stack, demand: Demand) -> dict[str, SlotTraffic]:
    """Which slot bills the API's and the files' egress, and which requests pass through the CDN."""
    egress: dict[str, list[tuple[float, str]]] = {}
    egress.setdefault(stack.api_egress_via, []).append((demand.api_egress_gb,
                                                        "API responses: " + demand.basis["api_egress_gb"]))
    egress.setdefault(stack.files_egress_via, []).append((demand.files_egress_gb,
                                                          "file downloads: " + demand.basis["files_egress_gb"]))
    requests: list[tuple[float, str]] = []
    if stack.api_egress_via == "cdn":
        requests.append((demand.requests_month, "API requests"))
    if stack.files_egress_via == "cdn":
        requests.append((demand.storage_reads_month, "file reads"))
    traffic = {}
    for component, flows in egress.items():
        flows = [(gb, why) for gb, why in flows if gb > 0]
        traffic[component] = SlotTraffic(sum(gb for gb, _ in flows), " + ".join(why for _, why in flows))
    if "cdn" in stack.slots:
        base = traffic.get("cdn", SlotTraffic())
        traffic["cdn"] = SlotTraffic(base.egress_gb, base.egress_basis, sum(n for n, _ in requests),
                                     " + ".join(f"{fmt(n)} {why}" for n, why in requests))
    return traffic


def needed_slots(stack: Stack, demand: Demand, traffic: dict[str, SlotTraffic]) -> tuple[list[Component], list[str]]:
    slots: list[Component] = []
    for component in COMPONENTS:
        if component not in stack.slots:
            continue
        carries = traffic.get(component, SlotTraffic())
        if component == "cdn":
            if carries.egress_gb > 0 or carries.requests > 0:
                slots.append(component)
        elif demand.needs(component) or carries.egress_gb > 0:
            slots.append(component)
    missing = [f"{stack.name}: has no {c.replace('_', ' ')}, and the app needs one"
               for c in NEEDED_IN_EVERY_STACK if demand.needs(c) and c not in stack.slots]
    return slots, missing


def evaluate_stack(stack: Stack, catalog: Catalog, demand: Demand, ctx: Context) -> StackCost:
    result = StackCost(stack)
    traffic = slot_traffic(stack, demand)
    slots, result.reasons = needed_slots(stack, demand, traffic)
    fitting: dict[str, list[EntryCost]] = {}
    for component in slots:
        costed = [cost_entry(catalog.entries[i], demand, ctx, traffic.get(component, SlotTraffic()))
                  for i in stack.slots[component]]
        fitting[component] = sorted((c for c in costed if c.fits), key=lambda c: c.monthly)
        result.refused[component] = [c for c in costed if not c.fits]
        if not fitting[component]:
            result.reasons += [r for c in costed for r in c.reasons]
    if result.reasons:
        return result
    best = _cheapest_combination(fitting)
    if best is None:
        result.reasons = [_requires_reason(fitting)]
        return result
    result.choices = best
    return result


def _coupled(costs: list[EntryCost]) -> bool:
    return any(c.entry.requires or (c.entry.credit and c.entry.credit.scope == "provider") for c in costs)


def _cheapest_combination(fitting: dict[str, list[EntryCost]]) -> dict[str, EntryCost] | None:
    """The cheapest pick per slot such that every `requires` is met; provider-wide credits included."""
    everything = [c for costs in fitting.values() for c in costs]
    coupled_providers = {c.entry.provider for c in everything if _coupled([c])}
    coupled_providers |= {c.entry.provider for c in everything
                          if any(c.entry.id in other.entry.requires for other in everything)}
    fixed = {k: v[0] for k, v in fitting.items() if not any(c.entry.provider in coupled_providers for c in v)}
    open_slots = [k for k in fitting if k not in fixed]
    best: dict[str, EntryCost] | None = None
    best_total = float("inf")
    for combo in itertools.product(*(fitting[k] for k in open_slots)):
        chosen = {**fixed, **dict(zip(open_slots, combo, strict=True))}
        ids = {c.entry.id for c in chosen.values()}
        if any(c.entry.requires and not ids & set(c.entry.requires) for c in chosen.values()):
            continue
        chosen = _with_provider_credits(chosen)
        total = sum(c.monthly for c in chosen.values())
        if total < best_total - 1e-9:
            best, best_total = chosen, total
    return best


def _with_provider_credits(chosen: dict[str, EntryCost]) -> dict[str, EntryCost]:
    out = dict(chosen)
    for component, cost in chosen.items():
        credit = cost.entry.credit
        if credit is None or credit.scope != "provider":
            continue
        usage = sum(line.cost for other in chosen.values() if other.entry.provider == cost.entry.provider
                    for line in other.lines if line.kind not in {"base", "credit"}
                    and (not credit.covers or line.kind in credit.covers))
        amount = min(credit.usd, usage)
        if amount <= 0:
            continue
        line = Line(component, cost.entry.id, "credit", f"included usage credit (up to {usd(credit.usd)})", 1,
                    "month", 0, -amount, 1, -amount, f"covers all {cost.entry.provider} usage in this stack",
                    cost.entry.source, cost.entry.unconfirmed, False)
        out[component] = EntryCost(cost.entry, cost.component, [], cost.warnings, [*cost.lines, line], cost.size,
                                   cost.instances)
    return out


def _requires_reason(fitting: dict[str, list[EntryCost]]) -> str:
    wants = sorted({f"{c.entry.label()} needs {' or '.join(c.entry.requires)}"
                    for costs in fitting.values() for c in costs if c.entry.requires})
    return "no combination of plans fits together: " + "; ".join(wants)
