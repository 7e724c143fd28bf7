"""What admins read of training runs, and model versions: list, activate, which model answers.

Starting, cancelling and recovering runs belong to training/runs.py."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import iso
from app.errors import AppError
from app.llm.registry import active_version
from app.models import AuditLog, ModelVersion, TrainingRun, User

log = logging.getLogger(__name__)


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
    active = active_version(session)
    if active is not None:
        return {"name": active.name, "backend": active.backend, "source": "active version"}
    if settings.llm_backend == "openai":
        return {"name": settings.llm_model or settings.llm_base_url, "backend": "openai", "source": "settings"}
    if settings.llm_model:
        return {"name": settings.llm_model, "backend": "local", "source": "settings"}
    return {"name": "SmolLM2-135M-Instruct", "backend": "local", "source": "embedded default"}
