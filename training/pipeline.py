"""The work of one retraining run: dataset → fine-tune (+ merge) → DPO (+ merge) → quantize (AWQ) → evaluate →
register → deploy.

DPO runs where it is on and the agents' edits and rejections gave enough preference pairs; then both
candidates, SFT alone and SFT+DPO, are quantized as they would be served and judged against the active model,
and the gate keeps SFT+DPO only where it beats SFT alone (training/evaluate.py prefer); the one kept is promoted
by the same rule against the active model: not worse on any measure, better on one (evaluate.gate).

Progress (stage, step, loss, a heartbeat) is stored as it goes. The run's status, its lock and its
recovery belong to training/runs.py, which calls stages() for a claimed run. The active model changes
only in the last stage, so a run that fails or is killed leaves it answering.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.admin import runtime
from app.config import Settings
from app.db import session_scope, utcnow
from app.models import ModelVersion, TrainingRun
from training import dataset, evaluate, registry
from training.dpo import DpoConfig
from training.dpo import main as train_dpo
from training.finetune import Cancelled, FinetuneConfig, read_jsonl
from training.finetune import main as finetune
from training.quantize import QuantizeConfig, onnx_int4
from training.quantize import main as quantize

log = logging.getLogger(__name__)

STAGES = ("dataset", "finetune", "dpo", "quantize", "evaluate", "register", "deploy")
CONFIG = Path(__file__).resolve().parent / "configs" / "smollm2-cpu.yaml"
DPO_CONFIG = Path(__file__).resolve().parent / "configs" / "smollm2-cpu-dpo.yaml"
SFT, SFT_DPO = "sft", "sft+dpo"  # the candidates' names in the gate's table


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
        self.dpo: dict[str, list[float]] = {"dpo_losses": [], "dpo_margins": [], "dpo_accuracies": []}

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

    def preference_step(self, info: dict[str, Any]) -> None:
        """A DPO step: its loss, reward margin and accuracy, each a curve of its own beside the fine-tune's."""
        for key, series in (("loss", "dpo_losses"), ("margin", "dpo_margins"), ("accuracy", "dpo_accuracies")):
            self.dpo[series].append(info[key])
        self._update(progress={**self._progress(), **info})

    def _progress(self) -> dict[str, Any]:
        began = self._stage_began
        times = {"stage": self.stage, "stage_started_at": began, "timings": self.timings}
        return {**times, "losses": self.losses, **self.dpo}

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
    if work.exists():
        # A run's stages execute once (runs.claim), so these files are another database's run with this id
        # (the database was reset, or another one shares the models folder). Never reuse them: a conversion
        # found there would be taken for this run's. Not deleted either: something may still serve them.
        aside = work.with_name(f"{work.name}.orphaned-{utcnow():%Y%m%dT%H%M%S}")
        work.rename(aside)
        progress.log(f"{work} held files of another database's run {run_id}: moved to {aside.name}")
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

    progress.enter("dpo")
    preferred = preference_stage(settings, info, config.output_dir, work / "dpo", progress)
    merged = {SFT: config.output_dir}
    if "skipped" not in preferred:
        merged[SFT_DPO] = str(work / "dpo")

    # The local backend's int4 engine serves served/onnx-int4, made from the merged weights (its builder
    # reads compressed-tensors checkpoints for CUDA only); vLLM (openai backend) serves the AWQ folder.
    engine = settings.llm_local_engine if settings.llm_backend == "local" else "transformers"
    if settings.training_quantize or engine != "transformers":
        progress.enter("quantize")
    # Every candidate as it would be served, since that is what the gate judges (four-bit weights take back
    # part of what training gained, and not the same part of every candidate).
    awq_dirs = {SFT: work / "awq", SFT_DPO: work / "dpo-awq"}
    served = {
        name: serving_form(settings, engine, folder, awq_dirs[name], info.train_path, progress, name)
        for name, folder in merged.items()
    }

    progress.enter("evaluate")
    cases = evaluate.held_out(read_jsonl(info.eval_path)) + evaluate.fixed_suite()[: settings.training_eval_suite]
    # Judged as they will be served: through the engine the local backend will load them with, and by the
    # decision stage as turns run it now (the admin's reply threshold and moderation thresholds included).
    with session_scope() as session:
        deciding = runtime.effective(session, settings)
    tokens = settings.training_eval_tokens
    judged = {name: evaluate.run(s.path, cases, tokens, engine=engine, settings=deciding) for name, s in served.items()}
    current = evaluate.run(base_path, cases, tokens, engine=engine, settings=deciding)
    chosen, why = SFT, [f"DPO did not run: {preferred.get('skipped')}"]
    if SFT_DPO in judged:
        keep, why = evaluate.prefer(judged[SFT_DPO], judged[SFT])
        chosen = SFT_DPO if keep else SFT
        progress.log(f"gate: {'SFT+DPO' if keep else 'SFT alone'} kept ({'; '.join(why)})")
    for name, dropped in served.items():
        if name != chosen and dropped.path != str(merged[name]):
            shutil.rmtree(dropped.path, ignore_errors=True)  # its quantized copy; its merged weights stay
    candidate = judged[chosen]
    promote, reasons = evaluate.gate(candidate, current)
    shown, active = json.dumps(evaluate.summary(candidate)), json.dumps(evaluate.summary(current))
    progress.log(f"eval: candidate ({chosen}) {shown}, active {active}")

    progress.enter("register")
    name = f"{base_name.split('+')[0]}+run{run_id}"
    metrics = {
        "candidate": candidate,
        "active_before": current,
        # The gate's table: the active model, SFT alone and SFT+DPO (None where DPO did not run).
        "compared": {"active": current, SFT: judged[SFT], SFT_DPO: judged.get(SFT_DPO)},
        "chosen": chosen,
        "chosen_because": why,
        "finetune": {
            k: trained[k]
            for k in (
                "eval_loss_before",
                "eval_loss_after",
                "train_examples",
                "eval_examples",
                "seconds",
                "train_seconds",
                "tokens_per_s",
                "precision",
            )
        },
        "dpo": preferred,
        "quantize": served[chosen].quantized,
        "onnx": served[chosen].converted,
        "promoted": promote,
        "not_promoted_because": reasons,
    }
    with session_scope() as session:
        version = registry.register(
            session,
            name=name,
            backend="local",
            base=base_name,
            path=served[chosen].path,
            metrics=metrics,
            lineage={
                "base": base_name,
                "run": run_id,
                "dataset_sha256": info.sha256,
                "merged": merged[chosen],
                "sft_merged": config.output_dir,
                "dpo": chosen == SFT_DPO,
                "quantization": "awq-w4a16" if served[chosen].quantized else None,
                "onnx": served[chosen].converted.get("path"),
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
            f"ready for a blue/green swap: start the idle vLLM slot on {served[chosen].path}, then "
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


def preference_stage(
    settings: Settings, info: dataset.DatasetInfo, sft_dir: str, out_dir: Path, progress: Progress
) -> dict[str, Any]:
    """DPO on the merged SFT model with the run's preference pairs, merged into out_dir; its metrics, or
    {"skipped": why} where it is off or there are too few pairs."""
    needed = settings.training_dpo_min_pairs
    skipped = ""
    if not settings.training_dpo:
        skipped = "it is off (SHOPDESK_TRAINING_DPO=false)"
    elif info.preferences < needed:
        skipped = f"{info.preferences} preference pairs (agents' edits and rejections); {needed} are needed"
    if skipped:
        progress.log(f"DPO skipped: {skipped}")
        return {"skipped": skipped, "pairs": info.preferences}
    config = DpoConfig.from_yaml(
        DPO_CONFIG,
        model_dir=sft_dir,
        preferences_file=str(info.preferences_path),
        output_dir=str(out_dir),
        max_steps=settings.training_dpo_steps,
        beta=settings.training_dpo_beta,
    )
    result = train_dpo(config, progress.preference_step)
    losses, margins, accuracies = result["losses"], result["margins"], result["accuracies"]
    progress.log(
        f"DPO on {result['pairs']} pairs, {len(losses)} steps (beta {config.beta}): loss {losses[0]} → "
        f"{losses[-1]}, reward margin {margins[0]} → {margins[-1]}, accuracy {accuracies[0]} → {accuracies[-1]}"
    )
    keys = ("pairs", "losses", "margins", "accuracies", "seconds")
    return {**{k: result[k] for k in keys}, "steps": config.max_steps, "beta": config.beta}


@dataclass
class Served:
    """A candidate as it would be served: its folder, and what quantizing and converting it made."""

    path: str
    quantized: dict[str, Any] = field(default_factory=dict)
    converted: dict[str, Any] = field(default_factory=dict)


def serving_form(
    settings: Settings, engine: str, merged: str, awq_dir: Path, calibration: Path, progress: Progress, label: str
) -> Served:
    """The merged model quantized (AWQ, where on) into awq_dir and converted for the local int4 engine."""
    served = Served(merged)
    if settings.training_quantize:
        qconfig = QuantizeConfig(
            model_dir=merged,
            output_dir=str(awq_dir),
            calibration_file=str(calibration),
            num_samples=settings.training_awq_samples,
            n_grid=settings.training_awq_grid,
        )
        served = Served(qconfig.output_dir, quantize(qconfig, progress.log))
        progress.log(
            f"{label}: AWQ W4A16 (group {served.quantized['group_size']}, "
            f"{served.quantized['calibration_samples']} calibration conversations, grid of "
            f"{served.quantized['grid']}): "
            f"{served.quantized['bytes'] / 1e6:.0f} MB in {served.quantized['seconds']} s"
        )
    if engine != "transformers":
        try:
            served.converted = onnx_int4(served.path, merged)
            progress.log(
                f"{label}: int4 ONNX: {served.converted['bytes'] / 1e6:.0f} MB in {served.converted['seconds']} s"
            )
        except Exception as exc:  # noqa: BLE001 - auto: transformers serves it (and is what the gate judges)
            if engine == "onnx":
                raise
            progress.log(f"{label}: no int4 ONNX model ({exc}); transformers will serve this version")
    return served
