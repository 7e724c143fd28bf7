"""Live events over SSE against a real server, and wake-ups across processes through Redis."""

from __future__ import annotations

import asyncio
import json
import queue
import threading

import httpx

from app.chat.events import EventBus
from tests.conftest import TEST_REDIS_URL
from tests.helpers import open_conversation


def _read_events(url: str, headers: dict, out: queue.Queue, stop: threading.Event) -> None:
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
            elif line == "" and "data" in event:
                out.put(("event", event))
                event = {}


def _collect(out: queue.Queue, n: int) -> list[dict]:
    events = []
    while len(events) < n:
        kind, value = out.get(timeout=30)
        if kind == "event":
            events.append(value)
    return events


def test_stream_delivers_each_message_once_and_resumes(live_server, demo_shop):
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
        live = _collect(out, 2)  # arrives without polling: the turn wakes the stream
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


def test_redis_carries_wake_ups_between_processes():
    async def scenario() -> bool:
        listener, publisher = EventBus(), EventBus()
        listener.configure(TEST_REDIS_URL)
        publisher.configure(TEST_REDIS_URL)
        task = asyncio.create_task(listener.listen_redis())
        try:
            await asyncio.sleep(0.5)  # let the subscription settle
            waiting = asyncio.create_task(listener.wait("conv-x", timeout=10))
            await asyncio.sleep(0.1)
            # The publisher has no local waiters: only Redis can wake the listener's stream.
            await asyncio.to_thread(publisher.publish, "conv-x")
            return await waiting
        finally:
            task.cancel()

    assert asyncio.run(scenario()) is True


def test_publish_survives_redis_being_unreachable():
    bus = EventBus()
    bus.configure("redis://127.0.0.1:1/0")  # nothing listens on port 1
    bus.publish("conv-y")  # logs and carries on: streams fall back to polling
