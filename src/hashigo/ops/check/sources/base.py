"""What every metric source returns, and how a failure becomes one line naming the source and why."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Reading:
    metric: str
    value: float | None
    """None: the source answered but has no value (no requests during the sample, no statistics yet)."""
    source: str
    note: str = ""
    server_limit: float | None = None
    """The server's own limit in the metric's unit (PostgreSQL max_connections, Redis maxmemory)."""


@dataclass
class Sample:
    readings: list[Reading] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, reading: Reading) -> None:
        self.readings.append(reading)


class Source(Protocol):
    name: str
    target: str
    """Where it measures, without credentials."""
    timeout: float
    """The whole sample, sleeps between reads included."""
    request_timeout: float
    """One request or connection."""
    provides: tuple[str, ...]
    """The metrics it reads when it works: a failure makes exactly these unmeasured."""

    async def sample(self) -> Sample: ...

    async def close(self) -> None: ...


@dataclass
class Outcome:
    name: str
    target: str
    sample: Sample
    error: str | None
    seconds: float
    provides: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.name, "target": self.target, "ok": self.ok, "error": self.error,
                "seconds": round(self.seconds, 3), "details": self.sample.details}


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def reason(exc: BaseException, timeout: float) -> str:
    """One line: what went wrong, in the words a person would look up (the root cause, not the wrapper)."""
    chain = _chain(exc)
    if any(isinstance(e, TimeoutError | asyncio.TimeoutError) for e in chain):
        return f"no answer within {timeout:g} s"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused (is it running, on this host and port?)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    if "refused" in text.lower():
        return f"connection refused ({text})"
    return f"{kind}: {text}" if text else kind


async def measure(source: Source) -> Outcome:
    started = time.monotonic()
    try:
        async with asyncio.timeout(source.timeout):
            sample = await source.sample()
        error = None
    except TimeoutError as exc:
        sample = Sample()
        error = (f"no answer within {source.timeout:g} s" if exc.__cause__ is None and exc.__context__ is None
                 else reason(exc, source.request_timeout))
    except Exception as exc:
        sample, error = Sample(), reason(exc, source.request_timeout)
    return Outcome(source.name, source.target, sample, error, time.monotonic() - started, source.provides)


async def measure_all(sources: list[Source]) -> list[Outcome]:
    """Every source at once, each under its own timeout; one failing never stops the others."""
    return list(await asyncio.gather(*(measure(s) for s in sources)))
