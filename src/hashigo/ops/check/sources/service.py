"""The service's own `/metrics` (Prometheus text): rates and latency between two scrapes.

Counters and histograms only say what happened since the process started, so the source reads
them twice, `sample_seconds` apart (in `--watch`, the previous tick's scrape is the first read), and
reports what happened in between: requests per second, average / p95 / p99 latency from the
histogram's buckets, and the share of 5xx responses. 4xx are the client's errors, not the service's.
Probes and unmatched paths (`<unmatched>`: a scan of random URLs) are left out by default.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hashigo.ops.check.histogram import quantile, subtract
from hashigo.ops.check.sources.base import Reading, Sample

LATENCY = "hashigo_http_request_duration_seconds"
REQUESTS = "hashigo_http_requests_total"
IN_FLIGHT = "hashigo_http_requests_in_flight"
WEBSOCKETS = "hashigo_websocket_connections"
_DAY = 86400.0


@dataclass
class Snapshot:
    at: float
    buckets: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    latency_sum: float = 0.0
    latency_count: float = 0.0
    responses: float = 0.0
    errors: float = 0.0
    in_flight: float | None = None
    websockets: float | None = None


def parse_metrics(text: str, exclude_routes: tuple[str, ...], at: float) -> Snapshot:
    snap = Snapshot(at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, float(sample.value)
            if labels.get("route") in exclude_routes:
                continue
            if sample.name == f"{LATENCY}_bucket":
                snap.buckets[float(labels["le"])] += value
            elif sample.name == f"{LATENCY}_sum":
                snap.latency_sum += value
            elif sample.name == f"{LATENCY}_count":
                snap.latency_count += value
            elif sample.name == REQUESTS:
                snap.responses += value
                snap.errors += value if labels.get("status", "").startswith("5") else 0.0
            elif sample.name == IN_FLIGHT:
                snap.in_flight = value
            elif sample.name == WEBSOCKETS:
                snap.websockets = value
    return snap


def derive(before: Snapshot, after: Snapshot, source: str = "service") -> list[Reading]:
    """Readings for what happened between two snapshots of the same process."""
    restarted = after.responses < before.responses or after.latency_count < before.latency_count
    if restarted:
        before = Snapshot(before.at)
    seconds = max(after.at - before.at, 1e-6)
    responses = after.responses - before.responses
    count = after.latency_count - before.latency_count
    buckets = subtract(after.buckets, before.buckets)
    quiet = "no requests during the sample"
    rate = responses / seconds
    readings = [
        Reading("request_rate", rate, source, f"{responses:.0f} responses in {seconds:.1f} s"),
        Reading("requests_per_day", rate * _DAY, source, "projected from the current rate"),
        Reading("requests_month", rate * _DAY * 30, source, "projected from the current rate"),
        Reading("error_rate_pct", 100 * (after.errors - before.errors) / responses if responses else None, source,
                f"{after.errors - before.errors:.0f} of {responses:.0f} were 5xx" if responses else quiet),
        Reading("latency_avg_ms", 1000 * (after.latency_sum - before.latency_sum) / count if count else None, source,
                "" if count else quiet),
    ]
    for q, metric in ((0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
        value = quantile(q, buckets) if count else None
        readings.append(Reading(metric, None if value is None else value * 1000, source, "" if count else quiet))
    if after.in_flight is not None:
        readings.append(Reading("in_flight", after.in_flight, source))
    if after.websockets is not None:
        readings.append(Reading("websockets", after.websockets, source))
    return readings


def metrics_url(url: str) -> str:
    """`http://host:port` means its `/metrics`."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"service URL {url!r}: accepted: http(s)://host:port[/metrics]")
    return url if parts.path not in {"", "/"} else urlunsplit((*parts[:2], "/metrics", parts.query, ""))


class ServiceSource:
    name = "service"
    provides: tuple[str, ...] = ("request_rate", "requests_per_day", "requests_month", "error_rate_pct",
                                 "latency_avg_ms", "latency_p95_ms", "latency_p99_ms", "in_flight", "websockets")

    def __init__(self, url: str, *, sample_seconds: float, timeout_seconds: float,
                 exclude_routes: tuple[str, ...]) -> None:
        self.target = metrics_url(url)
        self.sample_seconds = sample_seconds
        self.request_timeout = timeout_seconds
        self.timeout = sample_seconds + 2 * timeout_seconds
        self.exclude_routes = exclude_routes
        self.previous: Snapshot | None = None
        self._client = httpx.AsyncClient(timeout=timeout_seconds, headers={"Accept": "text/plain"})

    async def scrape(self) -> Snapshot:
        response = await self._client.get(self.target)
        if response.status_code != 200:
            raise RuntimeError(f"GET {self.target} answered {response.status_code}")
        at = time.monotonic()
        try:
            snapshot = parse_metrics(response.text, self.exclude_routes, at)
        except ValueError as exc:
            raise RuntimeError(f"{self.target} is not Prometheus text ({exc})") from None
        if snapshot.in_flight is None:
            raise RuntimeError(f"{self.target} has no {IN_FLIGHT}: not `hashigo serve`'s metrics (for another "
                               f"app, use the prometheus source with your own queries)")
        return snapshot

    async def sample(self) -> Sample:
        before = self.previous
        if before is None:
            before = await self.scrape()
            await asyncio.sleep(self.sample_seconds)
        after = await self.scrape()
        self.previous = after
        sample = Sample(derive(before, after, self.name))
        sample.details["seconds"] = round(after.at - before.at, 3)
        sample.details["histogram"] = {("+Inf" if math.isinf(le) else f"{le:g}"): count
                                       for le, count in sorted(subtract(after.buckets, before.buckets).items())}
        return sample

    async def close(self) -> None:
        await self._client.aclose()
