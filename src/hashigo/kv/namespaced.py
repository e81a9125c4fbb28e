"""Key spaces: how a namespace view turns its keys into stored keys, and the checks every
adapter applies to keys and TTLs before touching the backend."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hashigo.kv.protocol import KeyValueError


@dataclass(frozen=True, slots=True)
class KeySpace:
    """The stored key is ``prefix + key``; a root store has an empty prefix."""

    prefix: str = ""

    def child(self, name: str) -> KeySpace:
        if not isinstance(name, str) or not name:
            raise KeyValueError(f"namespace name must be a non-empty string, got {name!r}")
        check_key(name)
        return KeySpace(f"{self.prefix}{name}:")

    def qualify(self, key: str) -> str:
        check_key(key)
        return self.prefix + key

    def strip(self, stored: str) -> str:
        return stored[len(self.prefix):]


def check_key(key: str) -> None:
    if not isinstance(key, str):
        raise KeyValueError(f"keys are str, got {type(key).__name__}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise KeyValueError(f"key {key!r} is not valid UTF-8 text: {exc.reason}") from None


def encode_value(value: bytes | str) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise KeyValueError(f"value is not valid UTF-8 text: {exc.reason}") from None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise KeyValueError(f"values are bytes or str, got {type(value).__name__}")


def check_ttl(ttl: float) -> float:
    """A TTL is a finite number of seconds above zero; ``None`` (no expiry) is handled by callers."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise KeyValueError(f"ttl is seconds as a number, got {type(ttl).__name__}")
    if not math.isfinite(ttl) or ttl <= 0:
        raise KeyValueError(
            f"ttl must be a finite number of seconds above 0 (None for no expiry), got {ttl!r}"
        )
    return float(ttl)


def ttl_milliseconds(ttl: float) -> int:
    """Redis counts in whole milliseconds; never round a positive TTL down to zero."""
    return max(1, round(check_ttl(ttl) * 1000))


def check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise KeyValueError(f"incr amount must be an int, got {type(amount).__name__}")
    if not INT64_MIN <= amount <= INT64_MAX:
        raise KeyValueError(f"incr amount {amount} is outside the signed 64-bit range")
    return amount


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
