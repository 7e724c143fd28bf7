"""The review queue: held replies with their reasons; approve, edit, reject; the customer sees the result."""

from __future__ import annotations

import threading

from tests.helpers import ask, auth, login, make_user, open_conversation


def _held(client, text: str = "Tell me a joke about cats") -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, text).json()["reply"]
    assert reply["status"] == "pending_review"
    return conversation, reply


def test_held_reply_is_in_the_queue_with_its_reasons(client, demo_shop):
    conversation, reply = _held(client)
    queue = client.get("/api/v1/reviews?status=pending", headers=login(client, make_user())).json()["reviews"]
    [item] = queue
    assert item["message_id"] == reply["id"] and item["conversation_id"] == conversation["id"]
    assert item["customer_text"] == "Tell me a joke about cats"
    assert item["reasons"]


def test_edit_sends_the_agents_text_to_the_customer(client, demo_shop):
    conversation, _ = _held(client)
    headers = login(client, make_user())
    [item] = client.get("/api/v1/reviews", headers=headers).json()["reviews"]
    decided = client.post(
        f"/api/v1/reviews/{item['id']}",
        json={"action": "edit", "text": "Why did the cat..."},
        headers=headers,
    )
    assert decided.status_code == 200
    assert decided.json()["message"]["role"] == "agent"
    messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation)).json()[
        "messages"
    ]
    assert messages[-1]["text"] == "Why did the cat..." and messages[-1]["status"] == "sent"
    assert client.get("/api/v1/reviews", headers=headers).json()["reviews"] == []
    done = client.get("/api/v1/reviews?status=edited", headers=headers).json()["reviews"]
    assert done[0]["final_text"] == "Why did the cat..."


def test_approve_without_a_proposal_is_refused(client, demo_shop):
    _held(client, "I want to talk to a human")  # a hand-over: nothing proposed
    headers = login(client, make_user())
    [item] = client.get("/api/v1/reviews", headers=headers).json()["reviews"]
    response = client.post(f"/api/v1/reviews/{item['id']}", json={"action": "approve"}, headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "nothing_to_approve"
    rejected = client.post(
        f"/api/v1/reviews/{item['id']}", json={"action": "reject", "text": "Hi, Ann here."}, headers=headers
    )
    assert rejected.status_code == 200 and rejected.json()["review"]["status"] == "rejected"


def test_a_review_is_decided_once_even_by_two_agents_at_once(client, demo_shop):
    _held(client)
    first, second = (
        login(client, make_user("agent", "a@shop.test")),
        login(client, make_user("agent", "b@shop.test")),
    )
    [item] = client.get("/api/v1/reviews", headers=first).json()["reviews"]
    codes: list[int] = []

    def decide(headers: dict) -> None:
        codes.append(
            client.post(
                f"/api/v1/reviews/{item['id']}", json={"action": "edit", "text": "x"}, headers=headers
            ).status_code
        )

    threads = [threading.Thread(target=decide, args=(h,)) for h in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]


def test_bad_decisions_are_4xx(client, demo_shop):
    headers = login(client, make_user())
    assert client.post("/api/v1/reviews/999", json={"action": "approve"}, headers=headers).status_code == 404
    assert client.post("/api/v1/reviews/1", json={"action": "edit"}, headers=headers).status_code == 422
    assert client.post("/api/v1/reviews/1", json={"action": "shrug"}, headers=headers).status_code == 422
    assert client.get("/api/v1/reviews?status=bogus", headers=headers).status_code == 422


def _mark_proposal_ineligible(message_id: int, reason: str) -> None:
    """What the turn records when its proposal failed a check (an injection's answer, an unsupported claim)."""
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import ReplyCandidate

    with session_scope() as s:
        chosen = s.scalar(select(ReplyCandidate).where(ReplyCandidate.message_id == message_id, ReplyCandidate.chosen))
        chosen.scores = {**chosen.scores, "eligible": False, "reasons": [reason]}


def test_an_ineligible_proposal_cannot_be_approved_as_it_is(client, demo_shop, settings):
    settings.reply_threshold = 1.0  # every reply held, with the composer's as the proposal
    conversation, reply = _held(client, "Where is my order A1023?")
    _mark_proposal_ineligible(reply["id"], "llm reply states 'refunded', which no fact supports")
    headers = login(client, make_user())
    [item] = client.get("/api/v1/reviews", headers=headers).json()["reviews"]
    detail = client.get(f"/api/v1/reviews/{item['id']}", headers=headers).json()
    assert detail["proposal_refused"] == ["llm reply states 'refunded', which no fact supports"]
    refused = client.post(f"/api/v1/reviews/{item['id']}", json={"action": "approve"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_eligible"
    assert "refunded" in refused.json()["error"]["message"]
    edited = client.post(
        f"/api/v1/reviews/{item['id']}", json={"action": "edit", "text": "Order A1023 has shipped."}, headers=headers
    )
    assert edited.status_code == 200  # edited, it goes out as the agent's


def test_a_held_reply_carries_its_reviews_status_for_the_widget(client, demo_shop):
    conversation, reply = _held(client)
    listed = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation)).json()
    [held] = [m for m in listed["messages"] if m["id"] == reply["id"]]
    assert held["status"] == "pending_review" and held["review"] == "pending"
    headers = login(client, make_user())
    [item] = client.get("/api/v1/reviews", headers=headers).json()["reviews"]
    client.post(f"/api/v1/reviews/{item['id']}", json={"action": "reject"}, headers=headers)
    listed = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation)).json()
    [held] = [m for m in listed["messages"] if m["id"] == reply["id"]]
    assert held["review"] == "rejected"  # decided, even with nothing sent: nobody is checking it any more
    assert all(m["review"] is None for m in listed["messages"] if m["id"] != reply["id"])
