"""Celery tasks: thin, they take ids and call plain functions."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

from training import pipeline
from training.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name="training.run")
def run_training(run_id: int) -> str:
    """Run a queued training run (a redelivered one whose run already ended does nothing)."""
    return pipeline.run(run_id)


@celery_app.task(name="maintenance.recover_runs")
def recover_runs() -> dict[str, list[int]]:
    """Fail runs whose worker died; send runs that never reached a worker (broker down) again."""
    return pipeline.recover()


@worker_ready.connect
def _recover_at_start(**_: object) -> None:
    # A worker (re)started after a crash or an outage: mend what the last one left before taking work.
    try:
        pipeline.recover()
    except Exception:  # noqa: BLE001 - the database may not be up yet; beat's tick tries again
        log.exception("could not recover training runs at worker start")


@celery_app.task(name="training.scheduled")
def scheduled() -> int | None:
    """Start a run when the schedule is due and enough new final replies have come in since the last one."""
    from app.admin import runtime
    from app.admin import training as training_service
    from app.config import get_settings
    from app.db import session_scope

    with session_scope() as session:
        settings = runtime.effective(session, get_settings())  # an admin may have changed the schedule
        if not training_service.schedule_due(session, settings.training_schedule_hours):
            return None
        if training_service.new_final_replies(session) < settings.training_min_new_turns:
            return None
        run = training_service.create_run(session, trigger="schedule")
        run_id = run.id
    training_service.dispatch(run_id, settings)
    return run_id
