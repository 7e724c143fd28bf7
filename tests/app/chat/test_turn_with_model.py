"""Whole turns with the language model in the loop: local, over a real server, and with the server down."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import ReplyCandidate
from tests.helpers import ask, open_conversation

pytestmark = pytest.mark.slow


def _candidates(reply_id: int) -> list[ReplyCandidate]:
    with session_scope() as s:
        return list(
            s.scalars(select(ReplyCandidate).where(ReplyCandidate.message_id == reply_id).order_by(ReplyCandidate.rank))
        )


def test_local_model_candidate_is_generated_and_logged(client, demo_shop, settings, local_model):
    settings.llm_samples = 1
    settings.llm_skip = "settled"  # wait for the model unless no answer of its could outrank the composer's
    conversation = open_conversation(client, "c1001")
    body = ask(client, conversation, "Where is my order A1023?").json()
    candidates = _candidates(body["reply"]["id"])
    assert [c.source for c in candidates] == ["composer", "llm"]
    assert candidates[1].text and {"verifier", "relevance", "eligible"} <= set(candidates[1].scores)
    # The composer's grounded answer is what goes out while the model is this weak.
    assert body["reply"]["status"] == "sent" and "SF1234567890" in body["reply"]["text"]
    assert body["reply"]["scores"]["candidates"][1]["source"] == "llm"


def test_an_eligible_composer_reply_goes_out_without_waiting_for_the_model(client, demo_shop, settings, local_model):
    from app.models import Message

    settings.llm_samples = 1  # SHOPDESK_LLM_SKIP=eligible, the default
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    [candidate] = _candidates(reply["id"])
    # Outrankable by a model answer (it scores under 0.94), but it goes out on its own: no need to wait.
    assert candidate.source == "composer" and candidate.scores["score"] <= 0.94 and reply["status"] == "sent"
    with session_scope() as s:
        assert s.get(Message, reply["id"]).turn["llm_skipped"] is True


def test_a_composer_reply_no_model_answer_can_outrank_goes_out_without_the_model(
    client, demo_shop, settings, local_model
):
    from app.models import Message

    settings.llm_samples = 1
    settings.llm_skip = "settled"
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "我的订单A1024发货了吗？").json()["reply"]
    [candidate] = _candidates(reply["id"])
    # Eligible, over the threshold and scoring above the best an llm candidate can score: no need to wait.
    assert candidate.source == "composer" and candidate.scores["score"] > 0.94 and reply["status"] == "sent"
    with session_scope() as s:
        assert s.get(Message, reply["id"]).turn["llm_skipped"] is True


def test_small_talk_goes_to_the_model(client, demo_shop, settings, local_model):
    settings.llm_samples = 1
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Hello! Who are you?").json()["reply"]
    [candidate] = _candidates(reply["id"])
    assert candidate.source == "llm" and candidate.text
    # Whether this weak model's answer goes out is its scores' business (tested below on answers of our
    # making); either way the reply is the candidate itself or a holding reply with its reasons.
    if reply["status"] == "sent":
        assert reply["text"] == candidate.text
    else:
        assert reply["status"] == "pending_review" and reply["scores"]["reasons"]


class SaysThis:
    """A chat model that answers whatever it is asked with one text of the test's making."""

    name, multimodal, breaker = "says-this", False, None

    def __init__(self, text: str) -> None:
        self.text = text

    def generate(self, messages, *, n=1, max_tokens=128, temperature=0.7):  # type: ignore[no-untyped-def]
        return [self.text] * n

    def load(self) -> None:
        return None

    def follow(self, version) -> None:  # type: ignore[no-untyped-def]
        return None


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        ("Hello! I'm the shop's assistant. How can I help you today?", "sent", None),
        ("Stop asking, you idiot.", "pending_review", None),
        ("Hello! We will give you a coupon as compensation.", "pending_review", "promise"),
    ],
)
def test_the_models_answer_to_small_talk_is_sent_or_held_by_what_it_says(
    client, demo_shop, settings, answer, status, reason
):
    from app.deps import get_model

    settings.llm_samples = 1
    client.app.dependency_overrides[get_model] = lambda: SaysThis(answer)
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Hello! Who are you?").json()["reply"]
    assert [c.source for c in _candidates(reply["id"])] == ["llm"]
    assert reply["status"] == status, json.dumps(reply["scores"])
    if status == "sent":
        assert reply["text"] == answer
    else:
        assert reply["text"] != answer and reply["scores"]["reasons"]
        assert reason is None or any(reason in r for r in reply["scores"]["reasons"])


def test_openai_backend_in_the_pipeline(client, demo_shop, settings, openai_server, local_model):
    settings.llm_backend, settings.llm_base_url, settings.llm_model = (
        "openai",
        openai_server,
        str(local_model.path),
    )
    settings.llm_samples, settings.llm_skip = 1, "settled"  # the model answers beside the composer
    conversation = open_conversation(client, "c1002")
    body = ask(client, conversation, "Where is my order B4735?").json()
    assert body["reply"]["status"] == "sent" and "794612345678" in body["reply"]["text"]
    assert [c.source for c in _candidates(body["reply"]["id"])] == ["composer", "llm"]


def test_model_server_down_still_answers_from_facts_and_holds_the_rest(client, demo_shop, settings):
    settings.llm_backend, settings.llm_base_url, settings.llm_model = "openai", "http://127.0.0.1:9/v1", "m"
    settings.llm_samples, settings.llm_retries, settings.llm_timeout_s = 1, 0, 2
    conversation = open_conversation(client, "c1001")
    grounded = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert grounded["status"] == "sent" and "SF1234567890" in grounded["text"]
    held = ask(client, conversation, "Tell me a joke").json()["reply"]
    assert held["status"] == "pending_review"
    assert any("model was unavailable" in r for r in held["scores"]["reasons"])
