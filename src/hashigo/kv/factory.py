"""``open_kv``: the one place that turns a URL into a key-value adapter. Nothing connects here."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from hashigo.errors import ConfigError
from hashigo.kv.embedded import EmbeddedKeyValueStore
from hashigo.kv.protocol import KeyValueStore
from hashigo.kv.redis import RedisKeyValueStore
from hashigo.settings import KeyValueSettings
from hashigo.urls import strip_credentials

ACCEPTED = ("redis://host:6379/0, rediss://user:password@host:6379 (TLS, e.g. Upstash), "
            "unix:///path/redis.sock, sqlite:///abs/path/kv.sqlite3 (embedded)")


def open_kv(settings: KeyValueSettings) -> KeyValueStore:
    url = settings.url.strip()
    timeout = settings.timeout_seconds
    if not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"key-value timeout_seconds must be a number of seconds above 0, got {timeout!r}")
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in {"redis", "rediss", "unix"}:
        return RedisKeyValueStore(url, timeout=timeout)
    if scheme == "sqlite":
        return EmbeddedKeyValueStore.from_url(url, timeout=timeout)
    shown = strip_credentials(url) if scheme else url.split("@")[-1]
    raise ConfigError(f"key-value URL {shown!r} is not supported; accepted: {ACCEPTED}")
