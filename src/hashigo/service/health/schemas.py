"""Bodies of /healthz and /readyz."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = Field(description="hashigo's version")


class BackendCheck(BaseModel):
    ok: bool
    latency_ms: float = Field(description="How long the check took, in milliseconds")
    backend: str = Field(description="The backend's URL, credentials removed")
    error: str | None = Field(None, description="Why the check failed; null when it passed")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, BackendCheck] = Field(description="One entry per backend: database, kv, storage, pubsub")
