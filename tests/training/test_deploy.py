"""Blue/green for the openai backend: a new server is checked, then traffic moves; a bad one changes nothing.

The new server here is a real OpenAI-compatible server (`transformers serve` of the embedded model), the
same protocol vLLM speaks.
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.llm import registry as llm_registry
from app.llm.openai import OpenAIChatModel
from app.models import ModelVersion
from tests.helpers import login, make_user
from training.deploy import DeployError, check_endpoint, deploy

pytestmark = pytest.mark.slow


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def _active() -> str | None:
    with session_scope() as s:
        return s.scalar(select(ModelVersion.name).where(ModelVersion.status == "active"))


def test_traffic_moves_to_a_checked_server(openai_server, local_model, monkeypatch):
    served = str(local_model.path)
    assert check_endpoint(openai_server, served)["reply"]
    blue = OpenAIChatModel(_dead_url(), "old-model", timeout_s=5, retries=0)  # the slot being replaced
    with session_scope() as s:
        version = deploy(s, endpoint=openai_server, model=served, name="qwen3-omni+run7")
        assert version.status == "active" and version.lineage["endpoint"] == openai_server
    monkeypatch.setattr(llm_registry, "_SYNC_EVERY_S", 0.0)
    with session_scope() as s:
        llm_registry.sync_active(s, blue)  # what every api process does before a turn
    assert blue.base_url == openai_server and blue.model == served
    [answer] = blue.generate([{"role": "user", "content": "Say hello."}], max_tokens=8)
    assert answer


def test_a_server_that_is_down_is_refused_and_nothing_changes(client, demo_shop, openai_server, local_model):
    with session_scope() as s:
        deploy(s, endpoint=openai_server, model=str(local_model.path), name="blue")
    with pytest.raises(DeployError, match="can't be reached"), session_scope() as s:
        deploy(s, endpoint=_dead_url(), model="qwen3-omni", name="green")
    assert _active() == "blue"
    with pytest.raises(DeployError, match="refused a chat completion"):
        check_endpoint(openai_server, "no-such-model-here")

    # Rolling back in the console to a served version whose server is gone is refused the same way.
    with session_scope() as s:
        gone = ModelVersion(name="old", backend="openai", base="x", path="m", lineage={"endpoint": _dead_url()})
        s.add(gone)
        s.flush()
        gone_id = gone.id
    response = client.post(f"/api/v1/models/{gone_id}/activate", headers=login(client, make_user("admin")))
    assert response.status_code == 409 and response.json()["error"]["code"] == "server_not_ready"
    assert _active() == "blue"
