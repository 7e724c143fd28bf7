"""Admin API: the moderation lexicon (edited at run time, no restart)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.admin import service as admin_service
from app.admin import training as training_service
from app.deps import CurrentAdmin, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
models_router = APIRouter(prefix="/api/v1", tags=["admin"])


@models_router.post("/training/runs", status_code=202)
def start_run(admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict:
    run = training_service.create_run(session, trigger="admin", user=admin)
    session.commit()  # the worker must find the run: queue it only after the commit
    training_service.dispatch(run.id, settings)
    return {"id": run.id, "status": run.status}


@models_router.get("/training/runs")
def list_runs(admin: CurrentAdmin, session: SessionDep) -> dict:
    from sqlalchemy import select

    from app.models import TrainingRun

    runs = session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(50))
    return {"runs": [training_service.run_read(r) for r in runs]}


@models_router.get("/training/runs/{run_id}")
def get_run(run_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.run_read(training_service.get_run(session, run_id))


@models_router.post("/training/runs/{run_id}/cancel")
def cancel_run(run_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.run_read(training_service.cancel(session, run_id, admin))


@models_router.get("/models")
def list_models(admin: CurrentAdmin, session: SessionDep) -> dict:
    return {"models": training_service.list_versions(session)}


@models_router.post("/models/{version_id}/activate")
def activate_model(version_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.version_read(training_service.activate(session, version_id, admin))


@router.get("/lexicon")
def get_lexicon(admin: CurrentAdmin, settings: SettingsDep) -> dict[str, Any]:
    return admin_service.read_lexicon(settings)


@router.put("/lexicon")
def put_lexicon(body: dict[str, Any], admin: CurrentAdmin, settings: SettingsDep, session: SessionDep) -> dict:
    return admin_service.save_lexicon(session, settings, admin, body)
