"""Logged conversations to train on: real turns through the API, some sent, one edited by an agent."""

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
