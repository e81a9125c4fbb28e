"""The realtime hub: ONE pub/sub subscription per process, fanned out to every WebSocket.

Channels are reference-counted: the first socket interested in ``hashigo:session:X`` subscribes
the process to it, the last one leaving unsubscribes. Each socket has a bounded outbox; a
socket whose outbox is full is a slow consumer and is closed (1013) rather than allowed to
grow the process. An idle socket owns no task of its own here: a sender task exists only
while its outbox has something to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from hashigo.errors import BackendUnavailable, HashigoError
from hashigo.pubsub.protocol import Message, PubSub, Subscription
from hashigo.service.kit.metrics import WEBSOCKET_EVENTS
from hashigo.service.realtime.denial import quiet_uvicorn_denial_noise

log = logging.getLogger("hashigo.service.realtime")

USER_CHANNEL_PREFIX = "hashigo:user:"
# Close codes: 4401 mirrors HTTP 401 in the private range; 1013 is RFC 6455's "try again later".
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 1013
CLOSE_TOO_BIG = 1009
# "sent": an event handed to a socket's outbox; "dropped": one that found the outbox full
# (the socket is then closed as a slow consumer).
_SENT = WEBSOCKET_EVENTS.labels("sent")
_DROPPED = WEBSOCKET_EVENTS.labels("dropped")


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


class Client:
    """One accepted socket: who it is, what it listens to, what it still has to send."""

    # Slots, a list rather than a deque, no timer of its own: ~1 KiB per idle socket.
    __slots__ = ("__weakref__", "accepted", "channels", "closing", "family_id", "limit", "outbox", "sender",
                 "user_id", "websocket")

    def __init__(self, websocket: WebSocket, user_id: str, family_id: str, limit: int) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.family_id = family_id
        self.limit = limit
        self.outbox: list[str | Close] = []
        self.channels: set[str] = set()
        self.closing: Close | None = None
        self.sender: asyncio.Task[None] | None = None
        self.accepted = False  # events may be queued before the handshake completes; sent after

    def accepted_now(self) -> None:
        self.accepted = True
        if self.outbox:
            self._wake()

    def offer(self, text: str) -> bool:
        """Queue a frame; False when it was not queued (closing, or full: then the socket is closed)."""
        if self.closing is not None:
            return False  # on its way out: nothing more is queued, and it is not a new drop
        if len(self.outbox) >= self.limit:
            _DROPPED.inc()
            log.warning("slow WebSocket client dropped", extra={"user_id": self.user_id, "queued": self.limit})
            self.close(CLOSE_TOO_SLOW, "too slow: event queue full")
            return False
        self.outbox.append(text)
        self._wake()
        return True

    def close(self, code: int, reason: str) -> None:
        """Send a close frame after nothing else: queued events are discarded."""
        if self.closing is not None:
            return
        self.closing = Close(code, reason)
        self.outbox.clear()
        self.outbox.append(self.closing)
        self._wake()

    def _wake(self) -> None:
        if self.sender is None and self.accepted:
            self.sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self.outbox:
                item = self.outbox.pop(0)
                if isinstance(item, Close):
                    await self.websocket.close(item.code, item.reason)
                    return
                await self.websocket.send_text(item)
        except (WebSocketDisconnect, OSError, RuntimeError):  # the peer is gone; its handler cleans up
            self.outbox.clear()
            self.closing = self.closing or Close(1006, "gone")
        finally:
            self.sender = None

    def stop(self) -> None:
        """The socket ended: no sender left behind, and the expiry check will skip it."""
        self.closing = self.closing or Close(1000, "")
        self.outbox.clear()
        if self.sender is not None:
            self.sender.cancel()


class Hub:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub
        self._subscription: Subscription | None = None
        self._listeners: dict[str, set[Client]] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # One timer for every socket's token expiry: (loop deadline, tie-breaker, client).
        self._expiries: list[tuple[float, int, weakref.ref[Client]]] = []
        self._expiry_timer: asyncio.TimerHandle | None = None
        self._sequence = itertools.count()

    @property
    def channels(self) -> int:
        return len(self._listeners)

    async def join(self, client: Client, channel: str) -> None:
        """Deliver ``channel`` to ``client``; returns once the process is subscribed to it.
        Raises ``BackendUnavailable`` (and leaves the channel) when pub/sub does not answer."""
        listeners = self._listeners.get(channel)
        if listeners is None:
            listeners = self._listeners[channel] = set()
            self._ready[channel] = asyncio.ensure_future(self._backend_subscribe(channel))
        listeners.add(client)
        client.channels.add(channel)
        ready = self._ready[channel]
        try:
            await asyncio.shield(ready)
        except BaseException:
            await self.leave(client, channel)
            raise

    async def leave(self, client: Client, channel: str) -> None:
        client.channels.discard(channel)
        listeners = self._listeners.get(channel)
        if listeners is None or client not in listeners:
            return
        listeners.discard(client)
        if listeners:
            return
        del self._listeners[channel]
        ready = self._ready.pop(channel)
        if not ready.done():
            ready.cancel()
        elif not ready.cancelled():
            ready.exception()  # retrieved: a failed subscribe was reported to its joiners
        # Even after a failed subscribe: the adapter keeps wanting a channel until told otherwise.
        if self._subscription is not None:
            with contextlib.suppress(HashigoError):  # the adapter filters it out anyway
                await self._subscription.unsubscribe(channel)

    async def leave_all(self, client: Client) -> None:
        for channel in list(client.channels):
            await self.leave(client, channel)

    def close_at(self, client: Client, deadline: float) -> None:
        """Close ``client`` with 4401 "token expired" at ``deadline`` (event-loop time)."""
        heapq.heappush(self._expiries, (deadline, next(self._sequence), weakref.ref(client)))
        timer = self._expiry_timer
        if timer is None or deadline < timer.when():
            if timer is not None:
                timer.cancel()
            self._expiry_timer = asyncio.get_running_loop().call_at(deadline, self._expire_due)

    def _expire_due(self) -> None:
        loop = asyncio.get_running_loop()
        self._expiry_timer = None
        while self._expiries and self._expiries[0][0] <= loop.time():
            client = heapq.heappop(self._expiries)[2]()
            if client is not None:  # gone already otherwise
                client.close(CLOSE_UNAUTHORIZED, "token expired")
        if self._expiries:
            self._expiry_timer = loop.call_at(self._expiries[0][0], self._expire_due)

    async def _backend_subscribe(self, channel: str) -> None:
        if self._subscription is None:
            raise BackendUnavailable("pub/sub", "the realtime hub is not running")
        await self._subscription.subscribe(channel)

    # --- the one listener ---------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Hub]:
        self._subscription = await self._pubsub.subscription()
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="hashigo-realtime-hub")
        try:
            yield self
        finally:
            self._stopping = True
            if self._expiry_timer is not None:
                self._expiry_timer.cancel()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._subscription.close()

    async def _listen(self) -> None:
        while not self._stopping:
            subscription = self._subscription
            assert subscription is not None
            try:
                async for message in subscription:
                    self.dispatch(message)
                    await asyncio.sleep(0)  # let senders run between the messages of a burst
            except Exception:
                log.exception("realtime hub listener failed")
            if self._stopping:
                return
            # Adapters reconnect by themselves and end only when closed; if one ends anyway,
            # start a fresh subscription to every channel rather than go deaf.
            log.error("realtime hub subscription ended; subscribing again")
            try:
                await asyncio.sleep(1.0)
                await self._resubscribe()
            except Exception:
                log.exception("realtime hub could not open a new subscription")

    async def _resubscribe(self) -> None:
        old, self._subscription = self._subscription, await self._pubsub.subscription()
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        channels = list(self._listeners)
        if channels:
            try:
                await self._subscription.subscribe(*channels)
            except BackendUnavailable as exc:
                log.warning("realtime hub could not subscribe again yet", extra={"error": exc.detail})

    def dispatch(self, message: Message) -> None:
        listeners = self._listeners.get(message.channel)
        if not listeners:
            return
        if message.channel.startswith(USER_CHANNEL_PREFIX):
            revoked, family = revocation(message.data)
            if revoked:
                for client in list(listeners):
                    if family is None or family == client.family_id:
                        client.close(CLOSE_UNAUTHORIZED, "token revoked")
                return
        text = message.data.decode("utf-8", "replace")
        delivered = 0
        for client in list(listeners):
            delivered += client.offer(text)
        _SENT.inc(delivered)


def revocation(data: bytes) -> tuple[bool, str | None]:
    """(True, family or None for every family) when ``data`` is an ``auth.revoked`` event."""
    try:
        event: Any = json.loads(data)
    except ValueError:
        return False, None
    if not isinstance(event, dict) or event.get("type") != "auth.revoked":
        return False, None
    payload = event.get("data")
    family = payload.get("family_id") if isinstance(payload, dict) else None
    return True, family if isinstance(family, str) else None


def hub_of(app: Any) -> Hub | None:
    hub = getattr(app.state, "realtime_hub", None)
    return hub if isinstance(hub, Hub) else None


def install(app: FastAPI) -> None:
    """Run the hub for the app's lifetime (entered from the app's lifespan)."""

    def start(app: FastAPI) -> AbstractAsyncContextManager[Hub]:
        hub = Hub(app.state.runtime.pubsub)
        app.state.realtime_hub = hub
        return hub.running()

    starters: list[Callable[[FastAPI], AbstractAsyncContextManager[Any]]] = app.state.on_startup
    starters.append(start)
    quiet_uvicorn_denial_noise()
