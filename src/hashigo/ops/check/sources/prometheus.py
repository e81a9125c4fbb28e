"""A Prometheus server's HTTP API: the service's metrics as PromQL over a window, for teams that run one.

The default queries read the metrics `hashigo serve` exports; `queries:` in the rules file replaces
any of them (or adds a metric such as `dau`) for apps that export other names. Each query must
return one number (a scalar, or a vector whose values are summed).
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Any

import httpx

from hashigo.ops.check.sources.base import Reading, Sample

_DAY = 86400.0


def _matchers(selector: str, *extra: str) -> str:
    parts = [p for p in (selector.strip().strip("{}").strip(), *extra) if p]
    return "{" + ",".join(parts) + "}"


def default_queries(window: str, selector: str, exclude_routes: tuple[str, ...]) -> dict[str, str]:
    excluded = f'route!~"{"|".join(re.escape(r) for r in exclude_routes)}"' if exclude_routes else ""
    sel = _matchers(selector, excluded)
    errors = _matchers(selector, excluded, 'status=~"5.."')
    requests = f"sum(rate(hashigo_http_requests_total{sel}[{window}]))"
    latency = "hashigo_http_request_duration_seconds"
    queries = {
        "request_rate": requests,
        # No 5xx series at all is 0 errors, not "no data"; no requests at all stays no data.
        "error_rate_pct": f"100 * (sum(rate(hashigo_http_requests_total{errors}[{window}])) or vector(0)) / {requests}",
        "latency_avg_ms": f"1000 * sum(rate({latency}_sum{sel}[{window}])) / sum(rate({latency}_count{sel}[{window}]))",
        "in_flight": f"sum(hashigo_http_requests_in_flight{_matchers(selector)})",
        "websockets": f"sum(hashigo_websocket_connections{_matchers(selector)})",
    }
    for q, metric in ((0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
        queries[metric] = f"1000 * histogram_quantile({q}, sum by (le) (rate({latency}_bucket{sel}[{window}])))"
    return queries


def value_of(data: dict[str, Any]) -> float | None:
    """The number a query answered: a scalar, or the sum of a vector; None for no series or NaN."""
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        values = [float(result[1])]
    elif kind == "vector" and isinstance(result, list):
        values = [float(series["value"][1]) for series in result]
    else:
        raise RuntimeError(f"a query answered a {kind}; accepted: a scalar or an instant vector")
    if not values or any(math.isnan(v) for v in values):
        return None
    return sum(values)


class PrometheusSource:
    name = "prometheus"

    def __init__(self, url: str, *, window: str, selector: str, timeout_seconds: float,
                 queries: dict[str, str], exclude_routes: tuple[str, ...]) -> None:
        self.target = url.rstrip("/")
        self.window = window
        self.request_timeout = timeout_seconds
        self.timeout = 2 * timeout_seconds  # the queries run at once
        self.queries = {**default_queries(window, selector, exclude_routes), **queries}
        self.provides: tuple[str, ...] = (*self.queries, "requests_per_day", "requests_month")
        self._client = httpx.AsyncClient(timeout=timeout_seconds)

    async def query(self, promql: str) -> float | None:
        response = await self._client.get(f"{self.target}/api/v1/query", params={"query": promql})
        try:
            body = response.json()
        except ValueError:
            raise RuntimeError(f"{self.target} answered {response.status_code}, not the Prometheus API") from None
        if body.get("status") != "success":
            raise RuntimeError(f"{body.get('errorType', 'error')}: {body.get('error', response.text[:200])} "
                               f"in {promql}")
        return value_of(body["data"])

    async def sample(self) -> Sample:
        metrics = list(self.queries)
        values = await asyncio.gather(*(self.query(self.queries[m]) for m in metrics))
        sample = Sample(details={"window": self.window, "queries": self.queries})
        note = f"over the last {self.window}"
        for metric, value in zip(metrics, values, strict=True):
            sample.add(Reading(metric, value, self.name, note if value is not None else f"no data {note}"))
        rate = dict(zip(metrics, values, strict=True)).get("request_rate")
        if rate is not None:
            for metric, factor in (("requests_per_day", _DAY), ("requests_month", _DAY * 30)):
                if metric not in self.queries:
                    sample.add(Reading(metric, rate * factor, self.name, f"projected from the rate {note}"))
        return sample

    async def close(self) -> None:
        await self._client.aclose()
