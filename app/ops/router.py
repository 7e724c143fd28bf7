"""Operations endpoints: /healthz (the process is up), /readyz (it can serve), /metrics (Prometheus)."""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.deps import SessionDep, SettingsDep
from app.ops import service
from app.ops.schemas import HealthRead, ReadinessRead

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthRead)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=ReadinessRead,
    responses={503: {"model": ReadinessRead, "description": "not ready: the database or its schema is not"}},
)
def readyz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    ready, checks = service.readiness(session, settings)
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
def metrics(session: SessionDep, settings: SettingsDep) -> Response:
    service.refresh_gauges(session, settings)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several api processes (serve --workers): every process's samples, summed (gauges: the latest).
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
