"""Logging for the service: one JSON object per line (or plain text), each carrying the request id.

    configure_logging(settings.service)   # LOG_FORMAT=json|text, LOG_LEVEL=INFO

A line looks like ``{"ts": "2025-01-31T12:00:00.123Z", "level": "INFO", "logger": "hashigo.access",
"msg": "request", "request_id": "…", "method": "GET", …}``: the fixed fields first, then whatever the
call passed as ``extra=``. A small stdlib formatter, so no logging dependency is needed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

from hashigo.settings import ServiceSettings

# Set by the observability middleware for the duration of one request (or WebSocket).
REQUEST_ID: ContextVar[str | None] = ContextVar("hashigo_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}

# Marks the handler this module installed, so configuring twice replaces it instead of doubling lines.
_HANDLER_NAME = "hashigo-service"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}


_last_second: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """RFC 3339 UTC with milliseconds; the formatted second is reused while it lasts (a line per request)."""
    global _last_second
    second = int(record.created)
    if second != _last_second[0]:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_last_second[1]}.{int(record.msecs):03d}Z"


# One encoder for every line: json.dumps() with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """``ts, level, logger, msg, request_id``, then the record's extra fields, then ``exc`` if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _ENCODER.encode(line)


class TextFormatter(logging.Formatter):
    """For a terminal: ``ts LEVEL logger [request id] message key=value …``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = REQUEST_ID.get()
        parts = [_timestamp(record), f"{record.levelname:<7}", record.name]
        if request_id:
            parts.append(f"[{request_id}]")
        parts.append(record.getMessage())
        parts.extend(f"{k}={v}" for k, v in extra_fields(record).items())
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "WARN": logging.WARNING,
           "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}


class _DropUvicornHandshakeLines(logging.Filter):
    """uvicorn logs each WebSocket handshake with its raw URL (a ``?access_token=`` included) on
    ``uvicorn.error``; the service's own access line records it with the query redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"'))


def configure_logging(settings: ServiceSettings, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records (uvicorn's included) through one handler on the root logger.

    Safe to call again: the handler installed last time is replaced, other handlers are kept.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = _LEVELS.get(settings.log_level.strip().upper())
    root.setLevel(level or logging.INFO)
    # uvicorn's own loggers would print a second, unstructured copy if they kept their handlers.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropUvicornHandshakeLines) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(_DropUvicornHandshakeLines())
    # The service writes its own access line (route template, request id, secrets redacted);
    # uvicorn's would repeat it with the raw query string, tokens included.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    # aiosqlite logs every statement twice at DEBUG, from its own thread; DEBUG is for our code.
    logging.getLogger("aiosqlite").setLevel(max(level or logging.INFO, logging.INFO))
    if level is None:
        logging.getLogger("hashigo.service").warning(
            "LOG_LEVEL %r is not a level; using INFO (accepted: DEBUG, INFO, WARNING, ERROR, CRITICAL)",
            settings.log_level)
    return handler
