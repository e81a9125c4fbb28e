"""Refusing a WebSocket handshake with a real HTTP answer (401, 403, 503) and a JSON body.

uvicorn's websockets-sansio protocol (the one ``--ws auto`` picks) logs
"ASGI callable returned without completing handshake." at ERROR after every WebSocket Denial
Response, although the client got the answer (Kludex/uvicorn#3138). Alerting on ERROR would
fire on every bad token, so that one line is dropped — only for sockets we refused ourselves.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from fastapi import WebSocket
from fastapi.responses import JSONResponse

_REFUSED: ContextVar[bool] = ContextVar("hashigo_websocket_refused", default=False)
_NOISE = "ASGI callable returned without completing handshake"


class _DenialNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_REFUSED.get() and str(record.msg).startswith(_NOISE))


_FILTER = _DenialNoise()


def quiet_uvicorn_denial_noise() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


async def refuse(websocket: WebSocket, status: int, code: str, detail: str, headers: dict[str, str]) -> None:
    """Answer the upgrade request with ``status`` and ``{"detail", "code"}``; the socket never opens."""
    _REFUSED.set(True)
    response = JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:  # a server without the denial extension: it answers 403 to a close
        await websocket.close(1008, detail[:120])
