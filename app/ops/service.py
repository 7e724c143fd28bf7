"""Liveness, readiness and the figures /metrics reads from the database at scrape time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import get_redis, schema_mismatch
from app.llm.registry import active_version
from app.models import Review, TrainingRun
from app.ops import metrics


def readiness(session: Session, settings: Settings) -> tuple[bool, dict[str, Any]]:
    """The database must answer, at this version's schema; Redis is reported, not required (turns complete
    without it)."""
    checks: dict[str, Any] = {}
    try:
        session.execute(text("SELECT 1"))
        mismatch = schema_mismatch(session.connection())
        checks["database"] = "ok"
        # A schema that moved while serving (a restored backup, a rolled-back migration) fails requests.
        checks["schema"] = mismatch or "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready, with the reason
        checks["database"] = f"down: {type(exc).__name__}"
    if settings.redis_url:
        try:
            get_redis(settings.redis_url).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"degraded: {type(exc).__name__} (live events poll; jobs wait)"
    if settings.llm_backend == "openai":
        from app.llm.registry import get_chat_model

        breaker = get_chat_model(settings).breaker
        if breaker is not None and breaker.state != "closed":
            # Not a reason to take the api out of rotation: turns are held for agents until it recovers.
            checks["llm"] = f"degraded: circuit breaker {breaker.state}, replies held for agents"
        else:
            checks["llm"] = "ok"
    return checks["database"] == "ok" and checks["schema"] == "ok", checks


JOB_QUEUES = ("default", "training")


def refresh_gauges(session: Session, settings: Settings) -> None:
    metrics.PENDING_REVIEWS.set(
        session.scalar(select(func.count()).select_from(Review).where(Review.status == "pending")) or 0
    )
    waiting = select(func.count()).select_from(TrainingRun).where(TrainingRun.status.in_(("queued", "running")))
    metrics.QUEUED_RUNS.set(session.scalar(waiting) or 0)
    metrics.MODEL_VERSION.clear()
    active = active_version(session)
    if active is not None:
        metrics.MODEL_VERSION.labels(active.name, active.backend).set(1)
    if settings.redis_url:
        try:
            client = get_redis(settings.redis_url)
            for queue in JOB_QUEUES:  # Celery's Redis transport keeps each queue as a list of that name
                metrics.JOB_QUEUE.labels(queue).set(client.llen(queue))
        except Exception:  # noqa: BLE001 - Redis down: /readyz says so; the gauge keeps its last value
            pass
