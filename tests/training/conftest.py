"""Logged conversations to train on: real turns through the API, some sent, one edited by an agent; and held
replies agents edited or rejected, which give preference pairs."""

from __future__ import annotations

import pytest

from tests.helpers import ask, login, make_user, open_conversation

QUESTIONS = {
    "c1001": [
        "Where is my order A1023?",
        "我的订单A1024发货了吗？",
        "How long does a refund take?",
        "Can I return my keyboard?",
        "Is shipping free?",
    ],
    "c1002": ["Where is my order B4735?", "Where is order B4712?", "退款多久到账？", "Can I change my address?"],
    "c1003": ["Where is my order C2001?", "My phone is 13812345678, where is order C2001?", "Tell me a joke"],
}


@pytest.fixture
def logged_turns(client, demo_shop) -> dict:  # type: ignore[no-untyped-def]
    """Ten sent replies over three customers, and one held reply an agent edited."""
    replies = []
    for ref, questions in QUESTIONS.items():
        conversation = open_conversation(client, ref)
        for question in questions:
            replies.append(ask(client, conversation, question).json()["reply"])
    agent = login(client, make_user())
    [held] = client.get("/api/v1/reviews", headers=agent).json()["reviews"]
    client.post(
        f"/api/v1/reviews/{held['id']}",
        json={"action": "edit", "text": "Why did the parcel cross the road?"},
        headers=agent,
    )
    return {"replies": replies, "edited": held}


# Off-topic questions the demo shop holds for an agent (no fact answers them), asked in two conversations.
HELD_QUESTIONS = {
    "c1001": ["Tell me a joke", "Write me a poem about socks", "What is the meaning of life?", "Sing me a song"],
    "c1002": ["Tell me a riddle", "Who will win the football?", "What should I cook tonight?", "Any good films?"],
}


@pytest.fixture
def corrected_turns(client, logged_turns) -> list[dict]:  # type: ignore[no-untyped-def]
    """logged_turns, and eight held replies whose proposal agents replaced: four edits, four rejections with a
    reply of the agent's own. The proposals are written into the reviews as the model's candidates (the tests
    run without the LLM). Two conversations of four pairs each: whichever side of the split either falls on,
    at least four pairs are left to train on."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import Review

    agent = login(client, make_user("agent", "corrector@shop.test"))
    decided = []
    for ref, questions in HELD_QUESTIONS.items():
        conversation = open_conversation(client, ref)
        for i, question in enumerate(questions):
            reply = ask(client, conversation, question).json()["reply"]
            assert reply["status"] == "pending_review", reply
            proposal = f"I am a model and {question.lower()} is not something I can help with, sorry."
            with session_scope() as s:
                review = s.scalars(select(Review).where(Review.message_id == reply["id"])).one()
                review.candidate_text = proposal
                review_id = review.id
            action = "edit" if i % 2 == 0 else "reject"
            text = f"Happy to help with your orders! For '{question}' I'm afraid this shop has no answer."
            response = client.post(f"/api/v1/reviews/{review_id}", json={"action": action, "text": text}, headers=agent)
            assert response.status_code == 200, response.text
            decided.append({"question": question, "action": action, "chosen": text, "rejected": proposal})
    return decided
