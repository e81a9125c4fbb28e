"""The key-value port. Callers use ``open_kv`` and the ``KeyValueStore`` protocol, never an adapter."""

from hashigo.kv.factory import open_kv
from hashigo.kv.protocol import KeyValueError, KeyValueStore

__all__ = ["KeyValueError", "KeyValueStore", "open_kv"]
