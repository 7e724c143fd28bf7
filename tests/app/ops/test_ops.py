"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import pytest

from tests.helpers import ask, open_conversation


def test_ready_with_the_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "redis": "ok"}}


def test_redis_down_is_reported_but_still_ready(client, settings):
    settings.redis_url = "redis://127.0.0.1:1/0"  # nothing listens there
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and body["checks"]["redis"].startswith("degraded")


def _sample(body: str, name: str) -> float:
    """The value of one sample (`name` with its labels exactly as exposed), 0 when absent."""
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_turns_by_status_and_stage(client, demo_shop):
    before = client.get("/metrics").text
    conversation = open_conversation(client, "c1001")
    ask(client, conversation, "Where is my order A1023?")
    ask(client, conversation, "Tell me a joke about cats")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for status in ("sent", "pending_review"):
        name = f'shopdesk_turns_total{{status="{status}"}}'
        assert _sample(after, name) - _sample(before, name) == 1
    ground = 'shopdesk_turn_stage_seconds_count{stage="ground"}'
    assert _sample(after, ground) - _sample(before, ground) == 2
    assert 'shopdesk_job_queue_length{queue="training"}' in after  # read from Redis at scrape time
    assert _sample(after, "shopdesk_pending_reviews") == 1.0


def test_a_request_over_the_size_limit_is_refused_and_nothing_is_stored(settings, demo_shop):
    from fastapi.testclient import TestClient

    from app.main import create_app

    settings.max_files, settings.max_upload_bytes = 1, 1024  # the limit: 1 KiB of files + 1 MiB
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        conversation = open_conversation(client, "c1001")
        url = f"/api/v1/conversations/{conversation['id']}/messages"
        headers = {
            "Authorization": f"Bearer {conversation['token']}",
            "Content-Type": "multipart/form-data; boundary=b",
        }
        body = b"--b\r\nContent-Disposition: form-data; name=text\r\n\r\n" + b"x" * settings.max_request_bytes
        declared = client.post(url, content=body, headers=headers)
        assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

        def chunked():  # no Content-Length: counted as it arrives
            yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

        streamed = client.post(url, content=chunked(), headers=headers)
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        messages = client.get(url, headers={"Authorization": headers["Authorization"]}).json()["messages"]
        assert messages == []
        assert ask(client, conversation, "Where is my order A1023?").status_code == 201


def test_a_turn_reports_its_stages_in_server_timing(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    response = ask(client, conversation, "Where is my order A1023?", key="t-1")
    timing = dict(
        (part.split(";dur=")[0].strip(), float(part.split(";dur=")[1]))
        for part in response.headers["Server-Timing"].split(",")
    )
    assert {"media", "perceive", "ground", "generate", "decide", "model", "app", "total"} <= set(timing)
    assert timing["model"] + timing["media"] + timing["app"] == pytest.approx(timing["total"], abs=0.3)
    replay = ask(client, conversation, "Where is my order A1023?", key="t-1")
    assert replay.headers["Server-Timing"].startswith("total;dur=")  # no turn ran


@pytest.mark.slow
def test_metrics_add_up_every_api_process(demo_shop, settings, tmp_path):
    """`shopdesk serve --workers 2`: /metrics counts the turns whichever process answered them."""
    import httpx

    from tests.instances import ShopdeskProcess

    env = {"SHOPDESK_DATABASE_URL": settings.resolved_database_url, "SHOPDESK_DATA_DIR": str(settings.data_dir)}
    api = ShopdeskProcess.serve(env, tmp_path / "api.log")
    api.command += ["--workers", "2"]
    api.start()
    try:
        with httpx.Client(base_url=api.url, timeout=60) as http:
            for i in range(6):  # fresh connections: the kernel spreads them over both processes
                conversation = http.post("/api/v1/conversations", json={}).json()
                headers = {"Authorization": f"Bearer {conversation['token']}", "Connection": "close"}
                sent = http.post(
                    f"/api/v1/conversations/{conversation['id']}/messages", data={"text": f"hello {i}"}, headers=headers
                )
                assert sent.status_code == 201
            body = http.get("/metrics").text
        counted = sum(_sample(body, f'shopdesk_turns_total{{status="{s}"}}') for s in ("sent", "pending_review"))
        assert counted == 6
    finally:
        api.stop()
