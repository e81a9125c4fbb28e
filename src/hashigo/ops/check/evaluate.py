"""Each rule against what was measured now and what the history holds: measured value, threshold, level.

A level is `ok`, `consider` or `required`; a rule that could not be judged says why instead:
`no data` (no source gives the metric, or it had nothing to report), `unmeasured` (its source
failed — the exit code is then 3 unless something is `required`), `no limit` (it compares with a
plan or server limit nobody named).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from hashigo.ops.check.history import History
from hashigo.ops.check.metrics import METRICS, Level, format_number, format_value
from hashigo.ops.check.plan_limits import CurrentPlan
from hashigo.ops.check.rulefile import Rule
from hashigo.ops.check.sources.base import Outcome, Reading
from hashigo.ops.check.window import evaluate_window

Status = Literal["ok", "consider", "required", "no data", "unmeasured", "no limit"]

# Which sources can give a metric, most trusted first: a number the user typed wins, then a window
# over Prometheus' history, then the service's own two scrapes.
_PREFERENCE = ("values", "billing", "prometheus", "service", "postgres", "sqlite", "redis", "storage")


_HINTS = {"compute": "run `hashigo serve` or give --service / --prometheus",
          "database": "give a PostgreSQL URL (DATABASE_URL or --database)",
          "cache": "give a Redis URL (REDIS_URL or --redis)", "storage": "give STORAGE_URL or --storage",
          "all": "give it with --value NAME=N, values: in the rules file, --bill, or a postgres/prometheus query"}


@dataclass(frozen=True)
class Limit:
    value: float
    text: str


@dataclass
class RuleResult:
    name: str
    rule: Rule
    status: Status
    value: float | None = None
    compared: float | None = None
    limit: Limit | None = None
    source: str | None = None
    now_level: Level | None = None
    window: str = ""
    note: str = ""

    @property
    def level(self) -> Level | None:
        status = self.status
        return status if status == "ok" or status == "consider" or status == "required" else None

    def measured_text(self) -> str:
        shown = format_value(self.rule.metric, self.value)
        if self.compared is not None and self.limit is not None:
            shown += f" ({self.compared:.1f} % of {format_number(self.limit.value)} {METRICS[self.rule.metric].unit})"
        return shown

    def threshold_text(self) -> str:
        rule = self.rule
        above = rule.direction == "above"
        parts = []
        if rule.consider is not None:
            parts.append(f"consider {'≥' if above else '≤'} {format_number(rule.consider)}")
        if rule.required is not None:
            parts.append(f"required {'>' if above else '<'} {format_number(rule.required)}")
        if self.limit is not None:
            unit = "% of the " + self.limit.text
        elif rule.limit is not None:
            unit = "% of the " + ("server's limit" if rule.limit == "server" else "plan's limit")
        else:
            unit = METRICS[rule.metric].unit
        return " / ".join(parts) + f" {unit}"

    def as_dict(self) -> dict[str, Any]:
        rule = self.rule
        return {"rule": self.name, "metric": rule.metric, "status": self.status, "level": self.level,
                "value": self.value, "unit": METRICS[rule.metric].unit, "source": self.source,
                "compared": self.compared, "compared_unit": rule.unit,
                "limit": None if self.limit is None else {"value": self.limit.value, "text": self.limit.text},
                "consider": rule.consider, "required": rule.required, "direction": rule.direction,
                "now_level": self.now_level, "sustained": rule.sustained, "window": self.window,
                "note": self.note, "seed": rule.seed}


def level_of(rule: Rule, value: float) -> Level:
    """At or past `consider` (the seeds' "300–500 ms" includes 300); past `required` (their "> 500 ms")."""
    if rule.direction == "above":
        if rule.required is not None and value > rule.required:
            return "required"
        if rule.consider is not None and value >= rule.consider:
            return "consider"
        return "ok"
    if rule.required is not None and value < rule.required:
        return "required"
    if rule.consider is not None and value <= rule.consider:
        return "consider"
    return "ok"


def choose(readings: list[Reading], rule: Rule) -> Reading | None:
    found = [r for r in readings if r.metric == rule.metric and (rule.source is None or r.source == rule.source)]
    found.sort(key=lambda r: _PREFERENCE.index(r.source) if r.source in _PREFERENCE else len(_PREFERENCE))
    with_value = [r for r in found if r.value is not None]
    return next(iter(with_value or found), None)


def resolve_limit(rule: Rule, reading: Reading | None, plan: CurrentPlan) -> Limit | str | None:
    """The limit the thresholds are percent of; a string says why there is none."""
    if rule.limit is None:
        return None
    if isinstance(rule.limit, float):
        return Limit(rule.limit, f"{format_number(rule.limit)} {METRICS[rule.metric].unit} limit")
    if rule.limit == "server":
        if reading is None or reading.server_limit is None:
            return "the server reports no limit (Redis without maxmemory)"
        return Limit(reading.server_limit, f"server limit ({format_number(reading.server_limit)} "
                                           f"{METRICS[rule.metric].unit})")
    quantity = METRICS[rule.metric].plan_quantity
    found = plan.limits.get(quantity) if quantity else None
    if found is None:
        return (f"the plan sets no {quantity} limit: name it (--plan ENTRY) or set limits.{quantity}"
                if quantity else f"{rule.metric} has no plan limit")
    return Limit(found.max, found.describe().removeprefix("the "))


def evaluate_rule(name: str, rule: Rule, outcomes: list[Outcome], plan: CurrentPlan,
                  history: History, now: float) -> RuleResult:
    readings = [r for o in outcomes for r in o.sample.readings]
    reading = choose(readings, rule)
    limit = resolve_limit(rule, reading, plan)
    result = RuleResult(name, rule, "no data", source=reading.source if reading else rule.source)
    if isinstance(limit, str) and reading is not None and reading.value is not None:
        result.status, result.note = "no limit", limit
        result.value = reading.value if reading else None
        return result
    result.limit = limit if isinstance(limit, Limit) else None

    def compare(value: float) -> float:
        return value if result.limit is None else 100 * value / result.limit.value

    if reading is not None and reading.value is not None:
        result.value, result.compared = reading.value, compare(reading.value)
        result.now_level = level_of(rule, result.compared)
        result.note = reading.note
    window = rule.window()
    failed = [o for o in outcomes if not o.ok and rule.metric in o.provides
              and (rule.source is None or o.name == rule.source)]
    if window is not None:
        span = window.span_seconds()
        series = (history.series(rule.metric, now - span, now, result.source) if span is not None
                  else history.recent(rule.metric, window.of_last, now, result.source))
        if series:
            judged = [(at, compare(v)) for at, v in series]
            outcome = evaluate_window(judged, window, now, _levels(rule), rule.aggregate)
            result.status, result.window = outcome.level, outcome.describe(window)
    elif result.now_level is not None:
        result.status = result.now_level
    if result.now_level is None and failed:
        result.status = "unmeasured" if result.status in ("no data", "ok") else result.status
        result.note = "; ".join(f"{o.name}: {o.error}" for o in failed)
    elif result.status == "no data" and not result.note:
        hint = _HINTS[METRICS[rule.metric].component]
        result.note = reading.note if reading else f"no source gives {rule.metric}; {hint}"
    return result


def _levels(rule: Rule) -> Callable[[float], Level]:
    return lambda value: level_of(rule, value)


def evaluate(rules: dict[str, Rule], outcomes: list[Outcome], plan: CurrentPlan, history: History,
             now: float) -> list[RuleResult]:
    return [evaluate_rule(name, rule, outcomes, plan, history, now) for name, rule in rules.items() if rule.enabled]


def recorded_readings(outcomes: list[Outcome]) -> list[tuple[str, float, str]]:
    """What goes into the history: every reading that has a value."""
    return [(r.metric, r.value, r.source) for o in outcomes for r in o.sample.readings if r.value is not None]
