"""Quantiles from a Prometheus histogram's cumulative buckets, as PromQL's histogram_quantile() does:
linear interpolation inside the bucket that holds the rank; a rank in the +Inf bucket answers the
highest finite bound (the histogram cannot say more)."""

from __future__ import annotations

import math
from collections.abc import Mapping


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """`buckets` maps each upper bound `le` (math.inf included) to the cumulative count; None without data."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be between 0 and 1, got {q}")
    bounds = sorted(buckets)
    if not bounds or bounds[-1] != math.inf:
        return None
    total = buckets[math.inf]
    if total <= 0:
        return None
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank and count > previous_count:
            if bound == math.inf:
                finite = [b for b in bounds if b != math.inf]
                return finite[-1] if finite else None
            start = previous_bound if previous_bound < bound else 0.0
            return start + (bound - start) * (rank - previous_count) / (count - previous_count)
        previous_bound, previous_count = bound, count
    return None


def subtract(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    """Bucket counts observed between two scrapes; a restart (a count going down) starts from zero."""
    if any(after.get(le, 0.0) < count for le, count in before.items()):
        return dict(after)
    return {le: count - before.get(le, 0.0) for le, count in after.items()}
