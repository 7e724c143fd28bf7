"""Training runs and model versions for admins: start, watch, cancel a run; list and activate versions."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import as_utc, iso, utcnow
from app.errors import AppError
from app.models import AuditLog, Message, ModelVersion, Review, TrainingRun, User

log = logging.getLogger(__name__)


def create_run(session: Session, trigger: str, user: User | None = None) -> TrainingRun:
    busy = session.scalar(select(TrainingRun).where(TrainingRun.status.in_(("queued", "running", "cancelling"))))
    if busy is not None:
        raise AppError(409, "run_in_progress", f"training run {busy.id} is {busy.status}; one run at a time")
    run = TrainingRun(trigger=trigger, status="queued", progress={}, metrics={})
    session.add(run)
    session.flush()
    if user is not None:
        session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="training.start", target=f"run:{run.id}"))
    return run


def start_run(session: Session, settings: Settings, trigger: str, user: User | None = None) -> tuple[TrainingRun, bool]:
    """Create a run, commit it, then queue it; (run, queued). The worker must find the run it is sent."""
    run = create_run(session, trigger, user)
    session.commit()  # this use case owns its commit: whether the run was queued is part of its answer
    return run, dispatch(run.id, settings)


def dispatch(run_id: int, settings: Settings) -> bool:
    """Queue the run (after the commit that created it): to the Celery worker with Redis, else in-process.

    With Redis down the run stays `queued` in the database and False is returned: the worker's start and
    beat's recovery tick (training.pipeline.recover) send it again once Redis is back.
    """
    if settings.redis_url:
        from training.tasks import run_training

        try:
            run_training.delay(run_id)
        except Exception as exc:  # noqa: BLE001 - kombu raises several kinds for a broker that is down
            log.warning("could not queue training run %s (%s); it is sent again when the broker is back", run_id, exc)
            return False
        return True
    from training.pipeline import run

    threading.Thread(target=run, args=(run_id,), name=f"training-run-{run_id}", daemon=True).start()
    return True


def run_read(run: TrainingRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "stage": run.stage,
        "trigger": run.trigger,
        "progress": run.progress,
        "metrics": run.metrics,
        "error": run.error,
        "log": run.log,
        "model_version_id": run.model_version_id,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def get_run(session: Session, run_id: int) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise AppError(404, "not_found", "no such training run")
    return run


def cancel(session: Session, run_id: int, user: User) -> TrainingRun:
    run = get_run(session, run_id)
    if run.status == "queued":
        run.status = "cancelled"
    elif run.status == "running":
        run.status = "cancelling"  # the run stops at its next step
    else:
        raise AppError(409, "not_running", f"the run is {run.status}")
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="training.cancel", target=f"run:{run.id}"))
    return run


def version_read(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "name": version.name,
        "status": version.status,
        "backend": version.backend,
        "base": version.base,
        "metrics": version.metrics,
        "lineage": version.lineage,
        "created_at": version.created_at.isoformat(),
        "activated_at": version.activated_at.isoformat() if version.activated_at else None,
    }


def list_versions(session: Session) -> list[dict[str, Any]]:
    return [version_read(v) for v in session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))]


def activate(session: Session, version_id: int, user: User) -> ModelVersion:
    """Activate (or roll back to) a version; every process answers with it from its next turn."""
    from training import registry
    from training.deploy import DeployError, check_version

    version = session.get(ModelVersion, version_id)
    if version is None:
        raise AppError(404, "not_found", "no such model version")
    try:
        check_version(version)  # a served version's server must answer before traffic moves to it
    except DeployError as exc:
        raise AppError(409, "server_not_ready", f"not activated: {exc}") from None
    try:
        registry.activate(session, version)
    except ValueError as exc:
        raise AppError(409, "model_files_missing", str(exc)) from None
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="model.activate", target=version.name))
    return version


def answering_model(session: Session, settings: Settings) -> dict[str, str]:
    """Which model writes the replies now: the active version, else what the settings name, else the
    embedded base model (SmolLM2-135M-Instruct, shipped in a PyPI package)."""
    active = session.scalar(select(ModelVersion).where(ModelVersion.status == "active").limit(1))
    if active is not None:
        return {"name": active.name, "backend": active.backend, "source": "active version"}
    if settings.llm_backend == "openai":
        return {"name": settings.llm_model or settings.llm_base_url, "backend": "openai", "source": "settings"}
    if settings.llm_model:
        return {"name": settings.llm_model, "backend": "local", "source": "settings"}
    return {"name": "SmolLM2-135M-Instruct", "backend": "local", "source": "embedded default"}


def new_final_replies(session: Session) -> int:
    """Final replies (sent, or decided by an agent) since the last successful run started: a run that failed
    or was cancelled learned nothing from them."""
    since = session.scalar(select(func.max(TrainingRun.created_at)).where(TrainingRun.status == "succeeded"))
    sent = select(func.count()).select_from(Message).where(Message.role == "assistant", Message.status == "sent")
    decided = select(func.count()).select_from(Review).where(Review.status.in_(("approved", "edited")))
    if since is not None:
        sent = sent.where(Message.created_at > since)
        decided = decided.where(Review.decided_at > since)
    return int(session.scalar(sent) or 0) + int(session.scalar(decided) or 0)


def schedule_due(session: Session, every_hours: float) -> bool:
    """Whether the last scheduled run started at least every_hours ago (or there was none)."""
    last = session.scalar(select(func.max(TrainingRun.created_at)).where(TrainingRun.trigger == "schedule"))
    if last is None:
        return True
    return utcnow() - as_utc(last) >= timedelta(hours=every_hours)
