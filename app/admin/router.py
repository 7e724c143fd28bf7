"""Admin API: training runs and model versions, the lexicon, run-time settings, users, analytics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.admin import analytics
from app.admin import runtime as runtime_settings
from app.admin import service as admin_service
from app.admin import training as training_service
from app.admin.schemas import (
    AnalyticsRead,
    LexiconRead,
    LexiconSaved,
    ModelList,
    ModelVersionRead,
    RuntimeSettingList,
    ScheduleRead,
    SettingsUpdate,
    TrainingRunList,
    TrainingRunRead,
    TrainingRunStarted,
    UserAccountList,
    UserAccountRead,
    UserCreate,
    UserUpdate,
)
from app.deps import CurrentAdmin, SessionDep, SettingsDep
from training import runs

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
models_router = APIRouter(prefix="/api/v1", tags=["admin"])


@models_router.post("/training/runs", status_code=202, response_model=TrainingRunStarted)
def start_run(admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict:
    run, queued = runs.start(session, settings, trigger="admin", user=admin)
    # queued false: the job queue is down; the run waits in the database and is sent when it is back.
    return {"id": run.id, "status": run.status, "queued": queued}


@models_router.get("/training/runs", response_model=TrainingRunList)
def list_runs(admin: CurrentAdmin, session: SessionDep) -> dict:
    from sqlalchemy import select

    from app.models import TrainingRun

    runs = session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(50))
    return {"runs": [training_service.run_read(r) for r in runs]}


@models_router.get("/training/runs/{run_id}", response_model=TrainingRunRead)
def get_run(run_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.run_read(runs.get(session, run_id))


@models_router.post("/training/runs/{run_id}/cancel", response_model=TrainingRunRead)
def cancel_run(run_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.run_read(runs.cancel(session, run_id, admin))


@models_router.get("/models", response_model=ModelList)
def list_models(admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict:
    return {
        "models": training_service.list_versions(session),
        "answering": training_service.answering_model(session, settings),
    }


@models_router.post("/models/{version_id}/activate", response_model=ModelVersionRead)
def activate_model(version_id: int, admin: CurrentAdmin, session: SessionDep) -> dict:
    return training_service.version_read(training_service.activate(session, version_id, admin))


@router.get("/lexicon", response_model=LexiconRead)
def get_lexicon(admin: CurrentAdmin, settings: SettingsDep) -> dict[str, Any]:
    return admin_service.read_lexicon(settings)


@router.put("/lexicon", response_model=LexiconSaved)
def put_lexicon(body: dict[str, Any], admin: CurrentAdmin, settings: SettingsDep, session: SessionDep) -> dict:
    return admin_service.save_lexicon(session, settings, admin, body)


@router.get("/settings", response_model=RuntimeSettingList)
def get_settings(admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    return runtime_settings.read(session, settings)


@router.put("/settings", response_model=RuntimeSettingList)
def put_settings(body: SettingsUpdate, admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict:
    return runtime_settings.update(session, settings, admin, body.values)


@router.get("/schedule", response_model=ScheduleRead)
def schedule(admin: CurrentAdmin, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """The retraining schedule as it stands: how often, how many new turns it needs, how many there are."""
    effective = runtime_settings.effective(session, settings)
    new_turns = runs.new_final_replies(session)
    time_due = runs.schedule_due(session, effective.training_schedule_hours)
    return {
        "every_hours": effective.training_schedule_hours,
        "min_new_turns": effective.training_min_new_turns,
        "new_turns": new_turns,
        "time_due": time_due,  # the interval has passed since the last scheduled run
        # The beat starts a run only when both hold (training/runs.py start_if_due()).
        "due": time_due and new_turns >= effective.training_min_new_turns,
        "worker": "celery" if settings.redis_url else "in-process",
    }


@router.get("/users", response_model=UserAccountList)
def list_users(admin: CurrentAdmin, session: SessionDep) -> dict:
    return {"users": admin_service.list_users(session)}


@router.post("/users", status_code=201, response_model=UserAccountRead)
def create_user(body: UserCreate, admin: CurrentAdmin, session: SessionDep) -> dict:
    return admin_service.create_user(session, admin, body.email, body.password, body.role, body.name)


@router.patch("/users/{user_id}", response_model=UserAccountRead)
def update_user(user_id: int, body: UserUpdate, admin: CurrentAdmin, session: SessionDep) -> dict:
    return admin_service.update_user(session, admin, user_id, body.model_dump(exclude_unset=True))


@router.get("/analytics", response_model=AnalyticsRead)
def get_analytics(
    admin: CurrentAdmin, session: SessionDep, days: Annotated[int, Query(ge=1, le=366)] = 14
) -> dict[str, Any]:
    return analytics.daily(session, days)
