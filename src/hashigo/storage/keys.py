"""Which object keys every adapter accepts.

One rule set for every backend, so that a key written on a laptop can be migrated to
S3, GCS or Azure unchanged, and so that no key can reach outside the store's prefix on
the local disk. Each rejection names the rule it broke and what is accepted instead.
"""

from __future__ import annotations

import re

from hashigo.storage.protocol import InvalidKey

MAX_KEY_BYTES = 1024
"""S3's limit on the UTF-8 length of a key; GCS and Azure allow at least as much."""

MAX_SEGMENT_BYTES = 240
"""Local file names stop at 255 bytes, and the local store appends '#<n>' while uploading."""

RESERVED_PREFIX = ".hashigo"
"""The local store keeps object attributes under ``<root>/.hashigo-meta/``; no key segment may start so."""

ACCEPTED = (
    "accepted: 1 to 1024 UTF-8 bytes of '/'-separated segments, each 1 to 240 bytes and not '.' or '..', "
    "without control characters or backslashes, e.g. 'avatars/42/photo.jpg'"
)

# C0 and C1 control characters (NUL, newline, DEL, ...): they end up in logs and HTTP headers.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The local store keeps partial uploads as '<name>#<n>' and refuses such names.
_STAGING_SUFFIX = re.compile(r"#\d+$")


def _reject(key: str, rule: str) -> InvalidKey:
    return InvalidKey(f"invalid object key {key!r}: {rule}; {ACCEPTED}")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if every adapter can store it safely, else raise ``InvalidKey``."""
    if not isinstance(key, str):
        raise InvalidKey(f"invalid object key {key!r}: keys are str, not {type(key).__name__}; {ACCEPTED}")
    if not key:
        raise _reject(key, "the key is empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise _reject(key, "the key is not valid Unicode (it contains a lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise _reject(key, f"the key is {size} bytes in UTF-8, over the {MAX_KEY_BYTES}-byte limit")
    if _CONTROL.search(key):
        raise _reject(key, "the key contains a control character (NUL, newline, tab, DEL, ...)")
    if "\\" in key:
        raise _reject(key, "the key contains a backslash, which Windows and some tools treat as a separator")
    if key.startswith("/"):
        raise _reject(key, "the key starts with '/' (absolute paths are not keys)")
    if key.endswith("/"):
        raise _reject(key, "the key ends with '/' (that names a folder, not an object)")
    segments = key.split("/")
    for segment in segments:
        if segment == "":
            raise _reject(key, "the key has an empty segment ('//')")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise _reject(key, f"a segment is over {MAX_SEGMENT_BYTES} bytes in UTF-8 (file-name limit)")
        if segment in {".", ".."}:
            raise _reject(key, f"the key has a {segment!r} segment")
        if _STAGING_SUFFIX.search(segment):
            raise _reject(key, f"segment {segment!r} ends in '#<digits>', reserved for partial uploads")
        if segment.startswith(RESERVED_PREFIX):
            raise _reject(key, f"segments starting with {RESERVED_PREFIX!r} are reserved for hashigo's own files")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: ``""`` (everything) or a key-like folder path, with or without a trailing '/'.

    Returned without the trailing '/'. Listing is by whole segments: ``"a"`` lists ``a/x``, not ``ab``.
    """
    if prefix == "":
        return ""
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    if stripped == "":
        raise _reject(prefix, "a listing prefix cannot be '/' (use '' to list everything)")
    return validate_key(stripped)
