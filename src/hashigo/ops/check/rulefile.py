"""The rules file's schema: rules with ok / consider / required thresholds and a sustained window,
where to measure, which plan the app is on, where to notify. `hashigo check init` writes a commented one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hashigo.ops.check.metrics import LIMIT_QUANTITIES, METRICS, MetricName
from hashigo.ops.check.window import Aggregate, Sustained, parse_sustained

SourceName = Literal["service", "prometheus", "postgres", "sqlite", "redis", "storage", "billing", "values"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(Strict):
    metric: MetricName
    consider: float | None = None
    required: float | None = None
    direction: Literal["above", "below"] = Field(
        "above", description="above: higher is worse (latency); below: lower is worse (cache hit ratio)")
    limit: str | float | None = Field(
        None, description="thresholds are percent of this limit: the current plan's, the server's own "
                          "(max_connections, maxmemory), or a number in the metric's unit")
    sustained: str | None = Field(None, description="e.g. '3 of 7 days'; none: the current value decides")
    aggregate: Aggregate = "mean"
    source: SourceName | None = Field(None, description="take the metric from this source only")
    seed: str = Field("", description="where the thresholds come from")
    enabled: bool = True

    @field_validator("sustained")
    @classmethod
    def _window(cls, text: str | None) -> str | None:
        if text is not None:
            parse_sustained(text)
        return text

    @field_validator("limit", mode="before")
    @classmethod
    def _known_limit(cls, limit: object) -> object:
        if limit is None or limit in ("plan", "server"):
            return limit
        if isinstance(limit, bool) or not isinstance(limit, float | int):
            raise ValueError(f"accepted: plan, server, or a number in the metric's unit; got {limit!r}")
        if limit <= 0:
            raise ValueError(f"a limit must be more than 0, got {limit:g}")
        return float(limit)

    @model_validator(mode="after")
    def _ordered(self) -> Rule:
        if self.consider is None and self.required is None:
            raise ValueError("consider: give a consider or a required threshold (or both)")
        if self.consider is not None and self.required is not None:
            wrong = self.consider > self.required if self.direction == "above" else self.consider < self.required
            if wrong:
                relation = "at most" if self.direction == "above" else "at least"
                raise ValueError(f"consider: must be {relation} required ({self.required:g}) when direction is "
                                 f"{self.direction}, got {self.consider:g}")
        return self

    def window(self) -> Sustained | None:
        return parse_sustained(self.sustained) if self.sustained else None

    @property
    def unit(self) -> str:
        return "%" if self.limit is not None else METRICS[self.metric].unit


class ServiceSource(Strict):
    enabled: bool = True
    url: str | None = Field(None, description="the service's /metrics; default: HASHIGO_HOST/HASHIGO_PORT")
    sample_seconds: float = Field(5.0, ge=0.2, le=3600)
    timeout_seconds: float = Field(5.0, gt=0, le=600)
    exclude_routes: tuple[str, ...] = ("/healthz", "/readyz", "<unmatched>")


class PrometheusSource(Strict):
    url: str
    window: str = Field("5m", pattern=r"^\d+[smhd]$")
    selector: str = Field("", description="label matchers added to every query, e.g. job=\"hashigo\"")
    timeout_seconds: float = Field(10.0, gt=0, le=600)
    queries: dict[MetricName, str] = Field(default_factory=dict)


class PostgresSource(Strict):
    enabled: bool = True
    url: str | None = Field(None, description="default: DATABASE_URL")
    timeout_seconds: float = Field(5.0, gt=0, le=600)
    queries: dict[MetricName, str] = Field(default_factory=dict, description="SQL returning one number each")


class RedisSource(Strict):
    enabled: bool = True
    url: str | None = Field(None, description="default: REDIS_URL")
    timeout_seconds: float = Field(5.0, gt=0, le=600)


class StorageSource(Strict):
    enabled: bool = True
    url: str | None = Field(None, description="default: STORAGE_URL")
    timeout_seconds: float = Field(120.0, gt=0, le=3600)


class BillingSource(Strict):
    monthly_usd: float | None = Field(None, ge=0)
    csv: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> BillingSource:
        if (self.monthly_usd is None) == (self.csv is None):
            raise ValueError("monthly_usd: give exactly one of monthly_usd or csv")
        return self


class Sources(Strict):
    """Service, postgres, redis, storage: absent or `true` — from the app's own environment where it has
    one (HASHIGO_HOST/PORT, DATABASE_URL, REDIS_URL, STORAGE_URL); `false` — off. Prometheus and billing
    are off unless given."""

    service: ServiceSource = ServiceSource()
    prometheus: PrometheusSource | None = None
    postgres: PostgresSource = PostgresSource()
    redis: RedisSource = RedisSource()
    storage: StorageSource = StorageSource()
    billing: BillingSource | None = None

    @model_validator(mode="before")
    @classmethod
    def _switches(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        switched = dict(data)
        for name, value in data.items():
            if value is True:
                switched[name] = {} if name in _AUTO_SOURCES else value
            elif value is False or value is None:
                switched[name] = {"enabled": False} if name in _AUTO_SOURCES else None
        return switched


_AUTO_SOURCES = ("service", "postgres", "redis", "storage")


class PlanChoice(Strict):
    entries: tuple[str, ...] = Field((), description="catalog entry ids the app is on now")
    file: Path | None = Field(None, description="output of `hashigo plan --json`")
    phase: str | None = Field(None, description="the phase of that plan the app is in now (default: the first)")
    prices: Path | None = Field(None, description="price override file, as for `hashigo plan --prices`")


class Notify(Strict):
    webhook: str | None = Field(None, pattern=r"^https?://")


class History(Strict):
    path: Path | None = Field(None, description="default: $HASHIGO_DATA_DIR/check/history.sqlite3")
    keep_days: int = Field(90, ge=1)


class Trends(Strict):
    window_days: float = Field(30, gt=0)
    min_samples: int = Field(3, ge=2)
    min_span_hours: float = Field(1, ge=0)
    horizon_days: float = Field(365, gt=0)


class RulesFile(Strict):
    version: Literal[1] = 1
    default_rules: bool = Field(True, description="start from the built-in (seed) rules; yours patch them by name")
    plan: PlanChoice = PlanChoice()
    limits: dict[str, float] = Field(default_factory=dict)
    values: dict[MetricName, float] = Field(default_factory=dict)
    sources: Sources = Sources()
    rules: dict[str, Rule] = Field(default_factory=dict)
    notify: Notify = Notify()
    history: History = History()
    trends: Trends = Trends()

    @field_validator("limits")
    @classmethod
    def _known_limits(cls, limits: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(limits) - set(LIMIT_QUANTITIES))
        if unknown:
            raise ValueError(f"unknown quantity {', '.join(unknown)}; accepted: {', '.join(LIMIT_QUANTITIES)}")
        bad = [name for name, value in limits.items() if value <= 0]
        if bad:
            raise ValueError(f"{', '.join(bad)}: a limit must be more than 0")
        return limits

    @field_validator("rules")
    @classmethod
    def _names(cls, rules: dict[str, Rule]) -> dict[str, Rule]:
        for name in rules:
            if not name or not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"rule name {name!r}: use letters, digits, '-' and '_'")
        return rules
