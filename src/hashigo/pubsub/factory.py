"""``open_pubsub``: the one place that turns a URL into a pub/sub adapter. Nothing connects here."""

from __future__ import annotations

from urllib.parse import urlsplit

from hashigo.errors import ConfigError
from hashigo.pubsub.memory import InProcessPubSub
from hashigo.pubsub.protocol import PubSub
from hashigo.pubsub.redis import RedisPubSub
from hashigo.settings import PubSubSettings
from hashigo.urls import strip_credentials

ACCEPTED = "memory:// (in-process), redis://host:6379/0, rediss://user:password@host:6379 (TLS)"


def open_pubsub(settings: PubSubSettings) -> PubSub:
    url = settings.url.strip()
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme == "memory":
        return InProcessPubSub()
    if scheme in {"redis", "rediss", "unix"}:
        return RedisPubSub(url, timeout=settings.timeout_seconds)
    shown = strip_credentials(url) if scheme else url.split("@")[-1]
    raise ConfigError(f"pub/sub URL {shown!r} is not supported; accepted: {ACCEPTED}")
