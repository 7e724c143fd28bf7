"""The work of one retraining run: dataset → fine-tune (+ merge) → quantize (AWQ) → evaluate → register → deploy.

Progress (stage, step, loss, a heartbeat) is stored as it goes. The run's status, its lock and its
recovery belong to training/runs.py, which calls stages() for a claimed run. The active model changes
only in the last stage, so a run that fails or is killed leaves it answering.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from app.config import Settings
from app.db import session_scope, utcnow
from app.models import ModelVersion, TrainingRun
from training import dataset, evaluate, registry
from training.finetune import Cancelled, FinetuneConfig, read_jsonl
from training.finetune import main as finetune
from training.quantize import QuantizeConfig, onnx_int4
from training.quantize import main as quantize

log = logging.getLogger(__name__)

STAGES = ("dataset", "finetune", "quantize", "evaluate", "register", "deploy")
CONFIG = Path(__file__).resolve().parent / "configs" / "smollm2-cpu.yaml"


class NotEnoughData(RuntimeError):
    """Too few approved turns to train on."""


class Progress:
    """Writes the run's stage, step and loss (and a heartbeat) in short transactions; raises on cancel."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.timings: dict[str, float] = {}
        self._stage_started = time.perf_counter()
        self._stage_began = ""
        self.stage = ""
        self.losses: list[float] = []

    def _update(self, **values: Any) -> None:
        with session_scope() as session:
            run = session.get(TrainingRun, self.run_id)
            assert run is not None
            for key, value in values.items():
                setattr(run, key, value)
            run.heartbeat_at = utcnow()
            cancelling = run.status == "cancelling"
        if cancelling:
            raise Cancelled("cancelled by an admin")

    def enter(self, stage: str) -> None:
        if self.stage:
            self.timings[self.stage] = round(time.perf_counter() - self._stage_started, 1)
        self.stage, self._stage_started = stage, time.perf_counter()
        self._stage_began = utcnow().isoformat()  # the console works out elapsed and remaining time from it
        self.log(f"stage {stage}")
        self._update(stage=stage, progress=self._progress())

    def step(self, info: dict[str, Any]) -> None:
        self.losses.append(info["loss"])
        self._update(progress={**self._progress(), **info})

    def _progress(self) -> dict[str, Any]:
        began = self._stage_began
        return {"stage": self.stage, "stage_started_at": began, "timings": self.timings, "losses": self.losses}

    def log(self, line: str) -> None:
        log.info("training run %s: %s", self.run_id, line)
        with session_scope() as session:
            run = session.get(TrainingRun, self.run_id)
            assert run is not None
            run.log = (run.log + f"{utcnow().isoformat(timespec='seconds')} {line}\n")[-20000:]

    def finish(self) -> dict[str, float]:
        if self.stage:
            self.timings[self.stage] = round(time.perf_counter() - self._stage_started, 1)
        return self.timings


