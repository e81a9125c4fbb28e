"""What an app needs, as a team writes it down (`hashigo-plan.yaml`), and the phase presets from the seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hashigo.ops.plan.catalog_schema import REGIONS, Component
from hashigo.ops.plan.errors import PlanInputError, load_yaml_mapping, validation_problems

DEFAULT_FILE = "hashigo-plan.yaml"
MustHave = Literal["cli", "autoscaling", "websocket", "container", "ha", "japan_region", "region"]
DEFAULT_MUST_HAVE: tuple[MustHave, ...] = ("cli", "container", "japan_region")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Users(Section):
    mau: float = Field(default=1000, gt=0, description="monthly active users the volumes below are for")
    dau: float | None = Field(default=None, gt=0, description="daily active users (default: 20% of MAU)")

    @model_validator(mode="after")
    def _dau_within_mau(self) -> Users:
        if self.dau is not None and self.dau > self.mau:
            raise ValueError(f"dau ({self.dau:g}) cannot exceed mau ({self.mau:g})")
        return self

    @property
    def dau_ratio(self) -> float:
        return 0.2 if self.dau is None else self.dau / self.mau


class Traffic(Section):
    requests_per_dau: float = Field(default=100, ge=0, description="API requests per daily active user per day")
    peak_rps: float | None = Field(default=None, ge=0, description="peak requests/s (default: average × peak_factor)")
    peak_factor: float = Field(default=3, ge=1)
    cpu_ms_per_request: float = Field(default=20, ge=0)
    instance_vcpu: float = Field(default=0.5, gt=0, description="vCPU of one app instance where the size is free")
    instance_memory_gb: float = Field(default=1, gt=0, description="memory one app instance needs")
    target_utilization: float = Field(default=0.6, gt=0, le=1)


class WebSocket(Section):
    concurrent: float = Field(default=0, ge=0, description="concurrent WebSocket connections at peak")
    per_instance: float = Field(default=5000, gt=0, description="connections one app instance holds")


class Database(Section):
    size_gb: float = Field(default=0.2, ge=0, description="0 means the app has no relational database")
    growth_gb_per_month: float = Field(default=0, ge=0)
    cpu_ms_per_request: float = Field(default=2, ge=0)
    memory_gb: float | None = Field(default=None, gt=0, description="working set (default: 25% of size, ≥ 0.5)")


class Cache(Section):
    memory_gb: float = Field(default=0.05, ge=0, description="0 means no Redis")
    commands_per_request: float = Field(default=2, ge=0)


class Storage(Section):
    size_gb: float = Field(default=1, ge=0, description="0 means no object storage")
    growth_gb_per_month: float = Field(default=0, ge=0)
    writes_per_dau: float = Field(default=1, ge=0)
    reads_per_dau: float = Field(default=10, ge=0)


class Egress(Section):
    api_gb_per_month: float = Field(default=2, ge=0)
    files_gb_per_month: float = Field(default=10, ge=0)


class Frontend(Section):
    kind: Literal["none", "static", "nextjs"] = "static"
    egress_gb_per_month: float = Field(default=5, ge=0)
    seats: int = Field(default=1, ge=1, description="developer seats billed by per-seat plans")


class DocumentDb(Section):
    size_gb: float = Field(default=0, ge=0, description="MongoDB data (seeds 000/001); 0 means none")


class Ai(Section):
    mode: Literal["none", "realtime", "batch"] = "none"
    via: Literal["api", "gpu"] = "api"
    requests_per_dau: float = Field(default=5, ge=0)
    input_tokens: float = Field(default=500, ge=0)
    output_tokens: float = Field(default=200, ge=0)
    gpu_seconds_per_request: float = Field(default=0.2, ge=0)
    latency_budget_ms: float = Field(default=500, gt=0)


class PhaseSpec(Section):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")
    title: str | None = None
    up_to_mau: float | None = Field(default=None, gt=0)
    up_to_dau: float | None = Field(default=None, gt=0)
    budget_usd: float | None = Field(default=None, ge=0)
    must_have: list[MustHave] = Field(default_factory=list)
    commercial: bool | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> PhaseSpec:
        if (self.up_to_mau is None) == (self.up_to_dau is None):
            raise ValueError("give exactly one of up_to_mau, up_to_dau")
        return self


def _known_region(region: str) -> str:
    if region not in REGIONS or region == "global":
        raise ValueError(f"unknown region {region!r}; accepted: {', '.join(r for r in REGIONS if r != 'global')}")
    return region


class Expansion(Section):
    regions: list[str] = Field(default_factory=list)
    from_phase: str | None = None

    @field_validator("regions")
    @classmethod
    def _regions(cls, regions: list[str]) -> list[str]:
        return [_known_region(r) for r in regions]


class ReferenceLine(Section):
    label: str = Field(min_length=1)
    component: Component
    usd: float = Field(ge=0)
    note: str | None = None


class Reference(Section):
    source: str = Field(min_length=1, description="where the hand-made estimate comes from")
    stack: str = Field(min_length=1)
    mau: float | None = Field(default=None, gt=0, description="users it is for (default: users.mau)")
    total_usd: float = Field(ge=0)
    low_usd: float | None = Field(default=None, ge=0)
    high_usd: float | None = Field(default=None, ge=0)
    tolerance: float = Field(default=0.25, ge=0, description="relative distance still 'in range'")
    lines: list[ReferenceLine] = Field(default_factory=list)


class PlanOptions(Section):
    stay_within: float = Field(default=0.10, ge=0, description="keep the previous phase's stack if ≤ this much dearer")


PhasePreset = Literal["seed004", "seed002", "seed004-users"]


class Requirements(Section):
    app: str = "my-app"
    region: str = "tokyo"
    commercial: bool = True
    must_have: list[MustHave] = Field(default_factory=lambda: list(DEFAULT_MUST_HAVE))
    expansion: Expansion = Field(default_factory=Expansion)
    users: Users = Field(default_factory=Users)
    traffic: Traffic = Field(default_factory=Traffic)
    websocket: WebSocket = Field(default_factory=WebSocket)
    database: Database = Field(default_factory=Database)
    cache: Cache = Field(default_factory=Cache)
    storage: Storage = Field(default_factory=Storage)
    egress: Egress = Field(default_factory=Egress)
    frontend: Frontend = Field(default_factory=Frontend)
    document_db: DocumentDb = Field(default_factory=DocumentDb)
    ai: Ai = Field(default_factory=Ai)
    phase_preset: PhasePreset = "seed004"
    phases: list[PhaseSpec] | None = None
    stacks: list[str] | None = Field(default=None, description="only consider these stacks (default: all)")
    plan: PlanOptions = Field(default_factory=PlanOptions)
    reference: Reference | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, region: str) -> str:
        return _known_region(region)

    @model_validator(mode="after")
    def _phases(self) -> Requirements:
        if self.phases is not None:
            if not self.phases:
                raise ValueError("phases: give at least one phase, or leave it out for the preset")
            names = [p.name for p in self.phases]
            if len(set(names)) != len(names):
                raise ValueError("phases: names must be unique")
        names = [p.name for p in self.phase_specs()]
        if self.expansion.from_phase is not None and self.expansion.from_phase not in names:
            raise ValueError(f"expansion.from_phase {self.expansion.from_phase!r} is not a phase; "
                             f"accepted: {', '.join(names)}")
        bounds = [self.phase_mau(p) for p in self.phase_specs()]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("phases: upper bounds must increase from one phase to the next")
        return self

    def phase_specs(self) -> list[PhaseSpec]:
        return self.phases if self.phases is not None else preset_phases(self.phase_preset)

    def phase_mau(self, phase: PhaseSpec) -> float:
        if phase.up_to_mau is not None:
            return phase.up_to_mau
        assert phase.up_to_dau is not None
        return phase.up_to_dau / self.users.dau_ratio


def preset_phases(preset: PhasePreset) -> list[PhaseSpec]:
    """Phase boundaries the seeds use (issue 4): seed 004 by DAU, seed 002 by users, seed 004 by total users."""
    if preset == "seed002":
        return [PhaseSpec(name="launch", title="Phase 1: MVP (seed 002, ~50 users)", up_to_mau=50),
                PhaseSpec(name="growth", title="Phase 2: beta (seed 002, 50-500 users)", up_to_mau=500),
                PhaseSpec(name="scale", title="Phase 3: production (seed 002, 500+ users)", up_to_mau=5000,
                          must_have=["ha", "autoscaling"])]
    if preset == "seed004-users":
        return [PhaseSpec(name="launch", title="Phase 1 (seed 004, < 100k users)", up_to_mau=100_000),
                PhaseSpec(name="growth", title="Phase 2 (seed 004, 100k-1M users)", up_to_mau=1_000_000),
                PhaseSpec(name="scale", title="Phase 3 (seed 004, 1M-10M users)", up_to_mau=10_000_000,
                          must_have=["ha", "autoscaling"])]
    return [PhaseSpec(name="launch", title="Phase 1 (seed 004: DAU < 1,000)", up_to_dau=1000),
            PhaseSpec(name="growth", title="Phase 2 (seed 004: DAU 1,000-10,000)", up_to_dau=10_000),
            PhaseSpec(name="scale", title="Phase 3 (seed 004: DAU > 10,000)", up_to_dau=100_000,
                      must_have=["ha", "autoscaling"])]


def parse_requirements(data: dict[str, Any], file: str) -> Requirements:
    try:
        return Requirements.model_validate(data)
    except ValidationError as exc:
        raise PlanInputError(validation_problems(exc, Requirements, file)) from None


def load_requirements(path: Path, name: str | None = None) -> Requirements:
    """`name` is how errors refer to the file (default: the path as given)."""
    shown = name or str(path)
    return parse_requirements(load_yaml_mapping(shown, _read(path, shown)), shown)


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanInputError([f"{shown}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInputError([f"{shown}: cannot be read ({exc})"]) from None


def apply_overrides(req: Requirements, overrides: dict[str, Any], origin: str = "flags") -> Requirements:
    """Flags win over the file: `overrides` maps dotted fields (e.g. 'users.mau') to values."""
    data = req.model_dump(mode="python", exclude_unset=False)
    for dotted, value in overrides.items():
        target = data
        *parents, last = dotted.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return parse_requirements(data, origin)
