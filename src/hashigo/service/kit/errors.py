"""Errors a route raises on purpose, and how every failure becomes a JSON answer.

Bodies look like FastAPI's own: ``{"detail": "<what was wrong and what is accepted>", "code": "<stable id>"}``.
Backend outages become 503 with ``Retry-After`` — an auth lookup that cannot be made is a
refusal, never a pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hashigo.errors import BackendUnavailable

log = logging.getLogger("hashigo.service")


class ErrorBody(BaseModel):
    """What every deliberate refusal looks like; declare it in ``responses=`` for the OpenAPI document."""

    detail: str
    code: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """``responses=`` entries for the given statuses, all with the ``ErrorBody`` schema."""
    return {status: {"model": ErrorBody} for status in statuses}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=dict(headers or {}))


def unavailable_response(backend: str, retry_after: int) -> JSONResponse:
    return error_response(503, "backend_unavailable",
                          f"the {backend} is not answering; nothing was changed, try again shortly",
                          {"Retry-After": str(retry_after)})


def install_error_handlers(app: FastAPI, retry_after: int) -> None:
    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    async def on_backend_unavailable(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BackendUnavailable)
        log.warning("backend unavailable", extra={"backend": exc.backend, "error": exc.detail,
                                                  "path": request.url.path})
        return unavailable_response(exc.backend, retry_after)

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", extra={"error": _first_line(exc), "path": request.url.path})
        return unavailable_response("database", retry_after)

    async def on_connection_error(request: Request, exc: Exception) -> JSONResponse:
        log.warning("backend connection failed", extra={"error": _first_line(exc), "path": request.url.path})
        return unavailable_response("backend", retry_after)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        # Framework refusals (unparseable body, unknown route, wrong method) get the same body shape.
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code < 400:
            return Response(status_code=exc.status_code, headers=exc.headers)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette lists only the first matching route's methods
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(exc.status_code, f"http_{exc.status_code}", str(exc.detail), headers)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(BackendUnavailable, on_backend_unavailable)
    for db_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(db_error, on_database_down)

    async def on_dbapi_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if exc.connection_invalidated or _is_outage(exc):
            return await on_database_down(request, exc)
        raise exc

    app.add_exception_handler(DBAPIError, on_dbapi_error)
    # asyncpg raises these directly when a connection cannot be made or is cut.
    app.add_exception_handler(ConnectionError, on_connection_error)
    app.add_exception_handler(TimeoutError, on_connection_error)


def _allowed_methods(request: Request) -> list[str]:
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in _flat_routes(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        route_methods = getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods.update(route_methods)
    return sorted(methods)


def _flat_routes(routes: list[Any]) -> Iterable[Any]:
    try:  # FastAPI >= 0.137 keeps included routers nested; this is its flattened view
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return routes
    return iter_route_contexts(routes)


# SQLSTATE classes that mean "the database cannot serve now", not "this statement is wrong":
# 08 connection exception, 53 insufficient resources (too many connections, disk full),
# 57 operator intervention (starting up, shutting down, statement timeout).
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")


def _is_outage(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
