"""/api/v1/ws against a real `hashigo serve` on the embedded defaults (in-process pub/sub).

Security checklist 17 (handshake needs a valid token and an allowed Origin; the socket closes
when the token expires or is revoked) and 18 (frame size and queue bounded; oversize → 1009).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hashigo.service.realtime.service import MAX_SUBSCRIPTIONS, origin_allowed
from tests.harness.service import LiveService, profile_environment
from tests.service.accounts import PASSWORD, Account, login, signed_in
from tests.service.realtime_helpers import (
    close_of,
    expect,
    metric,
    new_session,
    next_frame,
    nothing_but_pong,
    open_socket,
    opened,
    refusal,
    subscribe,
)

ALLOWED_ORIGIN = "https://app.example.com"
MAX_MESSAGE = 4096


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """One server for the module: starting `hashigo serve` costs seconds."""
    folder = tmp_path_factory.mktemp("realtime")
    env = profile_environment("embedded", request, folder)
    env.update({"ALLOWED_ORIGINS": ALLOWED_ORIGIN, "WS_MAX_MESSAGE_BYTES": str(MAX_MESSAGE)})
    service = LiveService(env, folder).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
async def http(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
async def alice(http: httpx.AsyncClient) -> Account:
    return await signed_in(http)


# --- handshake (checklist 17) ---------------------------------------------------------------


async def test_handshake_without_a_token_is_refused_with_401(live: LiveService) -> None:
    status, body = await refusal(live)
    assert status == 401
    assert body["code"] == "invalid_token"
    assert "Authorization: Bearer" in body["detail"] and "access_token" in body["detail"]


async def test_bad_tokens_are_refused_before_accept(live: LiveService, alice: Account) -> None:
    token = alice.access_token
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (f"{header}.{payload}.{flipped}", "not-a-jwt", alice.refresh_token):
        status, body = await refusal(live, bad)
        assert (status, body["code"]) == (401, "invalid_token"), bad
    await asyncio.sleep(0.2)
    assert '"level": "ERROR"' not in live.log(), "a refused handshake logged an error"


async def test_malformed_credentials_say_what_is_accepted(live: LiveService, alice: Account) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    for headers, subprotocols in (({"Authorization": f"Basic {alice.access_token}"}, None),
                                  ({}, ["bearer"])):
        with pytest.raises(InvalidStatus) as caught:
            await connect(live.ws_url + "/api/v1/ws", additional_headers=headers, proxy=None,
                          subprotocols=subprotocols)  # type: ignore[arg-type]
        assert caught.value.response.status_code == 401
        assert "bearer" in json.loads(caught.value.response.body or b"{}")["detail"].lower()


@pytest.mark.parametrize("how", ["header", "subprotocol", "query"])
async def test_a_valid_token_opens_the_socket_each_documented_way(live: LiveService, alice: Account,
                                                                  how: str) -> None:
    socket = await open_socket(live, alice.access_token, how=how)
    ready = await expect(socket, "ready")
    assert ready["user_id"] == alice.user_id
    expires = datetime.fromisoformat(ready["expires_at"].replace("Z", "+00:00"))
    assert 0 < (expires - datetime.now(UTC)).total_seconds() <= 901
    assert socket.subprotocol == ("bearer" if how == "subprotocol" else None)
    await nothing_but_pong(socket)
    await socket.close()


async def test_origin_must_be_same_origin_or_allowed(live: LiveService, alice: Account) -> None:
    token = alice.access_token
    for origin in ("https://evil.example.com", "null", f"http://localhost:{live.port}", "http://127.0.0.1",
                   "https://app.example.com.evil.net", f"ftp://127.0.0.1:{live.port}"):
        status, body = await refusal(live, token, origin=origin)
        assert (status, body["code"]) == (403, "origin_not_allowed"), origin
    for allowed in (f"http://127.0.0.1:{live.port}", ALLOWED_ORIGIN, ALLOWED_ORIGIN.upper() + "/", None):
        socket = await opened(live, token, origin=allowed)
        await socket.close()


@pytest.mark.parametrize(("origin", "host", "scheme", "allowed"), [
    (None, "api.example.com", "ws", True),  # not a browser
    ("https://api.example.com", "api.example.com", "wss", True),
    ("https://api.example.com:443", "api.example.com", "wss", True),
    ("http://api.example.com", "api.example.com:80", "ws", True),
    ("https://api.example.com", "api.example.com", "ws", True),  # TLS ended at a proxy
    ("http://api.example.com", "api.example.com", "wss", False),  # a plain page reaching a TLS socket
    ("https://api.example.com:8443", "api.example.com", "wss", False),
    ("http://[::1]:8000", "[::1]:8000", "ws", True),
    ("http://[::1]:8001", "[::1]:8000", "ws", False),
    ("https://evil.example.com", "api.example.com", "wss", False),
    ("https://api.example.com.evil.net", "api.example.com", "wss", False),
    ("null", "api.example.com", "wss", False),
    ("https://api.example.com", None, "wss", False),
    ("https://api.example.com", "api.example.com:notaport", "wss", False),
    ("javascript://api.example.com", "api.example.com", "wss", False),
])
def test_origin_rules(origin: str | None, host: str | None, scheme: str, allowed: bool) -> None:
    assert origin_allowed(origin, host, scheme, ()) is allowed


def test_listed_origins_and_the_wildcard() -> None:
    listed = ("https://app.example.com", "null")
    assert origin_allowed("https://APP.example.com/", "api.example.com", "wss", listed)
    assert origin_allowed("null", "api.example.com", "wss", listed)
    assert not origin_allowed("https://other.example.com", "api.example.com", "wss", listed)
    assert origin_allowed("https://anything.example", "api.example.com", "wss", ("*",))


async def test_a_bad_origin_is_refused_even_before_the_token_is_looked_at(live: LiveService) -> None:
    status, body = await refusal(live, "garbage", origin="https://evil.example.com")
    assert (status, body["code"]) == (403, "origin_not_allowed")


# --- subscriptions and events ---------------------------------------------------------------


async def test_own_session_events_arrive_after_rest_calls(live: LiveService, http: httpx.AsyncClient,
                                                          alice: Account) -> None:
    session_id = await new_session(http, alice.headers)
    sent_before = await metric(http, "hashigo_websocket_events_total", '{outcome="sent"}')
    socket = await opened(live, alice.access_token)
    assert await subscribe(socket, session_id) == {"type": "subscribed", "session_id": session_id}
    assert await subscribe(socket, session_id) == {"type": "subscribed", "session_id": session_id}  # idempotent

    put = await http.put(f"/api/v1/sessions/{session_id}/meta/user_profile", headers=alice.headers,
                         json={"name": "Ada"})
    assert put.status_code == 200, put.text
    event = await expect(socket, "meta.changed")
    assert event["session_id"] == session_id
    assert event["data"] == {"field": "user_profile", "deleted": False}
    assert event["at"].endswith("Z")

    deleted = await http.delete(f"/api/v1/sessions/{session_id}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await expect(socket, "session.deleted"))["session_id"] == session_id
    await nothing_but_pong(socket)
    await socket.close()
    assert await metric(http, "hashigo_websocket_events_total", '{outcome="sent"}') == sent_before + 2


async def test_one_socket_follows_at_most_100_sessions(live: LiveService, http: httpx.AsyncClient,
                                                       alice: Account) -> None:
    sessions = [await new_session(http, alice.headers) for _ in range(MAX_SUBSCRIPTIONS + 1)]
    socket = await opened(live, alice.access_token)
    for session_id in sessions[:MAX_SUBSCRIPTIONS]:
        assert (await subscribe(socket, session_id))["type"] == "subscribed"
    refused = await subscribe(socket, sessions[-1])
    assert (refused["type"], refused["code"]) == ("error", "too_many_subscriptions")
    await socket.send(json.dumps({"type": "unsubscribe", "session_id": sessions[0]}))
    await expect(socket, "unsubscribed")
    assert (await subscribe(socket, sessions[-1]))["type"] == "subscribed"
    await socket.close()


async def test_unsubscribe_stops_the_events(live: LiveService, http: httpx.AsyncClient, alice: Account) -> None:
    session_id = await new_session(http, alice.headers)
    socket = await opened(live, alice.access_token)
    await subscribe(socket, session_id)
    await socket.send(json.dumps({"type": "unsubscribe", "session_id": session_id}))
    assert await next_frame(socket) == {"type": "unsubscribed", "session_id": session_id}
    put = await http.put(f"/api/v1/sessions/{session_id}/meta/conversation", headers=alice.headers, json=[1])
    assert put.status_code == 200
    await nothing_but_pong(socket)
    await socket.close()


async def test_another_users_session_cannot_be_followed(live: LiveService, http: httpx.AsyncClient,
                                                        alice: Account) -> None:
    mallory = await signed_in(http)
    session_id = await new_session(http, alice.headers)
    socket = await opened(live, mallory.access_token)
    for target in (session_id, "A" * 22, "../../etc/passwd", "x"):
        answer = await subscribe(socket, target)
        assert answer["type"] == "error" and answer["code"] == "not_found", answer
        assert answer["session_id"] == target
    put = await http.put(f"/api/v1/sessions/{session_id}/meta/secret", headers=alice.headers, json="s3cret")
    assert put.status_code == 200
    await nothing_but_pong(socket)  # alice's event did not reach mallory
    await socket.close()


async def test_bad_messages_get_an_error_and_the_socket_stays_open(live: LiveService, alice: Account) -> None:
    socket = await opened(live, alice.access_token)
    for sent in ("not json", "[]", json.dumps({"type": "dance"}), json.dumps({"type": "subscribe"}),
                 json.dumps({"type": "ping", "extra": 1}), b"\x00binary"):
        await socket.send(sent)
        answer = await expect(socket, "error")
        assert answer["code"] == "bad_message", answer
        assert "accepted" in answer["detail"] or "binary" in answer["detail"], answer
    await nothing_but_pong(socket)
    await socket.close()


async def test_oversize_frame_closes_with_1009(live: LiveService, alice: Account) -> None:
    """Checklist 18: uvicorn's ws_max_size (set by `hashigo serve`) ends the socket with 1009."""
    socket = await opened(live, alice.access_token)
    await socket.send(json.dumps({"type": "ping", "pad": "x" * MAX_MESSAGE}))
    code, _ = await close_of(socket)
    assert code == 1009
    fine = await opened(live, alice.access_token)  # the server is fine
    await fine.send(json.dumps({"type": "ping"}) + " " * (MAX_MESSAGE - 100))
    await expect(fine, "pong")
    await fine.close()