def stages(run_id: int, settings: Settings, progress: Progress) -> dict[str, Any]:
    work = settings.resolved_models_dir / "runs" / f"run-{run_id}"
    progress.enter("dataset")
    with session_scope() as session:
        base = registry.ensure_base(session, settings)
        base_name, base_path = base.name, base.path
    with session_scope() as session:
        info = dataset.build(session, dataset.DatasetConfig(out_dir=work / "data", data_dir=settings.data_dir))
    progress.log(f"dataset: {info.train} train, {info.eval} eval, {info.preferences} preference pairs")
    if info.train < settings.training_min_examples:
        raise NotEnoughData(
            f"only {info.train} approved or sent turns to train on; {settings.training_min_examples} are needed"
        )

    progress.enter("finetune")
    config = FinetuneConfig.from_yaml(
        CONFIG,
        base_model=base_path,
        train_file=str(info.train_path),
        eval_file=str(info.eval_path),
        output_dir=str(work / "merged"),
        max_steps=settings.training_max_steps,
        batch_size=settings.training_batch_size,
    )
    trained = finetune(config, progress.step)
    progress.log(f"fine-tune: eval loss {trained['eval_loss_before']} → {trained['eval_loss_after']}")

    # The version that gets served is the quantized one, so that is the one the gate judges.
    served = config.output_dir
    quantized: dict[str, Any] = {}
    if settings.training_quantize:
        progress.enter("quantize")
        qconfig = QuantizeConfig(
            model_dir=config.output_dir,
            output_dir=str(work / "awq"),
            calibration_file=str(info.train_path),
            num_samples=settings.training_awq_samples,
        )
        quantized = quantize(qconfig, progress.log)
        served = qconfig.output_dir
        progress.log(
            f"AWQ W4A16 (group {quantized['group_size']}, {quantized['calibration_samples']} calibration "
            f"conversations): {quantized['bytes'] / 1e6:.0f} MB in {quantized['seconds']} s"
        )
    # The local backend's int4 engine serves served/onnx-int4, made from the merged weights (its builder
    # reads compressed-tensors checkpoints for CUDA only); vLLM (openai backend) serves the AWQ folder.
    engine = settings.llm_local_engine if settings.llm_backend == "local" else "transformers"
    converted: dict[str, Any] = {}
    if engine != "transformers":
        if not settings.training_quantize:
            progress.enter("quantize")
        try:
            converted = onnx_int4(served, config.output_dir)
            progress.log(f"int4 ONNX: {converted['bytes'] / 1e6:.0f} MB in {converted['seconds']} s")
        except Exception as exc:  # noqa: BLE001 - auto: transformers serves it (and is what the gate judges)
            if engine == "onnx":
                raise
            progress.log(f"no int4 ONNX model ({exc}); transformers will serve this version")

    progress.enter("evaluate")
    cases = evaluate.held_out(read_jsonl(info.eval_path)) + evaluate.fixed_suite()[: settings.training_eval_suite]
    # Judged as it will be served: through the engine the local backend will load it with.
    candidate = evaluate.run(served, cases, settings.training_eval_tokens, engine=engine)
    current = evaluate.run(base_path, cases, settings.training_eval_tokens, engine=engine)
    promote, reasons = evaluate.gate(candidate, current)
    progress.log(
        f"eval: candidate {json.dumps({k: v for k, v in candidate.items() if k != 'samples'})}, "
        f"active {json.dumps({k: v for k, v in current.items() if k != 'samples'})}"
    )

    progress.enter("register")
    name = f"{base_name.split('+')[0]}+run{run_id}"
    metrics = {
        "candidate": candidate,
        "active_before": current,
        "finetune": {
            k: trained[k]
            for k in (
                "eval_loss_before",
                "eval_loss_after",
                "train_examples",
                "eval_examples",
                "seconds",
                "tokens_per_s",
            )
        },
        "quantize": quantized,
        "onnx": converted,
        "promoted": promote,
        "not_promoted_because": reasons,
    }
    with session_scope() as session:
        version = registry.register(
            session,
            name=name,
            backend="local",
            base=base_name,
            path=served,
            metrics=metrics,
            lineage={
                "base": base_name,
                "run": run_id,
                "dataset_sha256": info.sha256,
                "merged": config.output_dir,
                "quantization": "awq-w4a16" if quantized else None,
                "onnx": converted.get("path"),
            },
        )
        run = session.get(TrainingRun, run_id)
        assert run is not None
        run.model_version_id = version.id
        version_id = version.id

    progress.enter("deploy")
    if promote and settings.llm_backend == "openai":
        # Served by vLLM: a new server is started on these files (blue/green), checked, then switched to.
        progress.log(
            f"ready for a blue/green swap: start the idle vLLM slot on {served}, then "
            f"`shopdesk deploy --endpoint URL --model NAME --name {name}`; the active model is unchanged until then"
        )
    elif promote:
        with session_scope() as session:
            promoted = session.get(ModelVersion, version_id)
            assert promoted is not None
            registry.activate(session, promoted)
        progress.log(f"deployed {name}: every process answers with it from its next turn")
    else:
        progress.log("not promoted: " + "; ".join(reasons))
    return metrics
