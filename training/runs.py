"""The life of a training run: create, queue, claim, execute, cancel, recover.

The one owner of a run's status. The admin API (app/admin/router.py), the CLI (`shopdesk train`, `shopdesk
run`) and the Celery tasks (training/tasks.py) call it; it calls the pipeline (training/pipeline.py) for the
work itself, and nothing it imports calls back.

Only one run trains at a time: a run claims the lock by moving to `running` while no other run has a
fresh heartbeat; a worker that dies leaves a stale heartbeat, and the next run takes over. The active
model changes only in the pipeline's last stage, so a run that fails or is killed leaves it answering.
"""

from __future__ import annotations

import logging
import shutil
import threading
import traceback
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from app.admin import runtime
from app.config import Settings, get_settings
from app.db import as_utc, session_scope, utcnow
from app.errors import AppError
from app.models import AuditLog, Message, Review, TrainingRun, User
from training import pipeline
from training.finetune import Cancelled

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "running", "cancelling")


def create(session: Session, trigger: str, user: User | None = None) -> TrainingRun:
    """A queued run (the caller commits, then dispatches); 409 while another run is unfinished."""
    busy = session.scalar(select(TrainingRun).where(TrainingRun.status.in_(UNFINISHED)))
    if busy is not None:
        raise AppError(409, "run_in_progress", f"training run {busy.id} is {busy.status}; one run at a time")
    run = TrainingRun(trigger=trigger, status="queued", progress={}, metrics={})
    session.add(run)
    session.flush()
    if user is not None:
        session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="training.start", target=f"run:{run.id}"))
    return run


def start(session: Session, settings: Settings, trigger: str, user: User | None = None) -> tuple[TrainingRun, bool]:
    """Create a run, commit it, then queue it; (run, queued). The worker must find the run it is sent."""
    run = create(session, trigger, user)
    session.commit()  # this use case owns its commit: whether the run was queued is part of its answer
    return run, dispatch(run.id, settings)


def dispatch(run_id: int, settings: Settings) -> bool:
    """Queue the run (after the commit that created it): to the Celery worker with Redis, else in-process.

    With Redis down the run stays `queued` in the database and False is returned: the worker's start and
    beat's recovery tick (recover below) send it again once Redis is back.
    """
    if settings.redis_url:
        from training.celery_app import celery_app

        try:
            celery_app.send_task("training.run", args=[run_id])  # training/tasks.py run_training, by name
        except Exception as exc:  # noqa: BLE001 - kombu raises several kinds for a broker that is down
            log.warning("could not queue training run %s (%s); it is sent again when the broker is back", run_id, exc)
            return False
        return True
    threading.Thread(target=execute, args=(run_id,), name=f"training-run-{run_id}", daemon=True).start()
    return True


def start_if_due(settings: Settings) -> int | None:
    """The schedule's run: started when it is due and enough new final replies came in since the last one."""
    with session_scope() as session:
        settings = runtime.effective(session, settings)  # an admin may have changed the schedule
        if not schedule_due(session, settings.training_schedule_hours):
            return None
        if new_final_replies(session) < settings.training_min_new_turns:
            return None
        run_id = create(session, trigger="schedule").id
    dispatch(run_id, settings)
    return run_id


def get(session: Session, run_id: int) -> TrainingRun:
    run = session.get(TrainingRun, run_id)
    if run is None:
        raise AppError(404, "not_found", "no such training run")
    return run


def cancel(session: Session, run_id: int, user: User) -> TrainingRun:
    """A queued run is cancelled now; a running one stops at its next step (the pipeline's progress sees it)."""
    run = get(session, run_id)
    if run.status == "queued":
        run.status = "cancelled"
    elif run.status == "running":
        run.status = "cancelling"
    else:
        raise AppError(409, "not_running", f"the run is {run.status}")
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="training.cancel", target=f"run:{run.id}"))
    return run


