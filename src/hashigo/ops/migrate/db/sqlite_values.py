"""SQLite values → what PostgreSQL's COPY text input accepts for the target column's type.

Strings are handed to PostgreSQL as they are, so its own input functions judge them (a
'2024-01-01 10:00:00.123456' becomes a timestamp, '1' a boolean, 32 hex digits a uuid); only
what SQLite stores in a form PostgreSQL cannot read as text is converted here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Converter = Callable[[Any], Any]


def _to_text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")  # UnicodeDecodeError → reported with the table
    if isinstance(value, float):
        return repr(value)
    return value if value is None or isinstance(value, str) else str(value)


def _to_bytea(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int | float):
        return str(value).encode()
    return value


def _to_bool(value: Any) -> Any:
    if isinstance(value, int | float):
        return "t" if value else "f"
    return _to_text(value)


def _to_timestamp(value: Any) -> Any:
    if isinstance(value, int | float):  # Unix time
        return datetime.fromtimestamp(value, UTC).isoformat()
    return _to_text(value)


def _to_uuid(value: Any) -> Any:
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return _to_text(value)


def converter_for(pg_type: str) -> Converter:
    """The converter for a target column, given its format_type() text."""
    if pg_type == "bytea":
        return _to_bytea
    if pg_type == "boolean":
        return _to_bool
    if pg_type.startswith(("timestamp", "date")):
        return _to_timestamp
    if pg_type == "uuid":
        return _to_uuid
    return _to_text


def row_converter(pg_types: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    converters = [converter_for(t) for t in pg_types]

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(None if v is None else f(v) for f, v in zip(converters, row, strict=True))

    return convert
