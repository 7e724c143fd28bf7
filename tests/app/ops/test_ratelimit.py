"""Rate limits per conversation and per client address, counted in Redis; 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.helpers import ask, open_conversation

# Each test counts in a window of its own, the limiter's clock stopped one second into it.
pytestmark = pytest.mark.usefixtures("rate_limit_window")


def test_messages_per_conversation_are_limited(client, demo_shop, settings):
    settings.rate_limit_conversation = 2
    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "Where is my order A1023?").status_code == 201
    assert ask(client, conversation, "Where is my order A1024?").status_code == 201
    refused = ask(client, conversation, "Is shipping free?")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "60"  # the 59 s left in the window, and one more
    # Another conversation has its own allowance.
    assert ask(client, open_conversation(client, "c1002"), "Where is my order B4735?").status_code == 201


def test_requests_per_address_are_limited(client, demo_shop, settings):
    settings.rate_limit_ip = 2
    open_conversation(client, "c1001")
    open_conversation(client, "c1002")
    response = client.post("/api/v1/conversations", json={})
    assert response.status_code == 429 and "a minute" in response.json()["error"]["message"]


def test_redis_down_lets_requests_through(client, demo_shop, settings):
    settings.rate_limit_conversation = 1
    settings.redis_url = "redis://127.0.0.1:1/0"  # nothing listens there
    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "Where is my order A1023?").status_code == 201
    assert ask(client, conversation, "Where is my order A1024?").status_code == 201


def test_without_redis_the_limit_is_kept_in_the_process(client, demo_shop, settings):
    settings.rate_limit_conversation = 1
    settings.redis_url = ""  # the embedded default
    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "Where is my order A1023?").status_code == 201
    assert ask(client, conversation, "Where is my order A1024?").status_code == 429
