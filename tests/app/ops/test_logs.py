"""Structured logs: the request id is echoed, carried by the turn's log lines and stored with the turn."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from app.db import session_scope
from app.models import Message
from app.ops.logs import JsonFormatter, RequestIdFilter
from tests.helpers import auth, open_conversation


def test_request_id_through_the_turn(client, demo_shop):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        conversation = open_conversation(client, "c1001")
        response = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": "Tell me a joke about cats"},
            headers={**auth(conversation), "X-Request-ID": "req-123"},
        )
        logging.getLogger("test").warning("outside any request")
    finally:
        root.removeHandler(handler)
    assert response.headers["x-request-id"] == "req-123"
    with session_scope() as s:
        turn = s.scalar(select(Message.turn).where(Message.role == "assistant"))
    assert turn["request_id"] == "req-123"
    assert records[-1].request_id is None  # outside a request there is none
    record = logging.makeLogRecord({"msg": "hi", "request_id": "req-123", "levelname": "INFO", "levelno": 20})
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-123" and line["message"] == "hi" and line["level"] == "info"


def test_a_bad_or_missing_request_id_is_replaced(client):
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    bad = client.get("/healthz", headers={"X-Request-ID": "a b<script>"}).headers["x-request-id"]
    assert bad != "a b<script>" and len(bad) == 32


def test_a_token_in_a_url_never_reaches_the_log(settings, tmp_path):
    """The live stream takes ?access_token= (EventSource can't send headers); uvicorn's access log would
    write it down. A real `shopdesk serve`: its log file must not hold the token."""
    import httpx

    from tests.instances import ShopdeskProcess

    env = {"SHOPDESK_DATABASE_URL": settings.resolved_database_url, "SHOPDESK_REDIS_URL": ""}
    server = ShopdeskProcess.serve(env, tmp_path / "serve.log")
    server.start()
    try:
        conversation = httpx.post(f"{server.url}/api/v1/conversations", json={}, timeout=10).json()
        events = f"/api/v1/conversations/{conversation['id']}/events"
        url = f"{server.url}{events}?after=0&access_token={conversation['token']}"
        with httpx.stream("GET", url, timeout=10) as stream:
            assert stream.status_code == 200
            next(stream.iter_lines())
        httpx.get(f"{server.url}/healthz?token=not-a-real-one", timeout=10)
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    assert "/events?after=0&access_token=[redacted]" in log  # the request is logged, its token is not
    assert conversation["token"] not in log and "not-a-real-one" not in log
