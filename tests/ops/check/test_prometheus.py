"""Through a real Prometheus server (Debian `prometheus`; scripts/test installs it) scraping a running
`hashigo serve` every second: PromQL over a window gives the rate, latency and error rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.base import ServerProcess, find_executable, free_port, missing_server
from tests.harness.service import LiveService, profile_environment
from tests.ops.check.helpers import SKIP_AUTO, as_json, invoke, rule, source
from tests.ops.check.live import Load, make_user


@pytest.fixture
def scraped(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveService, str]]:
    binary = find_executable("prometheus", "/usr/bin", "/usr/local/bin")
    if binary is None:
        missing_server("prometheus", "apt-get install prometheus (scripts/test installs it when apt-get works)")
    service = LiveService(profile_environment("embedded", request, tmp_path), tmp_path).start()
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n"
                      f"  - job_name: hashigo\n    static_configs: [{{targets: ['127.0.0.1:{service.port}']}}]\n")
    argv = [str(binary), f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}", "--log.level=warn"]
    server = ServerProcess("prometheus", argv, port, tmp_path / "prometheus.log")
    try:
        server.start()
        yield service, f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        service.stop()


def _scrapes(url: str) -> float:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": 'count_over_time(up{job="hashigo"}[1m])'}).json()
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_promql_over_a_window(scraped: tuple[LiveService, str], tmp_path: Path) -> None:
    service, prometheus = scraped
    user = asyncio.run(make_user(service.url))
    with Load(service.url, user, ("/api/v1/users/me", "/api/v1/sessions/{session}/meta/user_profile"), workers=2):
        deadline = time.monotonic() + 40
        started = _scrapes(prometheus)
        while _scrapes(prometheus) < started + 6 and time.monotonic() < deadline:
            time.sleep(0.5)
    (tmp_path / "rules.yaml").write_text(
        "sources:\n  prometheus:\n    url: " + prometheus + "\n    window: 30s\n    selector: 'job=\"hashigo\"'\n"
        "    queries:\n      active_users: 'count(up{job=\"hashigo\"}) * 600'\n"
        "rules:\n  latency-avg: {sustained: null}\n  error-rate: {sustained: null}\n")
    data = as_json(invoke(tmp_path, *SKIP_AUTO, "--rules", str(tmp_path / "rules.yaml"), "--history",
                          str(tmp_path / "h.sqlite3"), "--json"))
    prom = source(data, "prometheus")
    assert prom["ok"], prom["error"]
    assert 'job="hashigo"' in prom["details"]["queries"]["request_rate"]
    latency = rule(data, "latency-avg")
    assert latency["source"] == "prometheus" and latency["value"] is not None and latency["value"] > 0
    errors = rule(data, "error-rate")
    assert errors["source"] == "prometheus" and errors["value"] == 0 and errors["status"] == "ok"
    p95 = rule(data, "latency-p95")
    assert p95["value"] is not None and p95["value"] >= latency["value"] * 0.5
    users = rule(data, "active-users")  # our own query: seed 002's "500 active users" → consider
    assert users["value"] == 600 and users["status"] == "consider" and data["exit_code"] == 1
    rate = next(r for r in data["rules"] if r["metric"] == "requests_month")
    assert rate["value"] > 0

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"sources:\n  prometheus:\n    url: {prometheus}\n    queries:\n      dau: 'sum(rate(x[5m]'\n")
    broken = as_json(invoke(tmp_path, *SKIP_AUTO, "--rules", str(bad), "--history", str(tmp_path / "h.sqlite3"),
                            "--json"))
    assert broken["exit_code"] == 3 and "bad_data" in source(broken, "prometheus")["error"]
