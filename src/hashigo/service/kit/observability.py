"""Request ids, the access log and the HTTP metrics, in one pure-ASGI middleware.

Pure ASGI (no ``BaseHTTPMiddleware``) because it runs on every request: it adds no task, no
body copy, only a wrapped ``send``. Metrics are labelled by the *route template* the router
matched (``/api/v1/sessions/{session_id}``), never the raw path, so a scan of random URLs cannot
grow the label set; a request no route matched is ``<unmatched>``.

Decisions where the issue is silent:
- ``/metrics`` itself is left out of the HTTP metrics, so a scrape does not observe itself (the
  in-flight gauge would never read 0); probes (``/metrics``, ``/healthz``, ``/readyz``) that
  succeed are logged at DEBUG, so a scraper every 15 s does not drown the access log.
- One process per container (``hashigo serve``), so prometheus_client's multiprocess mode is not
  used; several workers in one container would each report their own numbers.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:
    from fastapi.routing import iter_route_contexts as _iter_route_contexts
except ImportError:  # FastAPI < 0.137 flattens included routers; scope["route"].path is complete
    _iter_route_contexts = None  # type: ignore[assignment]

from hashigo.service.kit.logging import REQUEST_ID
from hashigo.service.kit.metrics import IN_FLIGHT, REQUEST_LATENCY, REQUESTS

REQUEST_ID_HEADER = b"x-request-id"
UNMATCHED = "<unmatched>"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_PROBES = frozenset({"/metrics", "/healthz", "/readyz"})
_UNOBSERVED = frozenset({"/metrics"})
# Query parameters that carry credentials (signed URLs, tokens passed where headers cannot go).
_SECRET_QUERY_KEYS = frozenset({"access_token", "refresh_token", "token", "signature", "sig", "password",
                                "x-amz-signature", "x-amz-credential", "x-amz-security-token", "code"})

access_log = logging.getLogger("hashigo.access")
error_log = logging.getLogger("hashigo.service")


def new_request_id() -> str:
    return secrets.token_hex(16)


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The client's ``X-Request-ID`` if it is short and plain (≤ 64 of ``A-Za-z0-9._-``), else None:
    anything else could forge log lines or carry markup into log viewers."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return value.decode("ascii") if _SANE_REQUEST_ID.fullmatch(value) else None
    return None


class RouteTemplates:
    """The full path template of the route the router matched.

    Starlette (and FastAPI before 0.137) leave the route in ``scope["route"]`` with its full path.
    FastAPI ≥ 0.137 no longer flattens included routers: ``scope["route"]`` is the route as its
    router declared it (``/me``), and a WebSocket route of an included router sets no
    ``scope["route"]`` at all, only ``scope["endpoint"]``. The prefixes come from
    ``iter_route_contexts()``, the flattened view FastAPI provides for integrations; the table is
    built once per app and looked up by the identity of the route (or else the endpoint).
    """

    def __init__(self) -> None:
        self._table: dict[int, tuple[object, list[tuple[re.Pattern[str], str]]]] = {}

    def template(self, scope: Scope) -> str:
        key = scope.get("route") or scope.get("endpoint")
        if key is None:
            return UNMATCHED
        found = self._table.get(id(key))
        if found is None:
            self._rebuild(scope.get("app"))
            # Remember a route the app does not list (a mounted app's), so it never triggers a rebuild again.
            found = self._table.setdefault(id(key), (key, []))
        entries = found[1]
        if len(entries) == 1:
            return entries[0][1]
        for regex, template in entries:  # one router included under two prefixes (/api/v1, /api/v2)
            if regex.match(scope["path"]):
                return template
        path = getattr(scope.get("route"), "path", None)
        return path if isinstance(path, str) and path else UNMATCHED

    def _rebuild(self, app: Any) -> None:
        routes = getattr(app, "routes", None)
        if _iter_route_contexts is None or routes is None:
            return
        table: dict[int, tuple[object, list[tuple[re.Pattern[str], str]]]] = {}
        for context in _iter_route_contexts(routes):
            template, regex = context.path_format, getattr(context, "path_regex", None)
            if not (isinstance(template, str) and isinstance(regex, re.Pattern)):
                continue
            keys = {id(context.original_route): context.original_route, id(context.endpoint): context.endpoint}
            for key in keys.values():
                if key is not None:
                    table.setdefault(id(key), (key, []))[1].append((regex, template))
        self._table = table


def redacted_query(query_string: bytes) -> str:
    if not query_string:
        return ""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*/:")


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def _method(scope: Scope) -> str:
    """A client may send any token as the method; only the standard ones become label values."""
    method: str = scope["method"]
    return method if method in _METHODS else "OTHER"


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = RouteTemplates()
        # Label children, resolved once: ``labels()`` takes a lock and builds a key on every call.
        self._latency: dict[tuple[str, str], Any] = {}
        self._count: dict[tuple[str, str, int], Any] = {}

    def _record(self, method: str, route: str, status: int, elapsed: float) -> None:
        latency = self._latency.get((method, route))
        if latency is None:
            latency = self._latency[method, route] = REQUEST_LATENCY.labels(method, route)
        latency.observe(elapsed)
        count = self._count.get((method, route, status))
        if count is None:
            count = self._count[method, route, status] = REQUESTS.labels(method, route, str(status))
        count.inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = incoming_request_id(scope["headers"]) or new_request_id()
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500  # what the client gets if the app raises before answering
        observed = scope["path"] not in _UNOBSERVED

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = REQUEST_ID.set(request_id)
        if observed:
            IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error", extra=self._fields(scope, 500, started))
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = self.routes.template(scope)
            if observed:
                IN_FLIGHT.dec()
                self._record(_method(scope), route, status, elapsed)
            self._log(scope, status, started)
            REQUEST_ID.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = incoming_request_id(scope["headers"]) or new_request_id()
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 403  # a socket closed before it was accepted is refused with 403 by the server

        async def send_with_id(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "websocket.accept":
                status = 101
                message["headers"] = [*message.get("headers", ()), header]
            elif kind == "websocket.http.response.start":  # a refusal with its own status and body
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # 101: the socket was open (its close code is the realtime domain's to log).
            self._log(scope, status, started)
            REQUEST_ID.reset(token)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        quiet = scope["path"] in _PROBES and status < 400
        level = logging.DEBUG if quiet else logging.WARNING if status >= 500 else logging.INFO
        if access_log.isEnabledFor(level):
            access_log.log(level, "request", extra=self._fields(scope, status, started))

    def _fields(self, scope: Scope, status: int, started: float) -> dict[str, Any]:
        query = redacted_query(scope.get("query_string", b""))
        return {
            "method": scope.get("method", "WS"),
            "route": self.routes.template(scope),
            "path": scope["path"] + (f"?{query}" if query else ""),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "client": _client(scope),
        }
