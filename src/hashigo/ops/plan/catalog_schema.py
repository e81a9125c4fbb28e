"""The price catalog's record types: what one provider plan costs, allows, forbids, and where that was read."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Component = Literal["frontend", "compute", "load_balancer", "database", "cache", "storage", "cdn",
                    "document_db", "ai"]
COMPONENTS: tuple[Component, ...] = ("frontend", "compute", "load_balancer", "database", "cache", "storage",
                                     "cdn", "document_db", "ai")

Capability = Literal["cli", "autoscaling", "websocket", "container", "ha", "postgres", "redis", "s3_api",
                     "scale_to_zero", "gpu"]

# Usage quantities the engine derives per component; a meter bills one of them.
Meter = Literal[
    "instance_months", "instance_hours", "vcpu_hours", "memory_gb_hours", "vcpu_seconds", "memory_gib_seconds",
    "used_vcpu_months", "used_memory_gb_months", "requests", "gb_seconds", "cpu_ms",
    "lb_hours", "lcu_hours",
    "database_gb", "acu_hours", "cu_hours",
    "cache_commands", "cache_gb", "cache_gb_hours",
    "storage_gb", "storage_writes", "storage_reads",
    "egress_gb", "frontend_egress_gb", "seats",
    "gpu_hours", "ai_requests", "ai_input_mtokens", "ai_output_mtokens",
    "document_gb",
]

REGIONS = ("tokyo", "osaka", "seoul", "singapore", "hong-kong", "taipei", "jakarta", "mumbai", "sydney",
           "us-east", "us-west", "us-central", "eu-west", "eu-central", "london", "sao-paulo", "global")
JAPAN = frozenset({"tokyo", "osaka"})

RestrictionKind = Literal["non_commercial", "sleeps_when_idle", "pauses_when_inactive", "expires", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    url: str = Field(min_length=4, description="where the price was read (a URL, or e.g. 'contract:ACME-2026')")
    read: date
    precision: Literal["day", "month", "year"] = "day"
    kind: Literal["provider", "secondary", "estimate", "override"] = "provider"
    note: str | None = None

    def shown_date(self) -> str:
        if self.precision == "year":
            return f"{self.read.year}"
        if self.precision == "month":
            return self.read.strftime("%Y-%m")
        return self.read.isoformat()


class Tier(Strict):
    up_to: float | None = Field(default=None, gt=0, description="upper bound of the tier in units used a month; "
                                "the free allowance comes off the lowest tier, as on AWS's pages")
    price: float = Field(ge=0)


class MeterPrice(Strict):
    meter: Meter
    unit: str = Field(min_length=1)
    price: float = Field(default=0, ge=0, description="USD per `per` units")
    per: float = Field(default=1, gt=0)
    free: float = Field(default=0, ge=0, description="free allowance per month, in units")
    tiers: tuple[Tier, ...] = ()
    cap_usd: float | None = Field(default=None, ge=0, description="the line never costs more than this a month")
    unconfirmed: bool | None = None
    source: Source | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _tiers_ascend(self) -> MeterPrice:
        bounds = [t.up_to for t in self.tiers]
        if bounds and any(b is None for b in bounds[:-1]):
            raise ValueError("only the last tier may be open-ended (up_to omitted)")
        finite = [b for b in bounds if b is not None]
        if finite != sorted(finite):
            raise ValueError("tiers must be listed with ascending up_to")
        return self


class Size(Strict):
    name: str = Field(min_length=1)
    vcpu: float = Field(default=0, ge=0)
    baseline_vcpu: float | None = Field(default=None, ge=0, description="sustained vCPU of a burstable size")
    memory_gb: float = Field(default=0, ge=0)
    storage_gb: float | None = Field(default=None, ge=0, description="most data this size holds")
    usd_per_month: float | None = Field(default=None, ge=0)
    usd_per_hour: float | None = Field(default=None, ge=0)
    unconfirmed: bool | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _one_price(self) -> Size:
        if (self.usd_per_month is None) == (self.usd_per_hour is None):
            raise ValueError("give exactly one of usd_per_month, usd_per_hour")
        return self

    @property
    def sustained_vcpu(self) -> float:
        return self.vcpu if self.baseline_vcpu is None else self.baseline_vcpu


class Shape(Strict):
    vcpu: float = Field(gt=0)
    memory_gb: float = Field(gt=0)


class Limit(Strict):
    quantity: str = Field(min_length=1, description="a usage quantity, e.g. database_gb")
    max: float = Field(ge=0)
    unit: str = Field(min_length=1)
    consequence: str = Field(min_length=1, description="what happens beyond it, e.g. 'read-only beyond it'")


class Restriction(Strict):
    kind: RestrictionKind
    text: str = Field(min_length=1)


class Credit(Strict):
    usd: float = Field(gt=0)
    covers: tuple[str, ...] = Field(default=(), description="meters (or 'size') it offsets; empty: all usage")
    scope: Literal["entry", "provider"] = Field(
        default="entry", description="provider: offsets the usage of every entry of this provider in the stack")


class Entry(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    provider: str = Field(min_length=1)
    service: str = Field(min_length=1)
    plan: str = Field(min_length=1)
    component: Component
    regions: tuple[str, ...] = Field(min_length=1)
    price_region: str | None = None
    capabilities: tuple[Capability, ...] = ()
    billing: Literal["instances", "requests", "capacity", "usage"] = Field(
        default="instances", description="how usage turns into billed quantities (see ops/plan/quantities.py)")
    base_usd_per_month: float = Field(default=0, ge=0)
    credit: Credit | None = None
    sizes: tuple[Size, ...] = ()
    shape: Shape | None = None
    min_capacity: float | None = Field(default=None, ge=0, description="ACU/CU floor of a serverless database")
    ha_included: bool = False
    requires: tuple[str, ...] = Field(default=(), description="one of these entries must be in the same stack")
    meters: tuple[MeterPrice, ...] = ()
    limits: tuple[Limit, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    latency_ms: float | None = Field(default=None, gt=0, description="typical response time (AI inference)")
    deploy_target: str | None = None
    hashigo_url: str | None = Field(default=None, description="how hashigo's settings point at it")
    source: Source
    unconfirmed: bool = False
    notes: str | None = None

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in regions if r not in REGIONS]
        if unknown:
            raise ValueError(f"unknown region {', '.join(unknown)}; accepted: {', '.join(REGIONS)}")
        return regions

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        meters = [m.meter for m in self.meters]
        duplicated = sorted({m for m in meters if meters.count(m) > 1})
        if duplicated:
            raise ValueError(f"meter listed twice: {', '.join(duplicated)}")
        names = [s.name for s in self.sizes]
        if len(names) != len(set(names)):
            raise ValueError("size names must be unique")
        return self

    def label(self) -> str:
        return f"{self.provider} {self.service} {self.plan}".strip()

    def in_region(self, region: str) -> bool:
        return "global" in self.regions or region in self.regions

    def is_unconfirmed(self) -> bool:
        return self.unconfirmed or any(m.unconfirmed for m in self.meters) or any(s.unconfirmed for s in self.sizes)


class CatalogFile(Strict):
    entries: tuple[Entry, ...] = ()
