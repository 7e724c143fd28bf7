"""Celery tasks: thin, they take ids and call plain functions."""

from __future__ import annotations

import logging

from celery.signals import worker_ready

from training import runs
from training.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name="training.run")
def run_training(run_id: int) -> str:
    """Run a queued training run (a redelivered one whose run already ended does nothing)."""
    return runs.execute(run_id)


@celery_app.task(name="maintenance.recover_runs")
def recover_runs() -> dict[str, list[int]]:
    """Fail runs whose worker died; send runs that never reached a worker (broker down) again."""
    return runs.recover()


@worker_ready.connect
def _recover_at_start(**_: object) -> None:
    # A worker (re)started after a crash or an outage: mend what the last one left before taking work.
    try:
        runs.recover()
    except Exception:  # noqa: BLE001 - the database may not be up yet; beat's tick tries again
        log.exception("could not recover training runs at worker start")


@celery_app.task(name="training.scheduled")
def scheduled() -> int | None:
    """Start a run when the schedule is due and enough new final replies have come in since the last one."""
    from app.config import get_settings

    return runs.start_if_due(get_settings())
