"""Model versions: register with metrics and lineage, activate, roll back; one version is active."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.llm.registry import active_version
from app.models import ModelVersion


def register(
    session: Session, *, name: str, backend: str, base: str, path: str, metrics: dict[str, Any], lineage: dict[str, Any]
) -> ModelVersion:
    version = ModelVersion(name=name, backend=backend, base=base, path=path, metrics=metrics, lineage=lineage)
    session.add(version)
    session.flush()
    return version


def activate(session: Session, version: ModelVersion) -> None:
    """Make this version the one every process answers with (they pick it up on their next turn).

    A local version needs its files here; a served one (backend openai) is checked by training/deploy.py.
    """
    if version.backend == "openai":
        if not (version.lineage or {}).get("endpoint"):
            raise ValueError(f"model version {version.name} has no server endpoint")
    elif not version.path or not (Path(version.path) / "config.json").exists():
        raise ValueError(f"model version {version.name} has no model files at {version.path!r}")
    session.execute(update(ModelVersion).where(ModelVersion.status == "active").values(status="retired"))
    version.status = "active"
    version.activated_at = utcnow()
    session.flush()


def ensure_base(session: Session, settings: Settings) -> ModelVersion:
    """The model answering now: the active version, or the embedded base registered as the first one."""
    current = active_version(session)
    if current is not None:
        return current
    from app.llm.local import SMOLLM2_NAME, ensure_default_weights

    path = Path(settings.llm_model) if settings.llm_model else ensure_default_weights(settings.resolved_models_dir)
    name = path.name if settings.llm_model else SMOLLM2_NAME
    version = session.scalar(select(ModelVersion).where(ModelVersion.name == name))
    if version is None:
        version = register(
            session,
            name=name,
            backend="local",
            base=name,
            path=str(path),
            metrics={},
            lineage={"origin": "shipped weights"},
        )
    version.status = "active"
    version.activated_at = utcnow()
    session.flush()
    return version
