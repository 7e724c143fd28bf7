"""Prometheus metrics: turns, latency by stage, held replies, queue depth, the model version.

One process's registry; with several api processes (`shopdesk serve --workers N` sets it up itself)
PROMETHEUS_MULTIPROC_DIR points at a folder they share and /metrics aggregates them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

TURNS = Counter("shopdesk_turns_total", "Customer turns answered, by the reply's status", ["status"])
STAGE_SECONDS = Histogram(
    "shopdesk_turn_stage_seconds",
    "Time of each stage of a turn",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
# Read from the database at scrape time; with several processes the latest scrape's value is the one.
PENDING_REVIEWS = Gauge("shopdesk_pending_reviews", "Held replies waiting for an agent", multiprocess_mode="mostrecent")
QUEUED_RUNS = Gauge("shopdesk_training_runs_waiting", "Training runs queued or running", multiprocess_mode="mostrecent")
JOB_QUEUE = Gauge(
    "shopdesk_job_queue_length",
    "Celery messages waiting in Redis, by queue",
    ["queue"],
    multiprocess_mode="mostrecent",
)
MODEL_VERSION = Gauge(
    "shopdesk_model_version_info",
    "The active model version (value 1)",
    ["version", "backend"],
    multiprocess_mode="mostrecent",
)


# The request's turn timings, for its Server-Timing header (the middleware sets a dict; the turn fills it).
turn_timings: ContextVar[dict[str, float] | None] = ContextVar("turn_timings", default=None)


def record_turn(status: str, timings: dict[str, Any]) -> None:
    TURNS.labels(status).inc()
    current = turn_timings.get()
    if current is not None:
        current.update({k: v for k, v in timings.items() if isinstance(v, int | float)})
    for key, ms in timings.items():
        if key.endswith("_ms") and isinstance(ms, int | float):
            STAGE_SECONDS.labels(key.removesuffix("_ms")).observe(ms / 1000)


def server_timing(timings: dict[str, float], total_ms: float) -> str:
    """A Server-Timing header: each stage of the turn and the request's whole time on the server, in ms.

    "model" is perception plus generation (OCR, ASR, the LLM, and waiting for them); "media" is checking and
    decoding the uploads; "app" is the rest: the API layer's own cost.
    """
    parts = [f"{key.removesuffix('_ms')};dur={ms:.1f}" for key, ms in timings.items() if key != "total_ms"]
    if timings:
        model = timings.get("perceive_ms", 0.0) + timings.get("generate_ms", 0.0)
        app = total_ms - model - timings.get("media_ms", 0.0)
        parts += [f"model;dur={model:.1f}", f"app;dur={max(0.0, app):.1f}"]
    return ", ".join([*parts, f"total;dur={total_ms:.1f}"])
