"""Request ids, the JSON access log and the HTTP/backend metrics, on the app in-process and under `hashigo serve`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException, WebSocket
from starlette.testclient import TestClient

from hashigo.kv.protocol import KeyValueError
from hashigo.runtime import Runtime
from hashigo.service.app import create_app
from hashigo.service.kit.logging import JsonFormatter, TextFormatter, configure_logging
from hashigo.service.kit.metrics import REGISTRY
from hashigo.service.kit.observability import ObservabilityMiddleware
from hashigo.settings import ServiceSettings, load_settings
from hashigo.storage.protocol import ObjectNotFound
from tests.harness.base import free_port
from tests.harness.blackhole import Blackhole
from tests.harness.service import LiveService

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HASHIGO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "test-secret-" + "k" * 40, **extra}


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class Probe:
    """The app with a few routes of this test's own, and the log lines it wrote."""

    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime
    log: io.StringIO
    release: asyncio.Event

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.strip()]


def add_probe_routes(app: FastAPI, release: asyncio.Event) -> None:
    async def item(item_id: str) -> dict[str, str]:
        logging.getLogger("tests.probe").warning("looking at an item", extra={"item": item_id})
        if item_id == "missing":
            raise HTTPException(404, "no such item")
        return {"id": item_id}

    async def slow() -> dict[str, bool]:
        await release.wait()
        return {"done": True}

    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/_probe/items/{item_id}", item)
    app.add_api_route("/_probe/slow", slow)
    app.add_api_route("/_probe/boom", boom)


@pytest.fixture
async def probe(tmp_path: Path) -> AsyncIterator[Probe]:
    runtime = Runtime.open(load_settings(embedded_env(tmp_path), env_file=None, cwd=tmp_path))
    app = create_app(runtime=runtime)
    release = asyncio.Event()
    add_probe_routes(app, release)
    buffer = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(ServiceSettings(log_level="INFO"), stream=buffer)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.9", 4711))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Probe(app, client, runtime, buffer, release)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        await runtime.aclose()


# --- request ids -------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ["abc", "req-2024.01_x", "A" * 64])
async def test_a_sane_request_id_is_echoed(probe: Probe, given: str) -> None:
    response = await probe.client.get("/healthz", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["A" * 65, "has space", 'quote"d', "<script>", "semi;colon", "", "ü"])
