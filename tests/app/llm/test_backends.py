"""Both ChatModel backends on the real embedded model: in-process and over a real OpenAI-compatible server."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from app.llm.base import LLMUnavailable
from app.llm.local import LocalChatModel
from app.llm.openai import OpenAIChatModel

pytestmark = pytest.mark.slow

MESSAGES = [
    {"role": "system", "content": "You are a shop assistant. FACTS: order A1023 has shipped."},
    {"role": "user", "content": "Where is my order A1023?"},
]


def test_local_model_generates(local_model):
    [reply] = local_model.generate(MESSAGES, n=1, max_tokens=16)
    assert isinstance(reply, str) and len(reply.split()) >= 2
    # Greedy decoding is repeatable: the same prompt gives the same reply.
    assert local_model.generate(MESSAGES, n=1, max_tokens=16) == [reply]


def test_local_model_samples_several_candidates(local_model):
    replies = local_model.generate(MESSAGES, n=2, max_tokens=12, temperature=1.0)
    assert len(replies) == 2 and all(replies)


def test_local_model_reads_only_text_parts(local_model):
    multimodal = [
        MESSAGES[0],
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Where is my order A1023?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
    ]
    assert local_model.generate(multimodal, n=1, max_tokens=16) == local_model.generate(MESSAGES, n=1, max_tokens=16)


def test_openai_backend_against_a_real_server(openai_server, local_model):
    client = OpenAIChatModel(openai_server, str(local_model.path), timeout_s=120)
    try:
        assert client.health()
        [reply] = client.generate(MESSAGES, n=1, max_tokens=16)
        # The server runs the same fp32 weights greedily: it must say what the in-process transformers engine
        # says (the int4 engine's rounding may choose other words).
        fp32 = LocalChatModel(local_model.path, local_model.path.parent, engine="transformers")
        assert reply == fp32.generate(MESSAGES, n=1, max_tokens=16)[0]
        assert len(client.generate(MESSAGES, n=2, max_tokens=8, temperature=0.9)) == 2
    finally:
        client.close()


def test_openai_backend_reports_a_server_that_is_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens here
    client = OpenAIChatModel(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2, retries=1)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="unavailable"):
        client.generate(MESSAGES)
    assert not client.health()
    assert time.monotonic() - started < 30  # gives up instead of hanging


def test_openai_backend_reports_a_refused_request(openai_server):
    client = OpenAIChatModel(openai_server, "", timeout_s=30, retries=0)
    with pytest.raises(LLMUnavailable):
        client._complete({"model": "x", "messages": "not a list"})
    client.close()
    assert httpx.get(openai_server.removesuffix("/v1") + "/health").status_code == 200