def claim(run_id: int) -> bool:
    """Move the run to running unless another run holds a fresh lock."""
    settings = get_settings()
    now = utcnow()
    stale = timedelta(seconds=settings.training_stale_s)
    other = aliased(TrainingRun)
    busy = exists(
        select(other.id).where(and_(other.id != run_id, other.status == "running", other.heartbeat_at > now - stale))
    )
    with session_scope() as session:
        # A run left `running` by a dead worker is failed, so the lock can't be held by a ghost.
        _fail_dead_runs(session, settings, now - stale)
        result = session.execute(
            update(TrainingRun)
            .where(TrainingRun.id == run_id, TrainingRun.status == "queued")
            .where(~busy)
            .values(status="running", started_at=now, heartbeat_at=now)
        )
        claimed = result.rowcount == 1  # type: ignore[attr-defined]
    return claimed


def execute(run_id: int, settings: Settings | None = None) -> str:
    """Claim a queued run and carry it through the pipeline to the end; returns its final status."""
    settings = settings or get_settings()
    if not claim(run_id):
        with session_scope() as session:
            current = session.get(TrainingRun, run_id)
            if current is not None and current.status == "queued":
                current.status, current.error = "failed", "another run was training"
                current.finished_at = utcnow()
            final = str(current.status) if current else "missing"
        return final
    progress = pipeline.Progress(run_id)
    metrics: dict = {}
    error = None
    try:
        metrics = pipeline.stages(run_id, settings, progress)
        status = "succeeded"
    except Cancelled:
        status, error = "cancelled", "cancelled by an admin"
    except pipeline.NotEnoughData as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure ends the run, never the active model
        log.exception("training run %s failed", run_id)
        status, error = "failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-2000:]}"
    timings = progress.finish()
    with session_scope() as session:
        current = session.get(TrainingRun, run_id)
        assert current is not None
        current.status, current.error = status, error
        current.metrics = {**metrics, "timings": timings}
        current.finished_at = utcnow()
    return status


def _fail_dead_runs(session: Session, settings: Settings, stale_before: datetime) -> list[int]:
    """Fail the runs whose heartbeat stopped before stale_before, removing their half-written files (unless
    a version was registered from them); the caller commits."""
    now = utcnow()
    dead = list(
        session.scalars(
            select(TrainingRun)
            .where(TrainingRun.status.in_(("running", "cancelling")), TrainingRun.heartbeat_at <= stale_before)
            .order_by(TrainingRun.id)
        )
    )
    for run in dead:
        run.status, run.finished_at = "failed", now
        stage = run.stage or "first"
        run.error = f"the worker stopped answering during the {stage} stage; the active model is unchanged"
        run.log = (run.log + f"{now.isoformat(timespec='seconds')} {run.error}\n")[-20000:]
        if run.model_version_id is None:
            shutil.rmtree(settings.resolved_models_dir / "runs" / f"run-{run.id}", ignore_errors=True)
    if dead:
        log.warning("training runs %s failed: their worker stopped answering", [run.id for run in dead])
    return [run.id for run in dead]


def recover(settings: Settings | None = None, *, at_start: bool = False) -> dict[str, list[int]]:
    """Mend what a crash or an outage left: fail runs whose worker died, send queued runs to the queue again.

    Runs at every worker start and on beat's recovery tick, and at `shopdesk run`'s start (at_start: with
    no broker the runs were threads of the previous server, so every running one is dead and every queued
    one was lost with it). A dead run's half-written files are removed
    unless a version was registered from them; the active model is never touched (it changes only in the
    deploy stage, in one transaction). Sending a queued run twice is harmless: claim() lets one through.
    """
    settings = settings or get_settings()
    now = utcnow()
    stale_s, requeue_s = (0.0, 0.0) if at_start else (settings.training_stale_s, settings.training_requeue_s)
    with session_scope() as session:
        failed = _fail_dead_runs(session, settings, now - timedelta(seconds=stale_s))
        waiting = list(
            session.scalars(
                select(TrainingRun.id)
                .where(
                    TrainingRun.status == "queued",
                    TrainingRun.created_at <= now - timedelta(seconds=requeue_s),
                )
                .order_by(TrainingRun.id)
            )
        )
    resent = [run_id for run_id in waiting if dispatch(run_id, settings)]
    if resent:
        log.info("training runs %s sent to the queue again", resent)
    return {"failed": failed, "resent": resent}


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
