"""The guard-model backend (Qwen3Guard-Gen over the OpenAI-compatible API): its format, a real server, and
failing closed when the server is down, slow or answers something else."""

from __future__ import annotations

import pytest

from moderation.guard import UNAVAILABLE, GuardClient, GuardFormatError, parse, verdict_of
from tests.helpers import ask, open_conversation
from tests.instances import FaultProxy, free_port

# Answers in the format Qwen3Guard-Gen's model card documents (prompt and response moderation).
RECORDED = [
    ("Safety: Unsafe\nCategories: Violent", "block", ["threat"]),
    ("Safety: Unsafe\nCategories: Sexual Content or Sexual Acts", "block", ["sexual"]),
    ("Safety: Unsafe\nCategories: Non-violent Illegal Acts", "flag", ["fraud"]),
    ("Safety: Unsafe\nCategories: Jailbreak", "flag", ["social_engineering"]),
    ("Safety: Controversial\nCategories: Politically Sensitive Topics", "flag", ["sensitive"]),
    ("Safety: Controversial\nCategories: Violent", "flag", ["threat"]),  # controversial never blocks
    ("Safety: Safe\nCategories: None", "allow", []),
    ("Safety: Safe\nCategories: None\nRefusal: No", "allow", []),
    ("Safety: Unsafe\nCategories: PII, Violent\nRefusal: No", "block", ["pii", "threat"]),
]


@pytest.mark.parametrize(("output", "action", "categories"), RECORDED)
def test_the_guards_answers_become_verdicts(output, action, categories):
    verdict = verdict_of(parse(output), "some text")
    assert verdict.action == action and verdict.categories == categories
    assert verdict.masked_text == "some text"  # the guard judges the message; it masks nothing


def test_refusal_is_read_for_replies():
    assert parse("Safety: Safe\nCategories: None\nRefusal: Yes").refusal is True
    assert parse("Safety: Unsafe\nCategories: Violent").refusal is None


@pytest.mark.parametrize("output", ["", "I think this is fine.", "Safety: maybe\nCategories: None"])
def test_anything_else_is_not_a_verdict(output):
    with pytest.raises(GuardFormatError):
        parse(output)


def test_a_real_server_that_is_not_a_guard_holds(openai_server, local_model):
    """A real OpenAI-compatible server (transformers serve, SmolLM2): the request and its answer go through
    the real protocol, and an answer outside the guard's format fails closed."""
    guard = GuardClient(openai_server, str(local_model.path), timeout_s=120)
    verdict = guard.check_message("Where is my order A1023?")
    assert verdict.categories == [UNAVAILABLE] and verdict.action == "flag"
    assert "unreadable" in verdict.hits[0].term
    reply = guard.check_reply("Where is my order?", "It has shipped.")
    assert reply.categories == [UNAVAILABLE]


def test_a_guard_that_is_down_holds():
    verdict = GuardClient(f"http://127.0.0.1:{free_port()}/v1", "guard").check_message("hello")
    assert verdict.categories == [UNAVAILABLE] and "unreachable" in verdict.hits[0].term


def test_a_guard_slower_than_its_timeout_holds(openai_server, local_model):
    proxy = FaultProxy(int(openai_server.rsplit(":", 1)[1].split("/")[0]))
    try:
        proxy.delay_s = 3.0
        verdict = GuardClient(proxy.url, str(local_model.path), timeout_s=0.5).check_message("hello")
        assert verdict.categories == [UNAVAILABLE] and "timed out" in verdict.hits[0].term
    finally:
        proxy.close()


def test_a_turn_is_held_when_the_guard_is_down(client, demo_shop, settings):
    conversation = open_conversation(client, "c1001")
    answered = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert answered["status"] == "sent"  # without a guard this is answered on its own
    settings.guard_url = f"http://127.0.0.1:{free_port()}/v1"
    held = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert held["status"] == "pending_review"
    assert any("guard model was unavailable" in r for r in held["scores"]["reasons"]), held["scores"]["reasons"]
    assert UNAVAILABLE in held["scores"]["inbound"]["categories"]
