"""Events other domains publish for WebSocket clients; the hub fans them out.

Channels: ``hashigo:session:{session_id}`` (file.added, file.removed, meta.changed,
session.deleted) and ``hashigo:user:{user_id}`` (auth.revoked). A message is JSON:
``{"type": ..., "session_id"|"user_id": ..., "data": {...}, "at": "<ISO-8601 UTC>"}``.

Publishing is best effort: the write it reports has already succeeded, so an unreachable
pub/sub backend is logged and counted, not turned into a failed request.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from hashigo.errors import BackendUnavailable
from hashigo.pubsub.protocol import PubSub

log = logging.getLogger("hashigo.service.realtime")


def session_channel(session_id: str) -> str:
    return f"hashigo:session:{session_id}"


def user_channel(user_id: str) -> str:
    return f"hashigo:user:{user_id}"


async def publish_session_event(pubsub: PubSub, session_id: str, event: str, data: dict[str, Any]) -> bool:
    body = {"type": event, "session_id": session_id, "data": data, "at": _now()}
    return await _publish(pubsub, session_channel(session_id), body)


async def publish_user_event(pubsub: PubSub, user_id: str, event: str, data: dict[str, Any]) -> bool:
    body = {"type": event, "user_id": user_id, "data": data, "at": _now()}
    return await _publish(pubsub, user_channel(user_id), body)


async def _publish(pubsub: PubSub, channel: str, body: dict[str, Any]) -> bool:
    try:
        await pubsub.publish(channel, json.dumps(body, separators=(",", ":")).encode())
    except BackendUnavailable as exc:
        log.warning("event not published", extra={"channel": channel, "event": body["type"], "error": exc.detail})
        return False
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
