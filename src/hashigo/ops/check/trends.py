"""Trends: a straight line through the history says when a metric reaches its limit or the next threshold.

"At the current growth the database reaches the 8 GB included allowance in ~23 days." Least squares
over the last `trends.window_days`, only with enough samples over enough time, only for what grows
toward a limit that is still ahead (and within `trends.horizon_days`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hashigo.ops.check.evaluate import RuleResult
from hashigo.ops.check.history import History
from hashigo.ops.check.metrics import METRICS, format_number
from hashigo.ops.check.rulefile import Trends

_DAY = 86400.0


@dataclass(frozen=True)
class Trend:
    metric: str
    rule: str
    target: float
    """In the metric's unit."""
    target_text: str
    per_day: float
    days: float
    samples: int

    def sentence(self) -> str:
        spec = METRICS[self.metric]
        growth = f"{self.per_day:+.3g} {spec.unit}/day"
        return f"at the current growth ({growth}) {spec.title} reaches {self.target_text} in ~{self.days:.0f} days"

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "rule": self.rule, "target": self.target, "target_text": self.target_text,
                "per_day": self.per_day, "days": round(self.days, 2), "samples": self.samples,
                "sentence": self.sentence()}


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares (slope, intercept) of value over time."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0, mean_v
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    return slope, mean_v - slope * mean_t


def _target(result: RuleResult, current: float) -> tuple[float, str] | None:
    """What the metric grows toward, in its own unit: the limit itself, else the next threshold above it."""
    rule = result.rule
    if rule.direction != "above":
        return None
    if result.limit is not None:
        return result.limit.value, f"the {result.limit.text}"
    unit = METRICS[rule.metric].unit
    for name, threshold in (("consider", rule.consider), ("required", rule.required)):
        if threshold is not None and current < threshold:
            return threshold, f"the {name} threshold ({format_number(threshold)} {unit})"
    return None


def trends(results: list[RuleResult], history: History, settings: Trends, now: float) -> list[Trend]:
    found: dict[tuple[str, float], Trend] = {}
    for result in results:
        if result.status in ("no limit", "unmeasured"):
            continue
        metric = result.rule.metric
        points = history.series(metric, now - settings.window_days * _DAY, now, result.source)
        if len(points) < settings.min_samples or points[-1][0] - points[0][0] < settings.min_span_hours * 3600:
            continue
        slope, intercept = fit(points)
        fitted_now = slope * now + intercept
        target = _target(result, fitted_now)
        if target is None or slope <= 0 or fitted_now >= target[0]:
            continue
        days = (target[0] - fitted_now) / (slope * _DAY)
        if days <= settings.horizon_days and (metric, target[0]) not in found:
            found[metric, target[0]] = Trend(metric, result.name, target[0], target[1], slope * _DAY, days,
                                             len(points))
    return sorted(found.values(), key=lambda t: t.days)
