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


def reason(exc: BaseException, timeout: float) -> str:
    """One line: what went wrong, in the words a person would look up."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is it running, on this host and port?)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    if "refused" in text.lower():
        return f"connection refused ({text})"
    return f"{kind}: {text}" if text else kind


async def measure(source: Source) -> Outcome:
    started = time.monotonic()
    try:
        sample = await asyncio.wait_for(source.sample(), source.timeout)
        error = None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        sample, error = Sample(), reason(exc, source.timeout)
    return Outcome(source.name, source.target, sample, error, time.monotonic() - started, source.provides)


async def measure_all(sources: list[Source]) -> list[Outcome]:
    """Every source at once, each under its own timeout; one failing never stops the others."""
    return list(await asyncio.gather(*(measure(s) for s in sources)))
