"""WebSocket helpers for the realtime tests: open, read JSON frames, wait for the close."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin, Subprotocol

from tests.harness.service import LiveService

WS_PATH = "/api/v1/ws"


async def open_socket(service: LiveService, token: str | None = None, *, how: str = "header",
                      origin: str | None = None, **options: Any) -> ClientConnection:
    """``how``: header (Authorization), subprotocol (``bearer, <token>``) or query (``?access_token=``)."""
    url, headers, subprotocols = service.ws_url + WS_PATH, {}, None
    if token is not None:
        if how == "header":
            headers["Authorization"] = f"Bearer {token}"
        elif how == "subprotocol":
            subprotocols = [Subprotocol("bearer"), Subprotocol(token)]
        else:
            url += f"?access_token={token}"
    return await connect(url, additional_headers=headers, subprotocols=subprotocols,
                         origin=Origin(origin) if origin else None, proxy=None, open_timeout=10, **options)


async def refusal(service: LiveService, token: str | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of a refused handshake (fails if it was accepted)."""
    try:
        socket = await open_socket(service, token, **kwargs)
    except InvalidStatus as exc:
        body = json.loads(exc.response.body or b"{}")
        return exc.response.status_code, body
    await socket.close()
    raise AssertionError("the handshake was accepted")


async def next_frame(socket: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(socket.recv(), timeout)
    frame: dict[str, Any] = json.loads(raw)
    return frame


async def expect(socket: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    frame = await next_frame(socket, timeout)
    assert frame["type"] == kind, frame
    return frame


async def opened(service: LiveService, token: str, **kwargs: Any) -> ClientConnection:
    """An accepted socket whose ``ready`` frame was read."""
    socket = await open_socket(service, token, **kwargs)
    await expect(socket, "ready")
    return socket


async def subscribe(socket: ClientConnection, session_id: str) -> dict[str, Any]:
    await socket.send(json.dumps({"type": "subscribe", "session_id": session_id}))
    return await next_frame(socket)


async def nothing_but_pong(socket: ClientConnection) -> None:
    """Nothing else is queued for this socket: a ping is answered by the very next frame."""
    await socket.send(json.dumps({"type": "ping"}))
    await expect(socket, "pong")


async def close_of(socket: ClientConnection, timeout: float = 10.0) -> tuple[int | None, str | None]:
    """Read (and discard) until the server closes; its close code and reason."""
    async with asyncio.timeout(timeout):
        try:
            while True:
                await socket.recv()
        except ConnectionClosed:
            pass
    return socket.close_code, socket.close_reason


async def new_session(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await http.post("/api/v1/sessions", headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def metric(http: httpx.AsyncClient, name: str, labels: str = "") -> float:
    text = (await http.get("/metrics")).text
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0
