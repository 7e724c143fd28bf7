"""Where OCR and ASR run: a bounded number at once, in worker processes of their own at a lower CPU
priority than the api, or in the api's threads.

Each engine already uses every core; dozens of turns running them at once only thrash the CPU and starve
the rest of the api, so at most `SHOPDESK_PERCEPTION_CONCURRENCY` (default: the cores) run at once per api
process, and waiting for a slot is counted as model time.

In the api process they hold the GIL for their Python parts and compete with request handling for the
cores: under a burst of screenshots a text turn's 25 ms became 200. In processes niced below the api the
kernel runs request handling first and perception on what is left; results come back by pickling (a few
KB of fields or a transcript). Off by default (`SHOPDESK_PERCEPTION_PROCESSES=0`: in the api's threads),
as `make run` and the tests use it; the deployment turns it on.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from app.config import Settings

log = logging.getLogger(__name__)

NICENESS = 10  # below the api: request handling preempts perception
T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_slots: threading.BoundedSemaphore | None = None
_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(OSError):  # a platform without nice: run at the api's priority
        os.nice(NICENESS)


def _executor(processes: int) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: the api process has threads (and maybe torch) that a fork would copy mid-state.
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_lower_priority)
        return _pool


def _slots_of(settings: Settings) -> threading.BoundedSemaphore:
    global _slots
    with _lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.perception_concurrency or os.cpu_count() or 1)
        return _slots


def run(settings: Settings, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) once a slot is free: in a perception process when they are configured, else here."""
    with _slots_of(settings):
        if settings.perception_processes <= 0:
            return fn(*args)
        return _in_process(settings.perception_processes, fn, *args)


def _in_process(processes: int, fn: Callable[..., T], *args: Any) -> T:
    try:
        return _executor(processes).submit(fn, *args).result()
    except BrokenProcessPool:
        # A perception process died (out of memory, killed): start a new pool for the next turns.
        log.exception("a perception process died; restarting the pool")
        shutdown()
        raise


def shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
