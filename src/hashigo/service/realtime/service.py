"""The WebSocket's life: a checked handshake, then client commands and hub events until it closes.

Handshake — everything is checked BEFORE the socket is accepted, so a refusal is a plain HTTP
answer (401 token, 403 origin, 503 backend down) that browsers and clients can read:

- Token: ``Authorization: Bearer <access token>`` (servers, CLIs), or the subprotocol pair
  ``Sec-WebSocket-Protocol: bearer, <access token>`` (browsers cannot set headers; the server
  answers with the ``bearer`` subprotocol), or ``?access_token=<token>`` (last resort: URLs end
  up in proxy logs; our own access log redacts it).
- Origin: a browser always sends one; it must be the same origin as the host the request was
  sent to (an ``https`` page may reach a plain ``ws`` endpoint behind a TLS proxy), or be listed
  in ``ALLOWED_ORIGINS`` (``*`` allows any). Clients without an ``Origin`` header are not
  browsers and are allowed: cross-site WebSocket hijacking needs a victim's browser, and such
  clients must present a token anyway.

After accept the socket closes with 4401 when its access token expires ("token expired") or its
login is revoked ("token revoked": logout, password change, account disabled), with 1009 for a
frame over ``WS_MAX_MESSAGE_BYTES`` and with 1013 when it cannot keep up with its events.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hashigo.errors import BackendUnavailable
from hashigo.runtime import Runtime
from hashigo.service.auth.codec import codec_for
from hashigo.service.auth.deps import Principal, authenticate_access_token
from hashigo.service.auth.tokens import Claims, InvalidToken
from hashigo.service.kit.errors import ApiError
from hashigo.service.kit.metrics import WEBSOCKETS
from hashigo.service.realtime.denial import refuse
from hashigo.service.realtime.events import session_channel, user_channel
from hashigo.service.realtime.hub import CLOSE_TOO_BIG, Client, Hub, hub_of
from hashigo.service.realtime.schemas import BadMessage, Ping, Subscribe, error_frame, frame, parse_client_message
from hashigo.service.sessions.repository import session_owner

log = logging.getLogger("hashigo.service.realtime")

MAX_SUBSCRIPTIONS = 100
BEARER_SUBPROTOCOL = "bearer"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_BACKEND_ERRORS = (BackendUnavailable, DBAPIError, PoolTimeout, ConnectionError, TimeoutError)


# --- handshake ---------------------------------------------------------------------------


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: tuple[str, ...]) -> bool:
    if origin is None:
        return True
    wanted = origin.strip().rstrip("/").lower()
    listed = {entry.strip().rstrip("/").lower() for entry in allowed}
    if "*" in listed or wanted in listed:
        return True
    if not host:
        return False
    try:
        source, target = urlsplit(wanted), urlsplit("//" + host.strip().lower())
        source_port, target_port = source.port, target.port
    except ValueError:
        return False
    request_scheme = "https" if scheme in {"wss", "https"} else "http"
    if source.scheme not in _DEFAULT_PORTS or not (source.scheme == request_scheme or source.scheme == "https"):
        return False
    default = _DEFAULT_PORTS[source.scheme]
    return bool(source.hostname) and source.hostname == target.hostname and \
        (source_port or default) == (target_port or default)


def bearer_token(websocket: WebSocket) -> tuple[str, str | None]:
    """The access token and the subprotocol to answer with (``bearer`` when it came that way)."""
    header = websocket.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _refused("the Authorization header must be `Bearer <access token>`")
        return token.strip(), None
    offered = [part.strip() for part in websocket.scope.get("subprotocols", [])]
    if BEARER_SUBPROTOCOL in offered:
        position = offered.index(BEARER_SUBPROTOCOL)
        if position + 1 < len(offered) and offered[position + 1]:
            return offered[position + 1], BEARER_SUBPROTOCOL
        raise _refused("the subprotocol list must be `bearer, <access token>`")
    # Parsed here rather than through websocket.query_params, which would stay cached on the socket.
    query = parse_qsl(websocket.scope.get("query_string", b"").decode("latin-1"))
    token = next((value.strip() for name, value in query if name == "access_token"), "")
    if token:
        return token, None
    raise _refused("this WebSocket needs an access token: `Authorization: Bearer <token>`, the subprotocols "
                   "`bearer, <token>`, or `?access_token=<token>`; get one from POST /api/v1/auth/login")


def _refused(detail: str) -> ApiError:
    return ApiError(401, "invalid_token", detail, {"WWW-Authenticate": "Bearer"})


async def _admit(websocket: WebSocket, runtime: Runtime, hub: Hub | None) -> tuple[Client, datetime, str | None]:
    """Check origin and token, subscribe the user's channel; the caller accepts the socket.

    Returns the client, its token's expiry and the subprotocol to accept; the principal (an ORM
    row) is not kept: an idle socket should hold as little as possible.
    """
    service = runtime.settings.service
    origin = websocket.headers.get("origin")
    scheme = str(websocket.scope.get("scheme", "ws"))
    if not origin_allowed(origin, websocket.headers.get("host"), scheme, service.allowed_origins):
        raise ApiError(403, "origin_not_allowed", f"Origin {origin!r} may not open this WebSocket; allowed: the "
                                                  "service's own origin and ALLOWED_ORIGINS")
    token, subprotocol = bearer_token(websocket)
    claims = _signed_claims(runtime, token)
    if hub is None:
        raise BackendUnavailable("pub/sub", "the realtime hub is not running")
    client = Client(websocket, claims.subject, claims.family_id, service.ws_queue_size)
    # Listen for revocations first, then ask the database: a logout in between is not missed.
    await hub.join(client, user_channel(client.user_id))
    try:
        principal = await authenticate_access_token(runtime, token)
        _check_not_expired(principal)
    except BaseException:
        await hub.leave_all(client)
        raise
    return client, principal.expires_at, subprotocol


def _signed_claims(runtime: Runtime, token: str) -> Claims:
    """Signature, expiry, issuer, audience and type — no database yet."""
    try:
        return codec_for(runtime.settings).decode(token, "access")
    except InvalidToken:
        raise _refused("the access token is invalid, expired or revoked; log in again") from None


def _check_not_expired(principal: Principal) -> None:
    if principal.expires_at <= datetime.now(UTC):
        raise _refused("the access token has expired; refresh it")


# --- the open socket ---------------------------------------------------------------------


async def serve_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    hub = hub_of(websocket.app)
    retry_after = str(runtime.settings.service.retry_after_seconds)
    try:
        client, expires_at, subprotocol = await _admit(websocket, runtime, hub)
    except ApiError as exc:
        await refuse(websocket, exc.status, exc.code, exc.detail, exc.headers)
        return
    except _BACKEND_ERRORS as exc:
        log.warning("WebSocket refused: backend unavailable", extra={"error": str(exc)})
        await refuse(websocket, 503, "backend_unavailable", "a backend is not answering; try again shortly",
                      {"Retry-After": retry_after})
        return
    assert hub is not None
    counted = False
    try:
        await websocket.accept(subprotocol=subprotocol)
        WEBSOCKETS.inc()
        counted = True
        client.accepted_now()
        remaining = (expires_at - datetime.now(UTC)).total_seconds()
        hub.close_at(client, asyncio.get_running_loop().time() + max(0.0, remaining))
        client.offer(frame("ready", user_id=client.user_id,
                           expires_at=expires_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")))
        del expires_at, remaining
        await _converse(websocket, runtime, hub, client)
    except WebSocketDisconnect:
        pass  # the client left during the handshake
    finally:
        if counted:
            WEBSOCKETS.dec()
        client.stop()
        await hub.leave_all(client)


async def _converse(websocket: WebSocket, runtime: Runtime, hub: Hub, client: Client) -> None:
    limit = runtime.settings.service.ws_max_message_bytes
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text, data = message.get("text"), message.get("bytes")
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > limit:  # uvicorn's ws_max_size already does this under `hashigo serve`
            client.close(CLOSE_TOO_BIG, "message too big")
            continue
        if text is None:
            client.offer(error_frame("bad_message", "send JSON text frames; binary frames are not accepted"))
            continue
        client.offer(await _answer(text, runtime, hub, client))


async def _answer(text: str, runtime: Runtime, hub: Hub, client: Client) -> str:
    try:
        command = parse_client_message(text)
    except BadMessage as exc:
        return error_frame("bad_message", str(exc))
    if isinstance(command, Ping):
        return frame("pong")
    session_id = command.session_id
    channel = session_channel(session_id)
    if not isinstance(command, Subscribe):
        await hub.leave(client, channel)
        return frame("unsubscribed", session_id=session_id)
    if channel in client.channels:
        return frame("subscribed", session_id=session_id)
    if len(client.channels) > MAX_SUBSCRIPTIONS:  # the user's own channel is one of them
        return error_frame("too_many_subscriptions", f"one socket may follow at most {MAX_SUBSCRIPTIONS} "
                                                     "sessions; unsubscribe from one first", session_id=session_id)
    try:
        owner = await session_owner(runtime.kv, session_id)
        if owner != client.user_id:
            return error_frame("not_found", "no such session of yours", session_id=session_id)
        await hub.join(client, channel)
    except BackendUnavailable:
        return error_frame("backend_unavailable", "a backend is not answering; try again shortly",
                           session_id=session_id)
    return frame("subscribed", session_id=session_id)
