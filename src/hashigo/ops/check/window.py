"""Sustained-window conditions: "3 of 7 days" means the level holds on at least 3 of the last 7 days.

A period is a rolling slice ending now (the last 24 h, the 24 h before them, ...), or one sample.
Each period's samples are combined (mean by default) into one value, which gets a level. A rule
reaches a level when at least N of the last M periods reach it; periods without samples count for
nothing. So one spike, or one bad hour in a week, does not move a team to the next phase.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from hashigo.ops.check.metrics import LEVELS, Level, level_rank

PeriodUnit = Literal["samples", "minutes", "hours", "days"]
Aggregate = Literal["mean", "median", "max", "min", "last"]
_UNITS: dict[str, PeriodUnit] = {"samples": "samples", "minutes": "minutes", "hours": "hours", "days": "days"}
_SECONDS: dict[str, float] = {"minutes": 60, "hours": 3600, "days": 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s+of\s+(?:the\s+)?(?:last\s+)?(\d+)\s+([a-z]+?)s?\s*$", re.IGNORECASE)
_RAISED: tuple[Level, ...] = ("required", "consider")
SUSTAINED_FORMS = "'N of M days', 'N of M hours', 'N of M minutes' or 'N of M samples' (e.g. '3 of 7 days')"


@dataclass(frozen=True)
class Sustained:
    at_least: int
    of_last: int
    unit: PeriodUnit

    def __str__(self) -> str:
        return f"{self.at_least} of {self.of_last} {self.unit}"

    def span_seconds(self) -> float | None:
        """How far back the window reaches; None for sample counts."""
        return None if self.unit == "samples" else self.of_last * _SECONDS[self.unit]


def parse_sustained(text: str) -> Sustained:
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window; accepted: {SUSTAINED_FORMS}")
    at_least, of_last, unit = int(match.group(1)), int(match.group(2)), match.group(3).lower() + "s"
    if unit not in _UNITS:
        raise ValueError(f"unknown period {match.group(3)!r} in {text!r}; accepted: {SUSTAINED_FORMS}")
    if not 1 <= at_least <= of_last:
        raise ValueError(f"{text!r}: N must be at least 1 and at most M")
    return Sustained(at_least, of_last, _UNITS[unit])


def combine(values: Sequence[float], how: Aggregate) -> float:
    if how == "mean":
        return statistics.fmean(values)
    if how == "median":
        return statistics.median(values)
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    return values[-1]


@dataclass(frozen=True)
class WindowOutcome:
    level: Level
    periods_with_data: int
    counts: dict[Level, int]
    """How many periods reached each level (a `required` period also counts as `consider`)."""
    needed: int

    def describe(self, window: Sustained) -> str:
        reached = ", ".join(f"{level} on {self.counts[level]}" for level in _RAISED if self.counts[level])
        seen = f"{self.periods_with_data} of {window.of_last} {window.unit} with data"
        return f"{reached or 'none reached'} ({seen}; needs {window.at_least})"


def split_periods(samples: Sequence[tuple[float, float]], window: Sustained, now: float) -> list[list[float]]:
    """Samples (time, value), oldest first, grouped into the window's periods (newest first)."""
    if window.unit == "samples":
        return [[value] for _, value in reversed(samples[-window.of_last:])]
    length = _SECONDS[window.unit]
    periods: list[list[float]] = [[] for _ in range(window.of_last)]
    for at, value in samples:
        index = int((now - at) // length) if at <= now else 0
        if 0 <= index < window.of_last:
            periods[index].append(value)
    return [p for p in periods if p]


def evaluate_window(samples: Sequence[tuple[float, float]], window: Sustained, now: float,
                    level_of: Callable[[float], Level], how: Aggregate) -> WindowOutcome:
    periods = split_periods(samples, window, now)
    levels = [level_of(combine(p, how)) for p in periods]
    counts: dict[Level, int] = {level: sum(1 for got in levels if level_rank(got) >= level_rank(level))
                                for level in LEVELS}
    reached: Level = next((level for level in _RAISED if counts[level] >= window.at_least), "ok")
    return WindowOutcome(reached, len(periods), counts, window.at_least)