async def test_connection_gauge_counts_open_sockets(live: LiveService, http: httpx.AsyncClient,
                                                    alice: Account) -> None:
    before = await metric(http, "hashigo_websocket_connections")
    sockets = [await opened(live, alice.access_token) for _ in range(3)]
    assert await metric(http, "hashigo_websocket_connections") == before + 3
    for socket in sockets:
        await socket.close()
    deadline = time.monotonic() + 5
    while await metric(http, "hashigo_websocket_connections") != before:
        assert time.monotonic() < deadline, "the gauge did not come back down"
        await asyncio.sleep(0.05)


# --- revocation (checklist 17) --------------------------------------------------------------


async def test_logout_closes_that_logins_sockets_only(live: LiveService, http: httpx.AsyncClient,
                                                      alice: Account) -> None:
    second = await login(http, alice.email)
    first_socket = await opened(live, alice.access_token)
    second_socket = await opened(live, second["access_token"])
    out = await http.post("/api/v1/auth/logout", headers=alice.headers)
    assert out.status_code == 204, out.text
    assert await close_of(first_socket) == (4401, "token revoked")
    await nothing_but_pong(second_socket)
    status, _ = await refusal(live, alice.access_token)  # and the old token opens nothing new
    assert status == 401

    changed = await http.post("/api/v1/auth/password", headers={"Authorization": f"Bearer {second['access_token']}"},
                              json={"current_password": PASSWORD, "new_password": "another long passphrase 42"})
    assert changed.status_code == 200, changed.text
    assert await close_of(second_socket) == (4401, "token revoked")
    fresh = await opened(live, changed.json()["access_token"])  # the new login works
    await fresh.close()