async def test_an_unsafe_request_id_is_replaced(probe: Probe, given: str) -> None:
    response = await probe.client.get("/healthz", headers={"X-Request-ID": given.encode()})
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_each_request_without_an_id_gets_a_fresh_one(probe: Probe) -> None:
    ids = {(await probe.client.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(GENERATED_ID.fullmatch(i) for i in ids)


# --- logs ----------------------------------------------------------------------------------------------

async def test_every_log_line_of_a_request_carries_its_id(probe: Probe) -> None:
    await probe.client.get("/_probe/items/42", headers={"X-Request-ID": "trace-1"})
    await probe.client.get("/_probe/items/43", headers={"X-Request-ID": "trace-2"})
    lines = probe.lines()
    inside = [line for line in lines if line["logger"] == "tests.probe"]
    assert [(line["request_id"], line["item"]) for line in inside] == [("trace-1", "42"), ("trace-2", "43")]
    assert {"ts", "level", "logger", "msg", "request_id"} <= set(inside[0])
    assert inside[0]["msg"] == "looking at an item" and inside[0]["level"] == "WARNING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", inside[0]["ts"])


async def test_one_access_line_per_request(probe: Probe) -> None:
    await probe.client.get("/_probe/items/7?color=red", headers={"X-Request-ID": "access-1"})
    access = [line for line in probe.lines() if line["logger"] == "hashigo.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "access-1"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/_probe/items/{item_id}", 200)
    assert line["path"] == "/_probe/items/7?color=red"
    assert line["client"] == "203.0.113.9"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


async def test_the_access_log_holds_no_secrets(probe: Probe) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.secret-token-body.sig"
    await probe.client.get("/_probe/items/7", params={"access_token": "qs-token-value", "signature": "qs-sig-value",
                                                      "expires": "123"},
                           headers={"Authorization": f"Bearer {token}", "Cookie": "session=cookie-value"})
    # The test's own client (httpx) logs its URLs; the server's lines are everything else.
    text = "\n".join(json.dumps(line) for line in probe.lines() if line["logger"] != "httpx")
    assert "hashigo.access" in text
    for secret in (token, "qs-token-value", "qs-sig-value", "cookie-value"):
        assert secret not in text
    access = next(line for line in probe.lines() if line["logger"] == "hashigo.access")
    assert access["path"] == "/_probe/items/7?access_token=***&signature=***&expires=123"


async def test_successful_probes_are_not_access_logged_at_info(probe: Probe) -> None:
    for path in ("/healthz", "/metrics", "/readyz"):
        assert (await probe.client.get(path)).status_code == 200
    assert [line for line in probe.lines() if line["logger"] == "hashigo.access"] == []


async def test_an_unhandled_error_is_a_logged_and_counted_500(probe: Probe) -> None:
    before = metric("hashigo_http_requests_total", method="GET", route="/_probe/boom", status="500")
    response = await probe.client.get("/_probe/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert metric("hashigo_http_requests_total", method="GET", route="/_probe/boom", status="500") == before + 1
    errors = [line for line in probe.lines() if line["msg"] == "unhandled error"]
    assert errors and errors[0]["request_id"] == "boom-1"
    assert "RuntimeError: an unexpected failure" in errors[0]["exc"]
    access = [line for line in probe.lines() if line["logger"] == "hashigo.access"]
    assert access[-1]["status"] == 500 and access[-1]["level"] == "WARNING"


def test_text_format_and_json_format_carry_the_same_fields() -> None:
    record = logging.LogRecord("hashigo.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.route = "/x/{id}"
    as_json = json.loads(JsonFormatter().format(record))
    assert as_json["msg"] == "hello world" and as_json["route"] == "/x/{id}" and as_json["request_id"] is None
    as_text = TextFormatter().format(record)
    assert "INFO" in as_text and "hello world" in as_text and "route=/x/{id}" in as_text


def test_configuring_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    level = root.level
    try:
        first = configure_logging(ServiceSettings(log_format="text"), stream=io.StringIO())
        second = configure_logging(ServiceSettings(log_format="json"), stream=io.StringIO())
        assert first not in root.handlers and second in root.handlers
        assert isinstance(second.formatter, JsonFormatter)
    finally:
        root.removeHandler(second)
        root.setLevel(level)


# --- metrics -------------------------------------------------------------------------------------------

async def test_latency_is_labelled_by_route_template_never_the_raw_path(probe: Probe) -> None:
    template = "/_probe/items/{item_id}"
    before = metric("hashigo_http_request_duration_seconds_count", method="GET", route=template)
    ok_before = metric("hashigo_http_requests_total", method="GET", route=template, status="200")
    missing_before = metric("hashigo_http_requests_total", method="GET", route=template, status="404")
    for item in ("raw-a", "raw-b", "missing"):
        await probe.client.get(f"/_probe/items/{item}")
    assert metric("hashigo_http_request_duration_seconds_count", method="GET", route=template) == before + 3
    assert metric("hashigo_http_requests_total", method="GET", route=template, status="200") == ok_before + 2
    assert metric("hashigo_http_requests_total", method="GET", route=template, status="404") == missing_before + 1
    text = (await probe.client.get("/metrics")).text
    assert "raw-a" not in text and "raw-b" not in text


async def test_unmatched_paths_share_one_label(probe: Probe) -> None:
    before = metric("hashigo_http_requests_total", method="GET", route="<unmatched>", status="404")
    for n in range(3):
        assert (await probe.client.get(f"/no/such/path/{n}")).status_code == 404
    assert metric("hashigo_http_requests_total", method="GET", route="<unmatched>", status="404") == before + 3
    assert "/no/such/path" not in (await probe.client.get("/metrics")).text


async def test_method_not_allowed_is_labelled_by_the_route(probe: Probe) -> None:
    before = metric("hashigo_http_requests_total", method="DELETE", route="/healthz", status="405")
    assert (await probe.client.delete("/healthz")).status_code == 405
    assert metric("hashigo_http_requests_total", method="DELETE", route="/healthz", status="405") == before + 1


async def test_in_flight_counts_requests_being_served(probe: Probe) -> None:
    def in_flight(text: str) -> float:
        found = re.search(r"^hashigo_http_requests_in_flight (\S+)$", text, re.MULTILINE)
        assert found is not None
        return float(found.group(1))

    idle = in_flight((await probe.client.get("/metrics")).text)
    slow = asyncio.create_task(probe.client.get("/_probe/slow"))
    for _ in range(100):  # until the slow request is inside the app
        busy = in_flight((await probe.client.get("/metrics")).text)
        if busy == idle + 1:
            break
        await asyncio.sleep(0.01)
    assert busy == idle + 1  # /metrics does not count itself
    probe.release.set()
    assert (await slow).status_code == 200
    assert in_flight((await probe.client.get("/metrics")).text) == idle


async def test_backend_calls_are_timed_and_answers_are_not_errors(probe: Probe) -> None:
    runtime = probe.app.state.runtime
    kv_set = metric("hashigo_backend_call_duration_seconds_count", backend="kv", operation="set")
    kv_get = metric("hashigo_backend_call_duration_seconds_count", backend="kv", operation="get")
    head = metric("hashigo_backend_call_duration_seconds_count", backend="storage", operation="head")
    select = metric("hashigo_backend_call_duration_seconds_count", backend="database", operation="select")
    errors = {b: metric("hashigo_backend_errors_total", backend=b, operation=o)
              for b, o in (("kv", "set"), ("storage", "head"))}

    await runtime.kv.namespace("obs").set("k", b"v", ttl=30)
    assert await runtime.kv.namespace("obs").get("k") == b"v"
    with pytest.raises(KeyValueError):
        await runtime.kv.set("k", b"v", ttl=-1)  # the caller's mistake, not the backend's
    with pytest.raises(ObjectNotFound):
        await runtime.storage.head("nothing/here")
    assert (await probe.client.get("/readyz")).status_code == 200

    assert metric("hashigo_backend_call_duration_seconds_count", backend="kv", operation="set") == kv_set + 2
    assert metric("hashigo_backend_call_duration_seconds_count", backend="kv", operation="get") == kv_get + 1
    assert metric("hashigo_backend_call_duration_seconds_count", backend="storage", operation="head") == head + 2
    assert metric("hashigo_backend_call_duration_seconds_count", backend="database", operation="select") > select
    assert errors == {b: metric("hashigo_backend_errors_total", backend=b, operation=o)
                      for b, o in (("kv", "set"), ("storage", "head"))}


async def test_backend_outages_are_counted_as_errors(blackhole: Blackhole, tmp_path: Path) -> None:
    closed_port = free_port()  # nothing listens: connection refused
    env = embedded_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{blackhole.port}/0", KV_TIMEOUT="0.3",
                       DATABASE_URL=f"postgresql://u@127.0.0.1:{closed_port}/db", DATABASE_CONNECT_TIMEOUT="1")
    runtime = Runtime.open(load_settings(env, env_file=None, cwd=tmp_path))
    app = create_app(runtime=runtime)
    kv_errors = metric("hashigo_backend_errors_total", backend="kv", operation="get")
    connect_errors = metric("hashigo_backend_errors_total", backend="database", operation="connect")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            readiness = (await client.get("/readyz")).json()["checks"]
        with pytest.raises(Exception, match="kv"):
            await app.state.runtime.kv.get("anything")
    finally:
        await runtime.aclose()
    assert readiness["database"]["ok"] is False and readiness["kv"]["ok"] is False
    assert metric("hashigo_backend_errors_total", backend="kv", operation="get") == kv_errors + 1
    assert metric("hashigo_backend_errors_total", backend="database", operation="connect") > connect_errors


# --- WebSocket and the real server ----------------------------------------------------------------------

@pytest.fixture
def sync_app(tmp_path: Path) -> Iterator[FastAPI]:
    runtime = Runtime.open(load_settings(embedded_env(tmp_path), env_file=None, cwd=tmp_path))
    app = create_app(runtime=runtime)

    async def echo_id(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.add_api_websocket_route("/_probe/ws", echo_id)
    yield app
    asyncio.run(runtime.aclose())


def test_websocket_handshake_echoes_the_request_id(sync_app: FastAPI) -> None:
    with TestClient(sync_app) as client, client.websocket_connect(
            "/_probe/ws", headers={"X-Request-ID": "ws-trace-1"}) as socket:
        assert socket.receive_text() == "hello"
        assert (b"x-request-id", b"ws-trace-1") in socket.extra_headers


def test_hashigo_serve_writes_json_lines_with_request_ids(tmp_path: Path) -> None:
    service = LiveService(embedded_env(tmp_path, LOG_LEVEL="INFO"), tmp_path).start()
    try:
        secret = "Bearer never-logged-token-value"
        response = httpx.get(f"{service.url}/api/v1/users/me?access_token=qs-secret-value",
                             headers={"X-Request-ID": "live-trace-1", "Authorization": secret})
        assert response.status_code == 401
        assert response.headers["x-request-id"] == "live-trace-1"
    finally:
        service.stop()
    text = service.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    access = [line for line in lines if line["logger"] == "hashigo.access" and line["request_id"] == "live-trace-1"]
    assert len(access) == 1
    assert access[0]["route"] == "/api/v1/users/me" and access[0]["status"] == 401
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines are JSON too
    assert "never-logged-token-value" not in text and "qs-secret-value" not in text


async def test_routes_of_included_routers_carry_their_full_template(probe: Probe) -> None:
    template = "/api/v1/sessions/{session_id}"
    before = metric("hashigo_http_requests_total", method="GET", route=template, status="401")
    for session_id in ("a1", "b2"):
        assert (await probe.client.get(f"/api/v1/sessions/{session_id}")).status_code == 401
    assert metric("hashigo_http_requests_total", method="GET", route=template, status="401") == before + 2


async def test_one_router_under_two_api_versions_is_told_apart() -> None:
    """Seed 004: /api/v2 runs beside /api/v1, often with the same routers."""
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app = FastAPI()
    app.include_router(router, prefix="/api/v1")
    app.include_router(router, prefix="/api/v2")
    app.add_middleware(ObservabilityMiddleware)
    labels = {version: {"method": "GET", "route": f"/api/{version}/things/{{thing_id}}", "status": "200"}
              for version in ("v1", "v2")}
    before = {version: metric("hashigo_http_requests_total", **label) for version, label in labels.items()}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for path in ("/api/v1/things/x", "/api/v2/things/y", "/api/v2/things/z"):
            assert (await client.get(path)).status_code == 200
    assert metric("hashigo_http_requests_total", **labels["v1"]) == before["v1"] + 1
    assert metric("hashigo_http_requests_total", **labels["v2"]) == before["v2"] + 2


async def test_an_invented_method_does_not_grow_the_label_set(probe: Probe) -> None:
    before = metric("hashigo_http_requests_total", method="OTHER", route="/healthz", status="405")
    for n in range(3):
        response = await probe.client.request(f"BREW{n}", "/healthz")
        assert response.status_code == 405
    assert metric("hashigo_http_requests_total", method="OTHER", route="/healthz", status="405") == before + 3
    assert "BREW" not in (await probe.client.get("/metrics")).text


async def test_websocket_lines_carry_the_route_and_no_token(tmp_path: Path) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from tests.service.accounts import signed_in

    service = LiveService(embedded_env(tmp_path, LOG_LEVEL="INFO"), tmp_path).start()
    try:
        async with httpx.AsyncClient(base_url=service.url) as http:
            account = await signed_in(http)
        url = f"{service.ws_url}/api/v1/ws?access_token={account.access_token}"
        async with connect(url, additional_headers={"X-Request-ID": "ws-live-1"}, proxy=None) as socket:
            assert socket.response.headers["x-request-id"] == "ws-live-1"
            await asyncio.wait_for(socket.recv(), 5)
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{service.ws_url}/api/v1/ws?access_token=forged-token-value",
                          additional_headers={"X-Request-ID": "ws-live-2"}, proxy=None)
        assert refused.value.response.headers["x-request-id"] == "ws-live-2"
    finally:
        service.stop()
    text = service.log_path.read_text()
    lines = {line["request_id"]: line for line in map(json.loads, text.splitlines())
             if line["logger"] == "hashigo.access"}
    assert lines["ws-live-1"]["route"] == "/api/v1/ws" and lines["ws-live-1"]["status"] == 101
    assert lines["ws-live-1"]["path"] == "/api/v1/ws?access_token=***"
    assert lines["ws-live-2"]["status"] == refused.value.response.status_code
    assert account.access_token not in text and "forged-token-value" not in text
