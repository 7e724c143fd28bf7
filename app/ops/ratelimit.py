"""Fixed-window rate limits in Redis (shared by every api process), in-process when there is no Redis.

A limit of 0 turns that limit off. When Redis is configured but down, requests are let through: a rate
limit must not take the service down with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from app.config import Settings
from app.db import get_redis
from app.errors import AppError

log = logging.getLogger(__name__)
WINDOW_S = 60

_lock = threading.Lock()
_local: dict[str, int] = defaultdict(int)


def _count(redis_url: str, key: str) -> int | None:
    """This window's count for the key after adding one; None when Redis can't be asked."""
    if not redis_url:
        window = key[key.rindex(":") :]
        with _lock:
            for stale in [k for k in _local if not k.endswith(window)]:
                del _local[stale]  # only the current window is kept
            _local[key] += 1
            return _local[key]
    try:
        pipe = get_redis(redis_url, timeout_s=0.5).pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_S * 2)
        return int(pipe.execute()[0])
    except Exception as exc:  # noqa: BLE001 - Redis down: let the request through
        log.warning("rate limit not checked (%s)", exc)
        return None


def check(settings: Settings, scope: str, who: str, limit: int) -> None:
    """Count one request of `who` in `scope`; 429 with Retry-After once the window's limit is passed."""
    if limit <= 0 or not who:
        return
    now = time.time()
    window = int(now // WINDOW_S)
    count = _count(settings.redis_url, f"shopdesk:rl:{scope}:{who}:{window}")
    if count is not None and count > limit:
        retry = str(int(WINDOW_S - now % WINDOW_S) + 1)
        raise AppError(
            429, "rate_limited", f"too many requests ({limit} a minute); try again in {retry} s", {"Retry-After": retry}
        )
