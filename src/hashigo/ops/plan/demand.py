"""Requirements at one user count → the load each component must carry, with how each figure was derived."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hashigo.ops.plan.requirements import Requirements

HOURS_PER_MONTH = 730.0  # the convention of AWS, GCP and most price pages
DAYS_PER_MONTH = HOURS_PER_MONTH / 24


def fmt(value: float) -> str:
    """A quantity for people: thousands separated, no more digits than help."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


@dataclass(frozen=True)
class Demand:
    mau: float
    dau: float
    requests_month: float
    avg_rps: float
    peak_rps: float
    cpu_ms: float
    utilization: float
    instance_vcpu: float
    instance_memory_gb: float
    busy_vcpu_peak: float
    busy_vcpu_avg: float
    ws_peak: float
    ws_avg: float
    ws_per_instance: float
    min_instances: int
    ha: bool
    db_gb: float
    db_growth_gb: float
    db_vcpu_peak: float
    db_vcpu_avg: float
    db_memory_gb: float
    cache_memory_gb: float
    cache_commands_month: float
    storage_gb: float
    storage_growth_gb: float
    storage_writes_month: float
    storage_reads_month: float
    api_egress_gb: float
    files_egress_gb: float
    frontend: bool
    frontend_egress_gb: float
    seats: float
    document_gb: float
    ai_mode: str
    ai_via: str
    ai_requests_month: float
    ai_peak_rps: float
    ai_input_mtokens: float
    ai_output_mtokens: float
    gpu_seconds_per_request: float
    latency_budget_ms: float
    basis: dict[str, str] = field(default_factory=dict, compare=False)

    def needs(self, component: str) -> bool:
        """Whether the app uses this component at all (a size of 0 means it does not)."""
        return {
            "database": self.db_gb > 0,
            "cache": self.cache_memory_gb > 0,
            "storage": self.storage_gb > 0,
            "cdn": True,
            "frontend": self.frontend,
            "document_db": self.document_gb > 0,
            "ai": self.ai_mode != "none",
        }.get(component, True)


def demand_at(req: Requirements, mau: float, ha: bool = False) -> Demand:
    """Scale every volume in `req` (stated for `req.users.mau`) linearly to `mau` users."""
    k = mau / req.users.mau
    t, db = req.traffic, req.database
    dau = mau * req.users.dau_ratio
    requests = dau * t.requests_per_dau * DAYS_PER_MONTH
    avg_rps = requests / (HOURS_PER_MONTH * 3600)
    peak_rps = t.peak_rps * k if t.peak_rps is not None else avg_rps * t.peak_factor
    peak_factor = peak_rps / avg_rps if avg_rps > 0 else t.peak_factor
    util = t.target_utilization
    ws_peak = req.websocket.concurrent * k
    db_gb = db.size_gb * k
    db_memory = db.memory_gb * k if db.memory_gb is not None else max(0.5, db_gb * 0.25)
    ai = req.ai
    ai_requests = dau * ai.requests_per_dau * DAYS_PER_MONTH if ai.mode != "none" else 0.0
    scale = f"× {fmt(k)} (scaled from {fmt(req.users.mau)} MAU)" if k != 1 else ""
    basis = {
        "dau": f"{fmt(mau)} MAU × {req.users.dau_ratio:.2g} DAU/MAU = {fmt(dau)} DAU",
        "requests": f"{fmt(dau)} DAU × {fmt(t.requests_per_dau)} requests/day × {DAYS_PER_MONTH:.1f} days",
        "peak_rps": (f"{fmt(t.peak_rps)} peak rps {scale}".strip() if t.peak_rps is not None
                     else f"average {fmt(avg_rps)} rps × peak factor {fmt(t.peak_factor)}"),
        "busy_vcpu": f"{fmt(peak_rps)} rps × {fmt(t.cpu_ms_per_request)} CPU-ms ÷ {util:.0%} utilisation",
        "db_gb": f"{fmt(db.size_gb)} GB {scale}".strip(),
        "storage_gb": f"{fmt(req.storage.size_gb)} GB {scale}".strip(),
        "api_egress_gb": f"{fmt(req.egress.api_gb_per_month)} GB/month {scale}".strip(),
        "files_egress_gb": f"{fmt(req.egress.files_gb_per_month)} GB/month {scale}".strip(),
    }
    return Demand(
        mau=mau, dau=dau, requests_month=requests, avg_rps=avg_rps, peak_rps=peak_rps,
        cpu_ms=t.cpu_ms_per_request, utilization=util,
        instance_vcpu=t.instance_vcpu, instance_memory_gb=t.instance_memory_gb,
        busy_vcpu_peak=peak_rps * t.cpu_ms_per_request / 1000 / util,
        busy_vcpu_avg=avg_rps * t.cpu_ms_per_request / 1000 / util,
        ws_peak=ws_peak, ws_avg=ws_peak / peak_factor, ws_per_instance=req.websocket.per_instance,
        min_instances=2 if ha else 1, ha=ha,
        db_gb=db_gb, db_growth_gb=db.growth_gb_per_month * k,
        db_vcpu_peak=peak_rps * db.cpu_ms_per_request / 1000 / util,
        db_vcpu_avg=avg_rps * db.cpu_ms_per_request / 1000 / util,
        db_memory_gb=db_memory if db_gb > 0 else 0.0,
        cache_memory_gb=req.cache.memory_gb * k,
        cache_commands_month=requests * req.cache.commands_per_request if req.cache.memory_gb > 0 else 0.0,
        storage_gb=req.storage.size_gb * k, storage_growth_gb=req.storage.growth_gb_per_month * k,
        storage_writes_month=dau * req.storage.writes_per_dau * DAYS_PER_MONTH,
        storage_reads_month=dau * req.storage.reads_per_dau * DAYS_PER_MONTH,
        api_egress_gb=req.egress.api_gb_per_month * k, files_egress_gb=req.egress.files_gb_per_month * k,
        frontend=req.frontend.kind != "none", frontend_egress_gb=req.frontend.egress_gb_per_month * k,
        seats=req.frontend.seats,
        document_gb=req.document_db.size_gb * k,
        ai_mode=ai.mode, ai_via=ai.via, ai_requests_month=ai_requests,
        ai_peak_rps=ai_requests / (HOURS_PER_MONTH * 3600) * peak_factor,
        ai_input_mtokens=ai_requests * ai.input_tokens / 1e6, ai_output_mtokens=ai_requests * ai.output_tokens / 1e6,
        gpu_seconds_per_request=ai.gpu_seconds_per_request, latency_budget_ms=ai.latency_budget_ms,
        basis=basis,
    )


def instances_for(vcpu_each: float, busy_vcpu: float, ws: float, ws_per_instance: float, minimum: int) -> int:
    """Instances needed so CPU and WebSocket connections both fit; never fewer than `minimum`."""
    by_cpu = math.ceil(busy_vcpu / vcpu_each - 1e-9) if vcpu_each > 0 else 0
    by_ws = math.ceil(ws / ws_per_instance - 1e-9) if ws > 0 else 0
    return max(minimum, by_cpu, by_ws)
