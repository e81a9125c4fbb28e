"""Object attributes (content type, cache-control, disposition, user metadata) in a portable form.

Each backend has its own limits: S3 sends metadata as ASCII HTTP headers and lower-cases
names, Azure requires names to be C# identifiers, all of them cap the total size. We accept
the intersection, and percent-encode metadata values so that any Unicode text survives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from hashigo.storage.protocol import InvalidMetadata

if TYPE_CHECKING:
    from obstore import Attributes

MAX_METADATA_BYTES = 2048
"""S3's limit on user metadata (names plus values, as sent)."""

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
# Printable ASCII without '%' (the escape character) and without space (headers trim it).
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")
_HEADER_VALUE = re.compile(r"^[\x20-\x7e]*$")

_STANDARD = {
    "Content-Type": "content_type",
    "Cache-Control": "cache_control",
    "Content-Disposition": "content_disposition",
}
# Attributes the port does not expose; they are neither user metadata nor ours to report.
_IGNORED = {"content-encoding", "content-language", "storage-class"}


def encode_attributes(
    content_type: str | None,
    cache_control: str | None,
    content_disposition: str | None,
    metadata: Mapping[str, str] | None,
) -> Attributes:
    attributes: Attributes = {}
    for name, value in (
        ("Content-Type", content_type),
        ("Cache-Control", cache_control),
        ("Content-Disposition", content_disposition),
    ):
        if value is None:
            continue
        if not value or not _HEADER_VALUE.match(value) or value != value.strip():
            raise InvalidMetadata(
                f"{name} {value!r} is not a valid header value; accepted: non-empty printable ASCII "
                "without leading or trailing spaces (for a Unicode file name use "
                "Content-Disposition: attachment; filename*=UTF-8''<percent-encoded name>)"
            )
        attributes[name] = value
    total = 0
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise InvalidMetadata(
                f"metadata name {key!r} is not portable; accepted: 1-64 characters of lower-case "
                "ASCII letters, digits and '_', not starting with a digit (Azure needs identifiers, "
                "S3 lower-cases names)"
            )
        if not isinstance(value, str):
            raise InvalidMetadata(f"metadata value for {key!r} must be str, not {type(value).__name__}")
        encoded = quote(value, safe=_SAFE)
        total += len(key) + len(encoded)
        attributes[key] = encoded
    if total > MAX_METADATA_BYTES:
        raise InvalidMetadata(
            f"metadata is {total} bytes once encoded, over the {MAX_METADATA_BYTES}-byte limit S3 imposes; "
            "store large values in the object itself"
        )
    return attributes


def decode_attributes(attributes: Mapping[str, str]) -> dict[str, object]:
    """Keyword arguments for ``ObjectInfo``: the standard headers plus decoded user metadata."""
    fields: dict[str, object] = {}
    metadata: dict[str, str] = {}
    for name, value in attributes.items():
        standard = next((field for header, field in _STANDARD.items() if header.lower() == name.lower()), None)
        if standard is not None:
            fields[standard] = value
        elif name.lower() not in _IGNORED:
            metadata[name.lower()] = unquote(value)
    fields["metadata"] = metadata
    return fields
