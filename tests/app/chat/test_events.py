"""Live events over SSE against a real server, and wake-ups across processes through Redis."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
import uuid

import httpx

from app.chat.events import EventBus
from tests.conftest import TEST_REDIS_URL
from tests.helpers import open_conversation

# Well inside the poll interval the live test sets (LONG_POLL_S): what arrives within it was woken, not polled.
WOKEN_WITHIN_S = 30.0
LONG_POLL_S = 600.0


def _read_events(url: str, headers: dict, out: queue.Queue, stop: threading.Event) -> None:
    try:
        with httpx.Client(timeout=30) as http, http.stream("GET", url, headers=headers) as response:
            out.put(("status", response.status_code))
            event: dict = {}
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("id: "):
                    event["id"] = int(line[4:])
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line.startswith(":"):
                    out.put(("comment", line))  # the keep-alive a quiet tick sends
                elif line == "" and "data" in event:
                    out.put(("event", event))
                    event = {}
    except httpx.HTTPError as exc:
        # The server closing an open stream (its shutdown after the test) ends the reader, not the run; a
        # stream cut short before the test is done shows as events missing in _collect.
        out.put(("closed", repr(exc)))


def _collect(out: queue.Queue, n: int, within: float = 30) -> list[dict]:
    """The next n events, all of them within `within` seconds; fails naming what did arrive."""
    events: list[dict] = []
    deadline = time.monotonic() + within
    while len(events) < n:
        try:
            kind, value = out.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise AssertionError(f"{len(events)} of {n} events within {within:g} s: {events}") from None
        if kind == "event":
            events.append(value)
    return events


def test_stream_delivers_each_message_once_and_resumes(live_server, demo_shop, monkeypatch):
    # Streams also look for messages on a timer: set it far beyond the wait below, so that only a wake-up
    # can deliver the live messages in time (with wake-ups broken they would come 10 minutes late).
    monkeypatch.setattr("app.chat.router.SSE_POLL_S", LONG_POLL_S)
    with httpx.Client(base_url=live_server, timeout=60) as http:
        conversation = open_conversation(http, "c1001")
        headers = {"Authorization": f"Bearer {conversation['token']}"}
        url = f"{live_server}/api/v1/conversations/{conversation['id']}/events"
        http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": "Where is A1023?"},
            headers=headers,
        )

        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=_read_events, args=(url, headers, out, stop), daemon=True)
        reader.start()
        assert out.get(timeout=30) == ("status", 200)
        replayed = _collect(out, 2)  # what was there before connecting
        assert [e["data"]["role"] for e in replayed] == ["customer", "assistant"]

        http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": "And A1024?"},
            headers=headers,
        )
        live = _collect(out, 2, within=WOKEN_WITHIN_S)  # the turn wakes the stream
        assert [e["data"]["role"] for e in live] == ["customer", "assistant"]
        assert "A1024" in live[1]["data"]["text"]
        ids = [e["id"] for e in replayed + live]
        assert ids == sorted(set(ids))
        stop.set()

        # Reconnecting with Last-Event-ID gets only what came after it.
        out2: queue.Queue = queue.Queue()
        resume = {**headers, "Last-Event-ID": str(replayed[-1]["id"])}
        threading.Thread(target=_read_events, args=(url, resume, out2, threading.Event()), daemon=True).start()
        assert out2.get(timeout=30) == ("status", 200)
        assert [e["id"] for e in _collect(out2, 2)] == [e["id"] for e in live]


def test_stream_accepts_the_token_as_a_query_parameter(live_server, demo_shop):
    with httpx.Client(base_url=live_server, timeout=30) as http:
        conversation = open_conversation(http, "c1001")
        url = f"/api/v1/conversations/{conversation['id']}/events"
        assert http.get(url).status_code == 401
        with http.stream("GET", f"{url}?access_token={conversation['token']}") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")


async def _woken(listener: EventBus, publisher: EventBus, topic: str, timeout: float) -> bool:
    """Publish the topic once from `publisher`; whether the listener's waiter on it was woken in time."""
    # Registered before the publish: the task's first step (which registers) runs before anything the
    # listener reads from Redis, since that needs this coroutine to yield first.
    waiting = asyncio.create_task(listener.wait(topic, timeout=timeout))
    await asyncio.to_thread(publisher.publish, topic)
    return await waiting


def test_redis_carries_wake_ups_between_processes():
    async def scenario() -> bool:
        listener, publisher = EventBus(), EventBus()
        listener.configure(TEST_REDIS_URL)
        publisher.configure(TEST_REDIS_URL)
        task = asyncio.create_task(listener.listen_redis())
        try:
            # The subscription has settled once a probe of its own gets through (Redis drops what is
            # published before it): probe until one does.
            probe, deadline = f"probe-{uuid.uuid4().hex}", time.monotonic() + 20
            while not await _woken(listener, publisher, probe, timeout=0.2):
                assert time.monotonic() < deadline, "no probe got through Redis to the listener within 20 s"
            # The publisher has no local waiters: only Redis can wake the listener's stream.
            return await _woken(listener, publisher, uuid.uuid4().hex, timeout=10)
        finally:
            task.cancel()

    assert asyncio.run(scenario()) is True


def test_publish_survives_redis_being_unreachable():
    bus = EventBus()
    bus.configure("redis://127.0.0.1:1/0")  # nothing listens on port 1
    bus.publish("conv-y")  # logs and carries on: streams fall back to polling
