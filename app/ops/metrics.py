"""Prometheus metrics: turns, latency by stage, held replies, queue depth, the model version.

One process's registry; with several worker processes (gunicorn), point PROMETHEUS_MULTIPROC_DIR at a
shared folder and prometheus_client aggregates them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

TURNS = Counter("shopdesk_turns_total", "Customer turns answered, by the reply's status", ["status"])
STAGE_SECONDS = Histogram(
    "shopdesk_turn_stage_seconds",
    "Time of each stage of a turn",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PENDING_REVIEWS = Gauge("shopdesk_pending_reviews", "Held replies waiting for an agent")
QUEUED_RUNS = Gauge("shopdesk_training_runs_waiting", "Training runs queued or running")
MODEL_VERSION = Gauge("shopdesk_model_version_info", "The active model version (value 1)", ["version", "backend"])


def record_turn(status: str, timings: dict[str, Any]) -> None:
    TURNS.labels(status).inc()
    for key, ms in timings.items():
        if key.endswith("_ms") and isinstance(ms, int | float):
            STAGE_SECONDS.labels(key.removesuffix("_ms")).observe(ms / 1000)
