"""Operations: liveness, readiness and Prometheus metrics, at the root (not versioned with the API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hashigo import __version__
from hashigo.service.deps import RuntimeDep
from hashigo.service.health.schemas import Liveness, Readiness
from hashigo.service.health.service import check_readiness
from hashigo.service.kit.metrics import REGISTRY

router = APIRouter()

_READINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "A backend did not answer; see `checks`",
          "headers": {"Retry-After": {"description": "Seconds to wait before asking again",
                                      "schema": {"type": "integer"}}}},
}


@router.get("/healthz", response_model=Liveness, summary="Liveness: the process answers (no backend is asked)")
async def healthz() -> Liveness:
    return Liveness(version=__version__)


@router.get("/readyz", response_model=Readiness, responses=_READINESS_RESPONSES,
            summary="Readiness: every backend answers within the readiness timeout")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    service = runtime.settings.service
    readiness = await check_readiness(runtime, service.readiness_timeout_seconds)
    if readiness.status == "ready":
        return JSONResponse(readiness.model_dump())
    return JSONResponse(readiness.model_dump(), status_code=503,
                        headers={"Retry-After": str(service.retry_after_seconds)})


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (text exposition format)",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