async def test_disabling_the_account_closes_every_socket(live: LiveService, http: httpx.AsyncClient,
                                                         alice: Account) -> None:
    sockets = [await opened(live, alice.access_token) for _ in range(2)]
    disabled = await http.post("/api/v1/users/me/disable", headers=alice.headers, json={"password": PASSWORD})
    assert disabled.status_code == 204, disabled.text
    for socket in sockets:
        assert await close_of(socket) == (4401, "token revoked")


# --- expiry (checklist 17) ------------------------------------------------------------------


async def test_the_socket_closes_when_the_access_token_expires(request: pytest.FixtureRequest,
                                                               tmp_path: Path) -> None:
    env = profile_environment("embedded", request, tmp_path)
    env.update({"ACCESS_TOKEN_TTL": "5", "JWT_LEEWAY": "0"})
    service = LiveService(env, tmp_path).start()
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=10, trust_env=False) as client:
            account = await signed_in(client)
        socket = await open_socket(service, account.access_token)
        ready = await expect(socket, "ready")
        expires = datetime.fromisoformat(ready["expires_at"].replace("Z", "+00:00"))
        assert (expires - datetime.now(UTC)).total_seconds() <= 5.5
        await nothing_but_pong(socket)
        assert await close_of(socket, timeout=10) == (4401, "token expired")
        assert datetime.now(UTC) >= expires - timedelta(seconds=1)  # not early
        status, body = await refusal(service, account.access_token)
        assert (status, body["code"]) == (401, "invalid_token")
    finally:
        service.stop()
