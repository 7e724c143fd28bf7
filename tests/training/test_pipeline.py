"""A whole retraining run on the CPU, the lock, cancelling, and a real Celery worker end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import session_scope, utcnow
from app.models import ModelVersion, TrainingRun
from tests.helpers import ask, login, make_user, open_conversation
from tests.instances import wait_until
from training import evaluate, pipeline, runs

pytestmark = pytest.mark.slow


def _run(status: str = "queued", **values) -> int:  # type: ignore[no-untyped-def]
    with session_scope() as s:
        run = TrainingRun(status=status, progress={}, metrics={}, **values)
        s.add(run)
        s.flush()
        return run.id


@pytest.fixture
def quick_training(settings):  # type: ignore[no-untyped-def]
    settings.training_max_steps, settings.training_batch_size = 3, 2
    settings.training_eval_tokens, settings.training_min_examples, settings.training_eval_suite = 12, 4, 2
    settings.training_awq_samples = 4
    return settings


def test_a_run_trains_evaluates_registers_and_reports(logged_turns, quick_training, local_model):
    run_id = _run()
    # Files another database's run with this id left (a database reset, the models folder kept): a stale
    # conversion among them must not be taken for this run's, nor deleted.
    work = quick_training.resolved_models_dir / "runs" / f"run-{run_id}"
    (work / "awq" / "onnx-int4").mkdir(parents=True)
    (work / "awq" / "onnx-int4" / "stale.txt").write_text("another run's")
    assert runs.execute(run_id) == "succeeded"
    [aside] = work.parent.glob(f"run-{run_id}.orphaned-*")
    assert (aside / "awq" / "onnx-int4" / "stale.txt").exists()
    assert not (work / "awq" / "onnx-int4" / "stale.txt").exists()
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        versions = {v.name: v for v in s.scalars(select(ModelVersion))}
        assert run.status == "succeeded" and run.model_version_id is not None
        assert set(run.metrics["timings"]) == set(pipeline.STAGES)
        assert len(run.progress["losses"]) == 3
        candidate = s.get(ModelVersion, run.model_version_id)
        assert candidate.lineage["run"] == run_id and candidate.lineage["dataset_sha256"]
        metrics = candidate.metrics
        # Every measure of the gate, for the candidate and the active model alike (sendable among them).
        assert set(evaluate.MEASURES) <= set(metrics["candidate"]) & set(metrics["active_before"])
        # The registered (and judged) model is the AWQ one, in the compressed-tensors format vLLM loads.
        config = json.loads((Path(candidate.path) / "config.json").read_text())
        assert config["quantization_config"]["format"] == "pack-quantized"
        assert config["quantization_config"]["config_groups"]["group_0"]["weights"]["num_bits"] == 4
        assert candidate.lineage["quantization"] == "awq-w4a16" and metrics["quantize"]["group_size"] == 64
        # The local backend serves it through the int4 engine (converted from the merged weights into the
        # version's onnx-int4/), and that is what the gate judged, against the base on the same engine.
        assert (Path(candidate.path) / "onnx-int4" / "model.onnx").exists() and candidate.lineage["onnx"]
        assert metrics["candidate"]["engine"] == metrics["active_before"]["engine"] == "onnx-int4"
        # The held reply had no model proposal to replace (no LLM in these tests): no preference pairs, so DPO
        # was skipped and the gate's table has SFT alone beside the active model.
        assert "DPO skipped: 0 preference pairs" in run.log and run.progress["dpo_losses"] == []
        assert metrics["compared"]["sft+dpo"] is None and metrics["chosen"] == "sft"
        assert metrics["compared"]["sft"] == metrics["candidate"] and not candidate.lineage["dpo"]
        # Either it was promoted and is active, or the gate said why not and the base still answers.
        active = [v for v in versions.values() if v.status == "active"]
        assert len(active) == 1
        if metrics["promoted"]:
            assert active[0].id == candidate.id
        else:
            assert metrics["not_promoted_because"] and active[0].id != candidate.id
        assert "stage deploy" in run.log


def test_too_few_turns_fail_clearly(demo_shop, settings):
    run_id = _run()
    assert runs.execute(run_id) == "failed"
    with session_scope() as s:
        assert "approved or sent turns" in s.get(TrainingRun, run_id).error


def test_one_run_at_a_time_and_stale_locks_expire(demo_shop):
    fresh = _run("running", heartbeat_at=utcnow())
    second = _run()
    assert not runs.claim(second)
    with session_scope() as s:
        s.get(TrainingRun, fresh).heartbeat_at = utcnow() - timedelta(hours=1)  # its worker died
    assert runs.claim(second)
    with session_scope() as s:
        assert s.get(TrainingRun, fresh).status == "failed"


def test_admin_api_and_a_real_worker(client, demo_shop, settings):
    """POST /training/runs queues to Redis; a separate `shopdesk worker` process runs it."""
    env = {
        **os.environ,
        "SHOPDESK_DATABASE_URL": settings.resolved_database_url,
        "SHOPDESK_REDIS_URL": settings.redis_url,
        "SHOPDESK_DATA_DIR": str(settings.data_dir),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        admin = login(client, make_user("admin"))
        agent = login(client, make_user("agent", "a@shop.test"))
        assert client.post("/api/v1/training/runs", headers=agent).status_code == 403
        started = client.post("/api/v1/training/runs", headers=admin)
        assert started.status_code == 202 and started.json()["status"] == "queued"
        run_id = started.json()["id"]
        assert client.post("/api/v1/training/runs", headers=admin).status_code == 409  # one at a time

        def ended() -> bool:
            run = client.get(f"/api/v1/training/runs/{run_id}", headers=admin).json()
            return run["status"] in ("succeeded", "failed", "cancelled")

        wait_until(ended, 120, "the worker did not end the run", interval=1)
        run = client.get(f"/api/v1/training/runs/{run_id}", headers=admin).json()
        # No approved turns yet: the worker ran it and it failed for that reason, cleanly.
        assert run["status"] == "failed" and "approved or sent turns" in run["error"]
        assert run["stage"] == "dataset"
        models = client.get("/api/v1/models", headers=admin).json()["models"]
        assert [m["status"] for m in models] == ["active"]  # the base, registered and still answering
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_activate_and_roll_back(client, demo_shop, settings, local_model):
    from training import registry

    admin = login(client, make_user("admin"))
    with session_scope() as s:
        base = registry.ensure_base(s, settings)
        other = registry.register(
            s, name="copy", backend="local", base=base.name, path=base.path, metrics={}, lineage={}
        )
        broken = registry.register(
            s, name="broken", backend="local", base=base.name, path="/nowhere", metrics={}, lineage={}
        )
        ids = (base.id, other.id, broken.id)
    assert client.post(f"/api/v1/models/{ids[1]}/activate", headers=admin).json()["status"] == "active"
    assert client.post(f"/api/v1/models/{ids[2]}/activate", headers=admin).status_code == 409
    assert client.post(f"/api/v1/models/{ids[0]}/activate", headers=admin).status_code == 200  # roll back
    statuses = {m["id"]: m["status"] for m in client.get("/api/v1/models", headers=admin).json()["models"]}
    assert statuses == {ids[0]: "active", ids[1]: "retired", ids[2]: "registered"}


def test_a_run_killed_mid_way_leaves_the_active_model_answering(client, logged_turns, settings, local_model):
    from tests.helpers import ask, open_conversation
    from training import registry

    with session_scope() as s:
        before = registry.ensure_base(s, settings).id
    env = {
        **os.environ,
        "SHOPDESK_DATABASE_URL": settings.resolved_database_url,
        "SHOPDESK_REDIS_URL": "",
        "SHOPDESK_DATA_DIR": str(settings.data_dir),
        "SHOPDESK_TRAINING_MIN_EXAMPLES": "1",  # the split is by conversation: the train side may be small
        "SHOPDESK_TRAINING_MAX_STEPS": "200",
    }
    trainer = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "train", "--wait"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def training() -> bool:
        assert trainer.poll() is None, "the trainer exited before its fine-tune"
        with session_scope() as s:
            run = s.scalars(select(TrainingRun)).first()
            return run is not None and run.stage == "finetune" and bool(run.progress.get("losses"))

    # Into the fine-tune proper: it has logged its first steps. Generous: a loaded machine is slow to get there.
    wait_until(training, 600, "the run did not reach its fine-tune steps", interval=0.5)
    trainer.kill()  # mid fine-tune, no chance to clean up
    trainer.wait()
    with session_scope() as s:
        active = s.scalars(select(ModelVersion).where(ModelVersion.status == "active")).all()
        assert [v.id for v in active] == [before]
        assert s.scalars(select(TrainingRun)).first().status == "running"  # until its heartbeat goes stale
    settings.llm_samples = 1
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert reply["status"] == "sent" and "SF1234567890" in reply["text"]


def test_the_schedule_starts_a_run_only_when_due_and_with_enough_new_turns(client, demo_shop, settings, monkeypatch):
    """training.scheduled (the beat task), through its plain function; dispatching is recorded, not run."""
    from training.tasks import scheduled

    dispatched: list[int] = []
    monkeypatch.setattr(runs, "dispatch", lambda run_id, _settings: dispatched.append(run_id))
    settings.training_min_new_turns, settings.training_schedule_hours = 2, 24
    conversation = open_conversation(client, "c1001")
    ask(client, conversation, "Where is my order A1023?")
    assert scheduled.run() is None  # one new turn, two needed
    ask(client, conversation, "Where is my order A1024?")
    run_id = scheduled.run()
    assert run_id is not None and dispatched == [run_id]
    with session_scope() as s:
        s.get(TrainingRun, run_id).status = "succeeded"
    ask(client, conversation, "How long does a refund take?")
    ask(client, conversation, "Is shipping free?")
    assert scheduled.run() is None  # enough turns, but the last scheduled run was less than 24 h ago
    settings.training_schedule_hours = 0.25
    with session_scope() as s:
        s.get(TrainingRun, run_id).created_at = utcnow() - timedelta(hours=1)
    assert scheduled.run() is not None


def test_a_celery_worker_killed_mid_run_leaves_no_version_and_its_successor_fails_the_run(
    client, logged_turns, settings, local_model, tmp_path
):
    """SIGKILL the worker in the fine-tune: the next worker to start marks the run failed (its heartbeat
    stopped), removes its half-written files and frees the lock; no version of it exists, none changed."""
    from tests.instances import ShopdeskProcess
    from training import registry

    STALE_S = 3  # the heartbeat's limit for these workers
    with session_scope() as s:
        before = registry.ensure_base(s, settings).id
    env = {
        "SHOPDESK_DATABASE_URL": settings.resolved_database_url,
        "SHOPDESK_REDIS_URL": settings.redis_url,
        "SHOPDESK_DATA_DIR": str(settings.data_dir),
        # The split is by conversation (ids are random): one example is enough to reach the fine-tune.
        "SHOPDESK_TRAINING_MIN_EXAMPLES": "1",
        "SHOPDESK_TRAINING_MAX_STEPS": "200",
        "SHOPDESK_TRAINING_STALE_S": str(STALE_S),
    }
    first = ShopdeskProcess(["worker"], env, tmp_path / "worker-1.log")
    first.start(wait_for_http=False)
    try:
        admin = login(client, make_user("admin"))
        run_id = client.post("/api/v1/training/runs", headers=admin).json()["id"]

        def training() -> bool:
            with session_scope() as s:
                run = s.get(TrainingRun, run_id)
                assert run.status in ("queued", "running"), f"the run ended early: {run.status} {run.error}"
                return run.stage == "finetune" and bool(run.progress.get("losses"))

        wait_until(training, 600, "the run did not reach its fine-tune steps")  # a loaded machine is slow
    finally:
        first.kill()  # mid fine-tune, no chance to clean up
    work = settings.resolved_models_dir / "runs" / f"run-{run_id}"
    assert work.exists()  # what it had written so far
    with session_scope() as s:
        assert s.get(TrainingRun, run_id).status == "running"  # nobody knows yet
        assert [v.id for v in s.scalars(select(ModelVersion))] == [before]

    def stale() -> bool:  # its heartbeat is past the limit, as the next worker reckons it
        with session_scope() as s:
            return s.get(TrainingRun, run_id).heartbeat_at <= utcnow() - timedelta(seconds=STALE_S + 0.5)

    wait_until(stale, 30, "the dead worker's heartbeat did not go stale")
    second = ShopdeskProcess(["worker"], env, tmp_path / "worker-2.log")
    second.start(wait_for_http=False)
    try:

        def failed() -> bool:
            with session_scope() as s:
                return s.get(TrainingRun, run_id).status == "failed"

        wait_until(failed, 60, "the restarted worker did not mend the dead run")
    finally:
        second.stop()
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        assert "stopped answering during the finetune stage" in run.error
        versions = s.scalars(select(ModelVersion)).all()
        assert [(v.id, v.status) for v in versions] == [(before, "active")]
    assert not work.exists()
    assert runs.claim(_run())  # the lock is free for the next run


def test_recover_fails_dead_runs_and_resends_waiting_ones(demo_shop, settings, monkeypatch):
    """training.runs.recover, through its plain function; dispatching is recorded, not run."""
    sent: list[int] = []
    monkeypatch.setattr(runs, "dispatch", lambda run_id, _settings: sent.append(run_id) or True)
    alive = _run("running", heartbeat_at=utcnow(), stage="finetune")
    dead = _run("running", heartbeat_at=utcnow() - timedelta(hours=1), stage="quantize")
    just_queued = _run()
    long_queued = _run()
    with session_scope() as s:
        s.get(TrainingRun, long_queued).created_at = utcnow() - timedelta(hours=1)  # the broker was down
    leftovers = settings.resolved_models_dir / "runs" / f"run-{dead}"
    leftovers.mkdir(parents=True)

    assert runs.recover(settings) == {"failed": [dead], "resent": [long_queued]}
    assert sent == [long_queued] and not leftovers.exists()
    with session_scope() as s:
        assert "during the quantize stage" in s.get(TrainingRun, dead).error
        assert s.get(TrainingRun, alive).status == "running"

    # `shopdesk run` starting again: its runs were threads of the server that stopped.
    sent.clear()
    assert runs.recover(settings, at_start=True) == {"failed": [alive], "resent": [just_queued, long_queued]}
