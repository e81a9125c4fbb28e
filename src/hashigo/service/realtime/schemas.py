"""What a WebSocket client may send, and the frames the server answers with.

Client → server (JSON text frames)::

    {"type": "subscribe", "session_id": "<id>"}
    {"type": "unsubscribe", "session_id": "<id>"}
    {"type": "ping"}

Server → client: ``{"type": "ready", "user_id", "expires_at"}`` once accepted; the events of
``events.py`` (``file.added``, ``file.removed``, ``meta.changed``, ``session.deleted``) as
published; ``subscribed`` / ``unsubscribed`` / ``pong`` acknowledgements; and
``{"type": "error", "code", "detail"[, "session_id"]}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

ACCEPTED = ('{"type": "subscribe", "session_id": "<id>"}, {"type": "unsubscribe", "session_id": "<id>"} '
            'or {"type": "ping"}')


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscribe(_Strict):
    type: Literal["subscribe"]
    session_id: str = Field(min_length=1, max_length=128)


class Unsubscribe(_Strict):
    type: Literal["unsubscribe"]
    session_id: str = Field(min_length=1, max_length=128)


class Ping(_Strict):
    type: Literal["ping"]


ClientMessage = Annotated[Subscribe | Unsubscribe | Ping, Field(discriminator="type")]
_CLIENT_MESSAGE: TypeAdapter[Subscribe | Unsubscribe | Ping] = TypeAdapter(ClientMessage)


class BadMessage(ValueError):
    """The frame is not one of the accepted messages; the text says what was wrong."""


def parse_client_message(text: str) -> Subscribe | Unsubscribe | Ping:
    try:
        return _CLIENT_MESSAGE.validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise BadMessage(f"{where}: {first['msg']}; accepted: {ACCEPTED}") from None


def frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def error_frame(code: str, detail: str, **fields: Any) -> str:
    return frame("error", code=code, detail=detail, **fields)
