"""Wake-ups for live conversation streams (SSE): in-process, and across processes through Redis.

The database stays the source of truth: a wake-up only tells a stream to look for new messages, and
streams also look on a timer, so a lost wake-up (Redis down) delays a message but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from typing import Any

from app.db import get_redis

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "shopdesk:conversation:"
# The agents' queue has a topic of its own beside the conversations' ids (uuid hex, never this word).
REVIEWS_TOPIC = "reviews"


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)
        self._redis_url = ""

    def configure(self, redis_url: str) -> None:
        self._redis_url = redis_url

    def publish(self, conversation_id: str) -> None:
        """Wake every stream of the conversation, here and (through Redis) in other processes."""
        self.notify_local(conversation_id)
        if not self._redis_url:
            return
        try:
            get_redis(self._redis_url).publish(CHANNEL_PREFIX + conversation_id, "1")
        except Exception as exc:  # noqa: BLE001 - Redis down must not fail the turn
            log.warning("could not publish to Redis (%s); streams will poll", exc)

    def notify_local(self, conversation_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(conversation_id, ()))
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, conversation_id: str, timeout: float) -> bool:
        """Wait for a wake-up of this conversation; False on timeout."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters[conversation_id].add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters[conversation_id].discard(entry)
                if not self._waiters[conversation_id]:
                    del self._waiters[conversation_id]

    async def listen_redis(self) -> None:
        """Forward Redis wake-ups to this process's streams; reconnects until cancelled."""
        if not self._redis_url:
            return
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(self._redis_url)
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                    async for item in pubsub.listen():
                        if item.get("type") == "pmessage":
                            channel = item["channel"].decode()
                            self.notify_local(channel.removeprefix(CHANNEL_PREFIX))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("Redis listener lost (%s); retrying in 2 s", exc)
                await asyncio.sleep(2)


bus = EventBus()

KEEP_ALIVE = ": keep-alive\n\n"


async def next_tick(request: Any, topic: str, timeout: float) -> str | None:
    """The tail of every SSE loop: wait for a wake-up of the topic, at most timeout seconds.

    None: the client has gone (end the stream); "": woken, look again; a keep-alive comment to send after a
    quiet timeout (it also keeps proxies from closing an idle stream).
    """
    if await request.is_disconnected():
        return None
    try:
        woken = await bus.wait(topic, timeout)
    except asyncio.CancelledError:
        return None
    return "" if woken else KEEP_ALIVE
