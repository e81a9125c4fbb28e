"""Cost one catalog entry for a demand: refuse it with reasons, or price it as explained line items."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hashigo.ops.plan.catalog_schema import JAPAN, Entry, MeterPrice, Size, Source
from hashigo.ops.plan.demand import HOURS_PER_MONTH, Demand, fmt
from hashigo.ops.plan.quantities import Quantities, SlotTraffic, quantities

REGIONAL = frozenset({"compute", "load_balancer", "database", "cache", "storage", "document_db"})
HA_COMPONENTS = frozenset({"compute", "load_balancer", "database", "cache", "storage", "document_db"})
COMPUTE_ONLY = frozenset({"container", "websocket", "autoscaling"})


def usd(value: float) -> str:
    if value != 0 and abs(value) < 0.01:
        return f"${value:.4f}"
    return f"-${abs(value):,.2f}" if value < 0 else f"${value:,.2f}"


def signed_usd(value: float) -> str:
    return f"+{usd(value)}" if value > 0 else usd(value)


def unit_price(price: float, per: float) -> str:
    if per == 1:
        return f"${price:g}"
    scale = {1_000: "1K", 10_000: "10K", 100_000: "100K", 1_000_000: "1M"}.get(int(per), fmt(per))
    return f"${price:g}/{scale}"


@dataclass(frozen=True)
class Line:
    component: str
    entry_id: str
    kind: str  # a meter name, or "size", "base", "credit"
    item: str
    quantity: float
    unit: str
    free: float
    unit_price: float
    per: float
    cost: float
    basis: str
    source: Source
    unconfirmed: bool
    overridden: bool

    def formula(self) -> str:
        if self.kind == "base":
            return f"plan fee {usd(self.cost)}/month"
        if self.kind == "credit":
            return f"included credit {usd(self.cost)}"
        amount = f"{fmt(self.quantity)} {self.unit}"
        if self.free > 0:
            billable = max(0.0, self.quantity - self.free)
            amount = f"({fmt(self.quantity)} − {fmt(self.free)} free = {fmt(billable)}) {self.unit}"
        return f"{amount} × {unit_price(self.unit_price, self.per)} = {usd(self.cost)}"

    def as_dict(self) -> dict[str, object]:
        return {"component": self.component, "entry": self.entry_id, "kind": self.kind, "item": self.item,
                "quantity": self.quantity, "unit": self.unit, "free": self.free, "unit_price": self.unit_price,
                "per": self.per, "cost": round(self.cost, 6), "formula": self.formula(), "basis": self.basis,
                "source": {"url": self.source.url, "read": self.source.read.isoformat(),
                           "precision": self.source.precision, "kind": self.source.kind, "note": self.source.note},
                "unconfirmed": self.unconfirmed, "override": self.overridden}


@dataclass
class EntryCost:
    entry: Entry
    component: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    size: str | None = None
    instances: int = 0

    @property
    def fits(self) -> bool:
        return not self.reasons

    @property
    def monthly(self) -> float:
        return sum(line.cost for line in self.lines)


@dataclass(frozen=True)
class Context:
    """What the phase demands beyond load: use, region, must-haves."""
    region: str
    commercial: bool
    must_have: frozenset[str]
    expansion_regions: tuple[str, ...] = ()
    overridden: frozenset[str] = frozenset()


def cost_entry(entry: Entry, demand: Demand, ctx: Context, traffic: SlotTraffic) -> EntryCost:
    result = EntryCost(entry, entry.component)
    result.reasons = refusals(entry, demand, ctx)
    result.warnings = notices(entry, demand, ctx)
    if result.reasons:
        return result
    sizes: list[Size | None] = list(entry.sizes) if entry.sizes else [None]
    # Hard limits first: "database 2.1 GB > 0.5 GB" says more than "no size fits".
    over = over_limits(entry, quantities(entry, demand, sizes[0], traffic)[0])
    if over:
        result.reasons = over
        return result
    best: EntryCost | None = None
    misfits: list[str] = []
    for size in sizes:
        misfit = size_misfit(entry, size, demand)
        if misfit:
            misfits.append(misfit)
            continue
        found, count = quantities(entry, demand, size, traffic)
        over = over_limits(entry, found)
        if over:
            result.reasons = over
            return result
        candidate = EntryCost(entry, entry.component, warnings=result.warnings, size=size.name if size else None,
                              instances=count, lines=price_lines(entry, found, size, count, ctx))
        if best is None or candidate.monthly < best.monthly - 1e-9:
            best = candidate
    if best is None:
        result.reasons = [f"{entry.label()}: no size fits ({misfits[-1]})"]
        return result
    best.warnings = best.warnings + headroom(entry, demand)
    return best


def refusals(entry: Entry, demand: Demand, ctx: Context) -> list[str]:
    name, component, reasons = entry.label(), entry.component, []
    for restriction in entry.restrictions:
        if restriction.kind == "non_commercial" and ctx.commercial:
            reasons.append(f"{name}: non-commercial use only, and the app is commercial ({restriction.text})")
    needed = set(ctx.must_have)
    if component == "compute" and demand.ws_peak > 0:
        needed.add("websocket")
    for capability in sorted(needed - {"japan_region", "region"}):
        if capability in COMPUTE_ONLY and component != "compute":
            continue
        if capability == "ha" and component not in HA_COMPONENTS:
            continue
        if capability not in entry.capabilities:
            reasons.append(f"{name}: {_missing(capability, demand)}")
    if component in REGIONAL:
        offered = ", ".join(entry.regions)
        if "japan_region" in needed and "global" not in entry.regions and not JAPAN & set(entry.regions):
            reasons.append(f"{name}: no Japan region (offers {offered})")
        if "region" in needed and not entry.in_region(ctx.region):
            reasons.append(f"{name}: not offered in {ctx.region} (offers {offered})")
    if component == "compute":
        missing = [r for r in ctx.expansion_regions if not entry.in_region(r)]
        if missing:
            reasons.append(f"{name}: no region in {', '.join(missing)} for the planned expansion")
    if component == "ai":
        reasons += _ai_refusals(entry, demand)
    return reasons


def _missing(capability: str, demand: Demand) -> str:
    return {
        "cli": "cannot be operated from a command line (must-have: cli)",
        "container": "does not run the app's container as a long-running server (must-have: container)",
        "websocket": (f"no long-lived WebSockets, and the app holds {fmt(demand.ws_peak)} at peak"
                      if demand.ws_peak > 0 else "no long-lived WebSockets (must-have: websocket)"),
        "autoscaling": "no autoscaling (must-have: autoscaling)",
        "ha": "no redundant deployment across zones (must-have: ha)",
    }.get(capability, f"lacks {capability}")


def _ai_refusals(entry: Entry, demand: Demand) -> list[str]:
    name, gpu = entry.label(), "gpu" in entry.capabilities
    if demand.ai_via == "gpu" and not gpu:
        return [f"{name}: a hosted API, and ai.via is gpu"]
    if demand.ai_via == "api" and gpu:
        return [f"{name}: GPU hosting, and ai.via is api"]
    if demand.ai_mode == "realtime" and entry.latency_ms and entry.latency_ms > demand.latency_budget_ms:
        return [f"{name}: typical response {fmt(entry.latency_ms)} ms > {fmt(demand.latency_budget_ms)} ms budget"]
    return []


def notices(entry: Entry, demand: Demand, ctx: Context) -> list[str]:
    name = entry.label()
    found = [f"{name}: {r.text}" for r in entry.restrictions if r.kind != "non_commercial" or not ctx.commercial]
    if entry.price_region and entry.component in REGIONAL and entry.price_region != ctx.region \
            and entry.in_region(ctx.region):
        found.append(f"{name}: priced for {entry.price_region}; the {ctx.region} price may differ")
    if entry.component in REGIONAL and not entry.in_region(ctx.region) and "global" not in entry.regions:
        found.append(f"{name}: runs outside {ctx.region} (offers {', '.join(entry.regions)}): expect more latency")
    return found


def size_misfit(entry: Entry, size: Size | None, demand: Demand) -> str | None:
    if size is None:
        return None
    c = entry.component
    if c == "compute" and size.memory_gb + 1e-9 < demand.instance_memory_gb:
        return f"{size.name} has {fmt(size.memory_gb)} GB, an instance needs {fmt(demand.instance_memory_gb)} GB"
    if c == "database":
        if size.memory_gb + 1e-9 < demand.db_memory_gb:
            return f"{size.name} has {fmt(size.memory_gb)} GB, the database needs {fmt(demand.db_memory_gb)} GB"
        if size.sustained_vcpu + 1e-9 < demand.db_vcpu_peak:
            return (f"{size.name} sustains {fmt(size.sustained_vcpu)} vCPU, the database needs "
                    f"{fmt(demand.db_vcpu_peak)} at peak")
    if c == "document_db" and size.storage_gb is not None and size.storage_gb + 1e-9 < demand.document_gb:
        return f"{size.name} holds {fmt(size.storage_gb)} GB, the documents need {fmt(demand.document_gb)} GB"
    return None


QUANTITY_NAMES = {
    "database_gb": "database", "storage_gb": "storage", "egress_gb": "egress", "cache_memory_gb": "cache memory",
    "cache_commands": "cache commands", "cu_hours": "compute", "instance_hours": "instance time",
    "requests_per_day": "requests", "cpu_ms_per_request": "CPU time per request", "document_gb": "documents",
    "frontend_egress_gb": "frontend transfer",
}


def over_limits(entry: Entry, found: Quantities) -> list[str]:
    reasons = []
    for limit in entry.limits:
        quantity = found.get(limit.quantity)
        if quantity is not None and quantity.value > limit.max + 1e-9:
            what = QUANTITY_NAMES.get(limit.quantity, limit.quantity.replace("_", " "))
            reasons.append(f"{entry.label()}: {what} {fmt(quantity.value)} {limit.unit} > {fmt(limit.max)} "
                           f"{limit.unit} limit ({limit.consequence})")
    return reasons


def headroom(entry: Entry, demand: Demand) -> list[str]:
    """How soon stated growth reaches a hard limit that the current size still fits under."""
    growth = {"database_gb": (demand.db_gb, demand.db_growth_gb), "storage_gb": (demand.storage_gb,
                                                                                 demand.storage_growth_gb)}
    found = []
    for limit in entry.limits:
        now, per_month = growth.get(limit.quantity, (0.0, 0.0))
        if per_month > 0 and now <= limit.max:
            months = (limit.max - now) / per_month
            if months < 12:
                what = QUANTITY_NAMES.get(limit.quantity, limit.quantity)
                found.append(f"{entry.label()}: {what} reaches the {fmt(limit.max)} "
                             f"{limit.unit} limit in ~{months:.0f} months at +{fmt(per_month)} GB/month")
    return found


def price_lines(entry: Entry, found: Quantities, size: Size | None, count: int, ctx: Context) -> list[Line]:
    overridden = entry.id in ctx.overridden
    lines: list[Line] = []

    def line(kind: str, item: str, qty: float, unit: str, free: float, price: float, per: float, cost: float,
             basis: str, source: Source | None, unconfirmed: bool | None) -> None:
        lines.append(Line(entry.component, entry.id, kind, item, qty, unit, free, price, per, cost, basis,
                          source or entry.source, entry.unconfirmed if unconfirmed is None else unconfirmed,
                          overridden))

    if entry.base_usd_per_month:
        line("base", f"{entry.plan} plan fee", 1, "month", 0, entry.base_usd_per_month, 1,
             entry.base_usd_per_month, "fixed monthly fee", None, None)
    if size is not None and count:
        hourly = size.usd_per_hour is not None
        qty = count * HOURS_PER_MONTH if hourly else count
        price = (size.usd_per_hour if hourly else size.usd_per_month) or 0.0
        spec = f"{fmt(size.vcpu)} vCPU, {fmt(size.memory_gb)} GB" if size.vcpu else f"{fmt(size.memory_gb)} GB"
        basis = found["instance_months"].basis if "instance_months" in found else _nodes_basis(entry, count)
        line("size", f"{size.name} ({spec})", qty, "instance-hours" if hourly else "instance-months", 0, price, 1,
             qty * price, basis + (" × 730 h" if hourly else ""), size.source, size.unconfirmed)
    for meter in entry.meters:
        quantity = found.get(meter.meter)
        if quantity is None or quantity.value <= 0:
            continue
        for item, qty, free, price, cost in _meter_costs(meter, quantity.value):
            line(meter.meter, item, qty, meter.unit, free, price, meter.per, cost,
                 quantity.basis + (f"; {meter.note}" if meter.note else ""), meter.source, meter.unconfirmed)
    if entry.credit is not None and entry.credit.scope == "entry":
        covered = [x.cost for x in lines if x.kind not in {"base", "credit"}
                   and (not entry.credit.covers or x.kind in entry.credit.covers)]
        credit = min(entry.credit.usd, sum(covered))
        if credit > 0:
            line("credit", f"included usage credit (up to {usd(entry.credit.usd)})", 1, "month", 0, -credit, 1,
                 -credit, "covers " + (", ".join(entry.credit.covers) or "all usage"), None, None)
    return lines


def _nodes_basis(entry: Entry, count: int) -> str:
    if entry.component == "cache" and count > 1:
        return f"{count} node(s): enough shards for the cache memory, × 2 if the phase needs HA"
    return f"{count} node(s)" + (" (primary + standby for HA)" if count == 2 else "")


def _meter_costs(meter: MeterPrice, quantity: float) -> list[tuple[str, float, float, float, float]]:
    """(item, quantity, free, unit price, cost) per tier used; the free allowance comes off the first."""
    billable = max(0.0, quantity - meter.free)
    name = meter.meter.replace("_", " ")
    if not meter.tiers:
        cost = billable * meter.price / meter.per
        if meter.cap_usd is not None and cost > meter.cap_usd:
            cost = meter.cap_usd
        return [(name + (f" (capped at {usd(meter.cap_usd)})" if meter.cap_usd is not None else ""),
                 quantity, meter.free, meter.price, cost)]
    # Tier bounds count all units used in the month; the free allowance is used up first.
    parts, start = [], 0.0
    for index, tier in enumerate(meter.tiers):
        end = math.inf if tier.up_to is None else tier.up_to
        portion = max(0.0, min(quantity, end) - max(start, meter.free))
        if portion > 0 or index == 0:
            label = f"{name} (tier {fmt(start)}-{'' if end == math.inf else fmt(end)})"
            free = min(meter.free, end) if index == 0 else 0.0
            shown = min(quantity, end) if index == 0 else portion
            parts.append((label, shown, free, tier.price, portion * tier.price / meter.per))
        start = end
        if quantity <= start:
            break
    return parts
