"""Monthly cost of stacks across a range of user counts, and where one becomes cheaper than another."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from hashigo.ops.plan.catalog import Catalog
from hashigo.ops.plan.costing import Context, usd
from hashigo.ops.plan.demand import demand_at, fmt
from hashigo.ops.plan.errors import PlanInputError
from hashigo.ops.plan.requirements import Requirements
from hashigo.ops.plan.stack_cost import evaluate_stack

MAX_USERS = 1e9


@dataclass(frozen=True)
class Point:
    mau: float
    monthly: float | None
    reason: str | None = None


@dataclass
class Series:
    stack: str
    name: str
    points: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class Crossover:
    mau: float
    cheaper_above: str
    cheaper_below: str
    monthly: float | None = None

    def sentence(self) -> str:
        return (f"above ~{_round2(self.mau)} MAU the {self.cheaper_above} stack is cheaper than the "
                f"{self.cheaper_below} stack")

    def as_dict(self) -> dict[str, object]:
        return {"mau": round(self.mau), "cheaper_above": self.cheaper_above, "cheaper_below": self.cheaper_below,
                "monthly_usd": None if self.monthly is None else round(self.monthly, 2), "sentence": self.sentence()}


@dataclass
class Sweep:
    low: float
    high: float
    series: list[Series]
    crossovers: list[Crossover]


def parse_users(text: str) -> tuple[float, float]:
    """`1000..1000000` (also 1k..1M, 1_000, 1e6) → (low, high); a single number → (n, n)."""
    parts = [p.strip() for p in text.split("..")]
    if len(parts) > 2 or not all(parts):
        raise PlanInputError([f"--users: {text!r} is not N or LOW..HIGH (e.g. 1000..1000000, 1k..1M)"])
    values = [_number(p, text) for p in parts]
    low, high = values[0], values[-1]
    if low <= 0 or high < low or high > MAX_USERS:
        raise PlanInputError([f"--users: {text!r}: need 0 < LOW ≤ HIGH ≤ {fmt(MAX_USERS)}"])
    return low, high


def _number(part: str, text: str) -> float:
    match = re.fullmatch(r"([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([kKmM]?)", part)
    if not match:
        where = f"{part!r}" if part == text.strip() else f"{part!r} in {text!r}"
        raise PlanInputError([f"--users: {where} is not a number (accepted: 1000, 1_000, 1k, 2.5M, 1e6)"])
    value = float(match.group(1).replace("_", "").replace(",", ""))
    return value * {"": 1, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}[match.group(2)]


def points_between(low: float, high: float, count: int = 41) -> list[float]:
    if high <= low:
        return [low]
    ratio = math.log(high / low)
    return [low * math.exp(ratio * i / (count - 1)) for i in range(count)]


def cost_at(req: Requirements, catalog: Catalog, stack: str, mau: float, ctx: Context) -> Point:
    cost = evaluate_stack(catalog.stacks[stack], catalog, demand_at(req, mau, ha="ha" in ctx.must_have), ctx)
    return Point(mau, cost.monthly, None) if cost.fits else Point(mau, None, "; ".join(cost.reasons))


ContextAt = Callable[[float], Context]


def sweep(req: Requirements, catalog: Catalog, stacks: list[str], low: float, high: float, ctx: ContextAt,
          count: int = 41, progress: Callable[[str], None] | None = None) -> Sweep:
    """Cost every stack at `count` user counts spaced evenly on a log scale; `ctx(mau)` gives each one's context."""
    series = []
    for stack in stacks:
        if progress is not None:
            progress(stack)
        points = [cost_at(req, catalog, stack, mau, ctx(mau)) for mau in points_between(low, high, count)]
        series.append(Series(stack, catalog.stacks[stack].name, points))
    crossings = [c for i, a in enumerate(series) for b in series[i + 1:]
                 for c in _crossovers(req, catalog, a, b, ctx)]
    return Sweep(low, high, series, sorted(crossings, key=lambda c: c.mau))


def _signs(a: Series, b: Series) -> list[int]:
    """+1 where a is dearer, -1 where cheaper, 0 where either does not fit or they tie."""
    out = []
    for pa, pb in zip(a.points, b.points, strict=True):
        if pa.monthly is None or pb.monthly is None or abs(pa.monthly - pb.monthly) < 1e-9:
            out.append(0)
        else:
            out.append(1 if pa.monthly > pb.monthly else -1)
    return out


def _steady(signs: list[int], min_run: int = 3) -> list[int]:
    """Drop short runs between longer ones: step-shaped costs cross back and forth near a tie."""
    runs: list[list[int]] = []  # [sign, start, length]
    for index, sign in enumerate(signs):
        if runs and runs[-1][0] == sign:
            runs[-1][2] += 1
        else:
            runs.append([sign, index, 1])
    steady = list(signs)
    for position, (sign, start, length) in enumerate(runs):
        if sign == 0 or length >= min_run or position in (0, len(runs) - 1):
            continue
        before, after = runs[position - 1][0], runs[position + 1][0]
        if before == after and before != 0:
            steady[start:start + length] = [before] * length
    return steady


def _crossovers(req: Requirements, catalog: Catalog, a: Series, b: Series, ctx: ContextAt) -> list[Crossover]:
    signs = _steady(_signs(a, b))
    found = []
    last_index, last_sign = None, 0
    for index, sign in enumerate(signs):
        if sign == 0:
            continue
        if last_index is not None and sign != last_sign:
            low, high = a.points[last_index].mau, a.points[index].mau
            mau = _bisect(req, catalog, a.stack, b.stack, low, high, last_sign > 0, ctx)
            above, below = (a.stack, b.stack) if sign < 0 else (b.stack, a.stack)
            found.append(Crossover(mau, above, below, cost_at(req, catalog, above, mau, ctx(mau)).monthly))
        last_index, last_sign = index, sign
    return found


def fit_limits(series: Series) -> list[str]:
    """Where a stack starts or stops fitting, with the first reason it gives."""
    out = []
    for before, after in zip(series.points, series.points[1:], strict=False):
        if before.monthly is not None and after.monthly is None:
            out.append(f"the {series.stack} stack stops fitting between {fmt(before.mau)} and {fmt(after.mau)} MAU: "
                       f"{(after.reason or '').split('; ')[0]}")
        elif before.monthly is None and after.monthly is not None:
            out.append(f"the {series.stack} stack fits from about {fmt(after.mau)} MAU")
    return out


def _bisect(req: Requirements, catalog: Catalog, a: str, b: str, low: float, high: float, a_dearer_low: bool,
            ctx: ContextAt) -> float:
    for _ in range(24):
        mid = math.sqrt(low * high)
        pa, pb = cost_at(req, catalog, a, mid, ctx(mid)), cost_at(req, catalog, b, mid, ctx(mid))
        if pa.monthly is None or pb.monthly is None:
            break
        if ((pa.monthly - pb.monthly) > 0) == a_dearer_low:
            low = mid
        else:
            high = mid
        if high / low < 1.005:
            break
    return math.sqrt(low * high)


def _round2(value: float) -> str:
    if value <= 0:
        return "0"
    magnitude = math.floor(math.log10(value))
    digits = max(0, 1 - magnitude)
    rounded = round(value, 1 - magnitude)
    return f"{rounded:,.{min(digits, 2)}f}" if rounded < 10 else f"{rounded:,.0f}"


def describe_point(point: Point) -> str:
    return usd(point.monthly) if point.monthly is not None else "does not fit"
