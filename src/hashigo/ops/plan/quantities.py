"""Demand → billed quantities of one catalog entry (vCPU-hours, ACU-hours, GB-months, requests, egress...).

Each quantity carries its basis, so every line of a plan can say where its number came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hashigo.ops.plan.catalog_schema import Entry, Size
from hashigo.ops.plan.demand import DAYS_PER_MONTH, HOURS_PER_MONTH, Demand, fmt, instances_for


@dataclass(frozen=True)
class Quantity:
    value: float
    basis: str


@dataclass(frozen=True)
class SlotTraffic:
    """What a stack routes through this slot besides its own load: egress it bills, requests it serves."""
    egress_gb: float = 0.0
    egress_basis: str = ""
    requests: float = 0.0
    requests_basis: str = ""


Quantities = dict[str, Quantity]


def quantities(entry: Entry, demand: Demand, size: Size | None, traffic: SlotTraffic) -> tuple[Quantities, int]:
    """The quantities `entry` bills at `demand`, and how many instances/nodes that is (0: not instance-based)."""
    handler = {
        "compute": _compute, "load_balancer": _load_balancer, "database": _database, "cache": _cache,
        "storage": _storage, "cdn": _cdn, "frontend": _frontend, "document_db": _document, "ai": _ai,
    }[entry.component]
    found, count = handler(entry, demand, size, traffic)
    if traffic.egress_gb > 0 and "egress_gb" not in found:
        found["egress_gb"] = Quantity(traffic.egress_gb, traffic.egress_basis)
    return found, count


def _redundant(entry: Entry, demand: Demand) -> int:
    """A second node/instance in another zone when the phase needs HA and the price does not include it."""
    return 2 if demand.ha and not entry.ha_included else 1


def _compute(e: Entry, d: Demand, size: Size | None, _: SlotTraffic) -> tuple[Quantities, int]:
    common = {
        "requests_per_day": Quantity(d.requests_month / DAYS_PER_MONTH, "requests per month ÷ 30.4 days"),
        "cpu_ms_per_request": Quantity(d.cpu_ms, "traffic.cpu_ms_per_request"),
        "ws_connections": Quantity(d.ws_peak, "websocket.concurrent"),
    }
    if e.billing == "requests":
        busy = d.requests_month * d.cpu_ms / 1000 / d.utilization
        instance_seconds = busy / d.instance_vcpu
        memory = instance_seconds * d.instance_memory_gb
        memory_basis = f"{fmt(busy)} vCPU-s ÷ {fmt(d.instance_vcpu)} vCPU × {fmt(d.instance_memory_gb)} GB"
        return {**common,
                "requests": Quantity(d.requests_month, d.basis["requests"]),
                "vcpu_seconds": Quantity(busy, f"{fmt(d.requests_month)} requests × {fmt(d.cpu_ms)} CPU-ms "
                                               f"÷ {d.utilization:.0%} utilisation"),
                "memory_gib_seconds": Quantity(memory, memory_basis),
                "gb_seconds": Quantity(memory, memory_basis),
                "cpu_ms": Quantity(d.requests_month * d.cpu_ms, f"{fmt(d.requests_month)} requests × "
                                                                 f"{fmt(d.cpu_ms)} CPU-ms")}, 0
    vcpu = size.sustained_vcpu if size else (e.shape.vcpu if e.shape else d.instance_vcpu)
    billed_vcpu = size.vcpu if size else vcpu
    memory = size.memory_gb if size else (e.shape.memory_gb if e.shape else d.instance_memory_gb)
    peak = instances_for(vcpu, d.busy_vcpu_peak, d.ws_peak, d.ws_per_instance, d.min_instances)
    autoscaled = "autoscaling" in e.capabilities
    billed = instances_for(vcpu, d.busy_vcpu_avg, d.ws_avg, d.ws_per_instance, d.min_instances) if autoscaled else peak
    why = (f"{billed} instance(s) on average: {fmt(d.busy_vcpu_avg)} busy vCPU at average load on "
           f"{fmt(vcpu)} vCPU each (autoscaling; {peak} at peak), minimum {d.min_instances}") if autoscaled else (
           f"{peak} instance(s) for the peak: {d.basis['busy_vcpu']} = {fmt(d.busy_vcpu_peak)} vCPU on "
           f"{fmt(vcpu)} vCPU each, minimum {d.min_instances}")
    if d.ws_peak > 0:
        why += f"; {fmt(d.ws_peak)} WebSockets at {fmt(d.ws_per_instance)} per instance"
    hours = billed * HOURS_PER_MONTH
    return {**common,
            "instances": Quantity(peak, why),
            "instance_months": Quantity(billed, why),
            "instance_hours": Quantity(hours, f"{why} × 730 h"),
            "vcpu_hours": Quantity(hours * billed_vcpu, f"{why} × 730 h × {fmt(billed_vcpu)} vCPU"),
            "memory_gb_hours": Quantity(hours * memory, f"{why} × 730 h × {fmt(memory)} GB"),
            "vcpu_seconds": Quantity(hours * 3600 * billed_vcpu, f"{why} × 730 h × 3600 s × {fmt(billed_vcpu)} vCPU"),
            "memory_gib_seconds": Quantity(hours * 3600 * memory, f"{why} × 730 h × 3600 s × {fmt(memory)} GiB"),
            "used_vcpu_months": Quantity(d.avg_rps * d.cpu_ms / 1000,
                                         f"average {fmt(d.avg_rps)} rps × {fmt(d.cpu_ms)} CPU-ms (CPU actually used)"),
            "used_memory_gb_months": Quantity(peak * d.instance_memory_gb,
                                              f"{peak} instance(s) × {fmt(d.instance_memory_gb)} GB resident"),
            }, billed


def _load_balancer(e: Entry, d: Demand, _: Size | None, t: SlotTraffic) -> tuple[Quantities, int]:
    per_hour_gb = d.api_egress_gb / HOURS_PER_MONTH
    lcu = max(d.avg_rps / 25, d.ws_avg / 3000, per_hour_gb)
    return {"lb_hours": Quantity(HOURS_PER_MONTH, "one load balancer × 730 h"),
            "lcu_hours": Quantity(lcu * HOURS_PER_MONTH,
                                  f"max({fmt(d.avg_rps)} new connections/s ÷ 25, {fmt(d.ws_avg)} active ÷ 3,000, "
                                  f"{fmt(per_hour_gb)} GB/h) = {fmt(lcu)} LCU × 730 h"),
            "requests": Quantity(d.requests_month, d.basis["requests"])}, 0


def _database(e: Entry, d: Demand, size: Size | None, _: SlotTraffic) -> tuple[Quantities, int]:
    found = {"database_gb": Quantity(d.db_gb, d.basis["db_gb"]),
             "db_vcpu_peak": Quantity(d.db_vcpu_peak, "peak rps × database CPU-ms ÷ utilisation")}
    count = _redundant(e, d)
    nodes = f"{count} node(s)" + (" (primary + standby for HA)" if count == 2 else "")
    if e.billing == "capacity" and e.shape is not None:
        units = max(e.min_capacity or 0, d.db_vcpu_avg / e.shape.vcpu, d.db_memory_gb / e.shape.memory_gb)
        why = (f"{nodes} × max(floor {fmt(e.min_capacity or 0)}, {fmt(d.db_vcpu_avg)} vCPU ÷ {fmt(e.shape.vcpu)}, "
               f"{fmt(d.db_memory_gb)} GB ÷ {fmt(e.shape.memory_gb)}) = {fmt(units)} units × 730 h")
        hours = Quantity(count * units * HOURS_PER_MONTH, why)
        found.update({"acu_hours": hours, "cu_hours": hours})
        return found, 0
    if e.billing == "usage":
        found["used_vcpu_months"] = Quantity(d.db_vcpu_avg * d.utilization, "average database CPU actually used")
        found["used_memory_gb_months"] = Quantity(d.db_memory_gb, "database working set")
        return found, 0
    if size is None:
        vcpu = max(1, math.ceil(d.db_vcpu_peak - 1e-9))
        memory = max(d.db_memory_gb, float(vcpu))
        why = f"{nodes} × 730 h"
        found["vcpu_hours"] = Quantity(count * vcpu * HOURS_PER_MONTH, f"{why} × {vcpu} vCPU")
        found["memory_gb_hours"] = Quantity(count * memory * HOURS_PER_MONTH, f"{why} × {fmt(memory)} GB")
    return found, count


def _cache(e: Entry, d: Demand, size: Size | None, _: SlotTraffic) -> tuple[Quantities, int]:
    count = _redundant(e, d)
    if size is not None and size.memory_gb > 0:
        # Redis cluster mode: shard the data set over as many nodes as it takes.
        count *= max(1, math.ceil(d.cache_memory_gb / size.memory_gb - 1e-9))
    found = {"cache_memory_gb": Quantity(d.cache_memory_gb, "cache.memory_gb, scaled"),
             "cache_commands": Quantity(d.cache_commands_month, "requests per month × cache.commands_per_request"),
             "cache_gb": Quantity(d.cache_memory_gb, "cache.memory_gb, scaled"),
             "used_memory_gb_months": Quantity(d.cache_memory_gb, "cache.memory_gb, scaled")}
    if e.billing == "capacity":
        gb = max(e.min_capacity or 0, math.ceil(d.cache_memory_gb - 1e-9))
        found["cache_gb_hours"] = Quantity(count * gb * HOURS_PER_MONTH,
                                           f"{count} instance(s) × {fmt(gb)} GB provisioned × 730 h")
    return found, count if size is not None else 0


def _storage(e: Entry, d: Demand, _: Size | None, t: SlotTraffic) -> tuple[Quantities, int]:
    return {"storage_gb": Quantity(d.storage_gb, d.basis["storage_gb"]),
            "storage_writes": Quantity(d.storage_writes_month, "DAU × storage.writes_per_dau × 30.4 days"),
            "storage_reads": Quantity(d.storage_reads_month, "DAU × storage.reads_per_dau × 30.4 days"),
            "egress_gb": Quantity(t.egress_gb, t.egress_basis)}, 0


def _cdn(e: Entry, d: Demand, _: Size | None, t: SlotTraffic) -> tuple[Quantities, int]:
    return {"egress_gb": Quantity(t.egress_gb, t.egress_basis),
            "requests": Quantity(t.requests, t.requests_basis)}, 0


def _frontend(e: Entry, d: Demand, _: Size | None, t: SlotTraffic) -> tuple[Quantities, int]:
    return {"seats": Quantity(d.seats, "frontend.seats"),
            "frontend_egress_gb": Quantity(d.frontend_egress_gb, "frontend.egress_gb_per_month, scaled")}, 0


def _document(e: Entry, d: Demand, size: Size | None, _: SlotTraffic) -> tuple[Quantities, int]:
    return {"document_gb": Quantity(d.document_gb, "document_db.size_gb, scaled"),
            "instance_hours": Quantity(HOURS_PER_MONTH, "one cluster × 730 h")}, 1 if size is not None else 0


def _ai(e: Entry, d: Demand, _: Size | None, t: SlotTraffic) -> tuple[Quantities, int]:
    found = {"ai_requests": Quantity(d.ai_requests_month, "DAU × ai.requests_per_dau × 30.4 days"),
             "ai_input_mtokens": Quantity(d.ai_input_mtokens, "AI requests × ai.input_tokens ÷ 1M"),
             "ai_output_mtokens": Quantity(d.ai_output_mtokens, "AI requests × ai.output_tokens ÷ 1M")}
    if d.ai_mode == "realtime":
        warm = max(1, math.ceil(d.ai_peak_rps * d.gpu_seconds_per_request / d.utilization - 1e-9))
        found["gpu_hours"] = Quantity(warm * HOURS_PER_MONTH,
                                      f"{warm} GPU(s) kept warm for the latency budget × 730 h "
                                      f"({fmt(d.ai_peak_rps)} peak AI rps × {fmt(d.gpu_seconds_per_request)} GPU-s)")
    else:
        found["gpu_hours"] = Quantity(d.ai_requests_month * d.gpu_seconds_per_request / 3600 / d.utilization,
                                      f"{fmt(d.ai_requests_month)} AI requests × {fmt(d.gpu_seconds_per_request)} "
                                      f"GPU-s ÷ 3600 ÷ {d.utilization:.0%} utilisation (batch)")
    return found, 0
