"""The one Celery app: Redis as broker in a deployment; named queues `default` and `training`."""

from __future__ import annotations

from datetime import timedelta

from celery import Celery
from kombu import Queue

from app.config import get_settings

SCHEDULE_TICK_MINUTES = 15


def make_celery() -> Celery:
    settings = get_settings()
    broker = settings.redis_url
    if not broker:
        # No Redis (the embedded default): a transport on the local disk, so a worker can still run.
        folder = settings.data_dir.resolve() / "celery"
        for name in ("out", "processed"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        broker = "filesystem://"
        transport = {
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    else:
        transport = {}
    celery = Celery("shopdesk", broker=broker, include=["training.tasks"])
    celery.conf.update(
        broker_transport_options=transport,
        task_queues=(Queue("default"), Queue("training")),
        task_default_queue="default",
        task_routes={"training.*": {"queue": "training"}},
        task_ignore_result=True,  # runs keep their own state in the training_runs table
        task_acks_late=True,  # a worker killed mid-task leaves it to be redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A broker that is down fails a send within seconds (the run stays queued; recover() resends it),
        # instead of blocking the admin's request.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        beat_schedule={
            "recover-training-runs": {"task": "maintenance.recover_runs", "schedule": timedelta(minutes=1)},
            "retrain-when-enough-new-turns": {
                "task": "training.scheduled",
                # Beat ticks often; the task decides whether the (admin-editable) schedule is due.
                "schedule": timedelta(minutes=SCHEDULE_TICK_MINUTES),
            },
        },
    )
    return celery


celery_app = make_celery()
