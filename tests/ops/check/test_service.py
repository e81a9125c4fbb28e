"""The service's own /metrics, from a real `hashigo serve`: what happened between two scrapes, counted
exactly; probes and unknown paths left out; 4xx are not errors; latency from the histogram's buckets."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hashigo.ops.check.histogram import quantile, subtract
from hashigo.ops.check.sources.service import ServiceSource, derive
from tests.harness.service import LiveService, profile_environment
from tests.ops.check.helpers import SKIP_AUTO, as_json, invoke, rule, source
from tests.ops.check.live import Load, User, make_user


@pytest.fixture(scope="module")
def embedded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp("check-service")
    service = LiveService(profile_environment("embedded", request, folder), folder).start()
    try:
        yield service
    finally:
        service.stop()


def test_quantile_interpolates_like_promql() -> None:
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.7, buckets) == pytest.approx(0.1 + 0.4 * 20 / 40)
    assert quantile(0.95, buckets) == pytest.approx(0.5 + 0.5 * 5 / 10)
    assert quantile(0.99, {0.1: 1.0, math.inf: 10.0}) == 0.1  # in +Inf: the highest finite bound
    assert quantile(0.5, {0.1: 0.0, math.inf: 0.0}) is None
    assert subtract({0.1: 5.0, math.inf: 9.0}, {0.1: 2.0, math.inf: 3.0}) == {0.1: 3.0, math.inf: 6.0}
    assert subtract({0.1: 1.0, math.inf: 1.0}, {0.1: 2.0, math.inf: 3.0}) == {0.1: 1.0, math.inf: 1.0}  # restart


def test_two_scrapes_count_exactly_what_happened_between(embedded: LiveService) -> None:
    async def scenario() -> tuple[list[object], float]:
        user = await make_user(embedded.url)
        probe = ServiceSource(embedded.url, sample_seconds=0.1, timeout_seconds=5,
                              exclude_routes=("/healthz", "/readyz", "<unmatched>"))
        slowest = 0.0
        try:
            before = await probe.scrape()
            async with httpx.AsyncClient(base_url=embedded.url, timeout=30, trust_env=False) as http:
                for path, headers, times in (("/api/v1/users/me", user.headers, 15), ("/api/v1/users/me", {}, 5),
                                             ("/api/v1/no-such-route", {}, 10), ("/healthz", {}, 5)):
                    for _ in range(times):
                        started = time.monotonic()
                        await http.get(path, headers=headers)
                        slowest = max(slowest, time.monotonic() - started)
            after = await probe.scrape()
        finally:
            await probe.close()
        return list(derive(before, after)), slowest

    readings, slowest = asyncio.run(scenario())
    by_metric = {r.metric: r for r in readings}  # type: ignore[attr-defined]
    # 15 answered 200 and 5 answered 401; the 404s of unknown paths and the probes are not the API's load.
    assert by_metric["request_rate"].note.startswith("20 responses in")
    assert by_metric["error_rate_pct"].value == 0 and by_metric["error_rate_pct"].note == "0 of 20 were 5xx"
    average = by_metric["latency_avg_ms"].value
    assert average is not None and 0 < average <= slowest * 1000  # the server's time is within the client's
    p95, p99 = by_metric["latency_p95_ms"].value, by_metric["latency_p99_ms"].value
    assert p95 is not None and p99 is not None and 0 < p95 <= p99 <= 10_000
    assert by_metric["in_flight"].value == 0 and by_metric["websockets"].value == 0


def test_check_reports_the_service_under_load(embedded: LiveService, tmp_path: Path) -> None:
    user: User = asyncio.run(make_user(embedded.url))
    with Load(embedded.url, user, ("/api/v1/users/me", "/api/v1/sessions/{session}/meta/user_profile"),
              workers=2) as load:
        time.sleep(0.5)
        result = invoke(tmp_path, *SKIP_AUTO[2:], "--service", embedded.url, "--sample-seconds", "2",
                        "--history", str(tmp_path / "h.sqlite3"), "--json")
    data = as_json(result)
    assert load.statuses[200] > 10 and set(load.statuses) == {200}
    assert source(data, "service")["ok"] and source(data, "service")["details"]["seconds"] >= 2
    latency = rule(data, "latency-avg")
    assert latency["source"] == "service" and latency["value"] is not None and latency["value"] > 0
    assert latency["now_level"] in ("ok", "consider", "required")  # a level from a real number, whatever it is
    errors = rule(data, "error-rate")
    assert errors["value"] == 0 and errors["now_level"] == "ok"
    assert rule(data, "requests-of-plan")["status"] == "no limit"  # no plan named
    histogram = source(data, "service")["details"]["histogram"]
    assert histogram["+Inf"] >= 10 and list(histogram)[-1] == "+Inf"


def test_a_service_url_without_path_means_its_metrics(embedded: LiveService, tmp_path: Path) -> None:
    result = invoke(tmp_path, *SKIP_AUTO[2:], "--service", embedded.url + "/", "--sample-seconds", "0.2",
                    "--history", str(tmp_path / "h.sqlite3"), "--json")
    data = as_json(result)
    assert source(data, "service")["target"] == embedded.url + "/metrics" and source(data, "service")["ok"]
    assert rule(data, "latency-avg")["status"] == "no data"  # nothing happened in 0.2 s: not "ok", not "0 ms"
