"""Text turns through the API: grounded replies, isolation, idempotency and bad requests."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.db import session_scope
from app.models import Message, ReplyCandidate, Review
from tests.helpers import ask, auth, open_conversation


def test_order_status_reply_carries_the_real_status_and_tracking(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    response = ask(client, conversation, "Where is my order A1023?")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reply"]["status"] == "sent"
    assert "SF1234567890" in body["reply"]["text"] and "shipped" in body["reply"]["text"]
    assert body["message"]["text"] == "Where is my order A1023?"
    assert body["perception"] == {"transcripts": [], "invoices": []}
    assert body["reply"]["scores"]["grounded"] == 1.0


def test_order_status_in_chinese(client, demo_shop):
    conversation = open_conversation(client, "c1001", locale="zh")
    body = ask(client, conversation, "我的订单 A1023 到哪了？").json()
    assert body["reply"]["status"] == "sent"
    assert "已发货" in body["reply"]["text"] and "SF1234567890" in body["reply"]["text"]


def test_other_customers_order_reveals_nothing(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    body = ask(client, conversation, "Where is order B4712? What is its tracking number and total?").json()
    reply = body["reply"]["text"]
    assert "couldn't find that order" in reply
    for secret in ("B4712", "1Z999AA10123456784", "UPS", "186.29", "delivered", "Emma"):
        assert secret not in reply


def test_anonymous_conversation_sees_no_orders(client, demo_shop):
    conversation = open_conversation(client)
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]["text"]
    assert "SF1234567890" not in reply and "shipped" not in reply
    assert "isn't linked to a customer account" in reply


def test_policy_question_quotes_the_policy(client, demo_shop):
    conversation = open_conversation(client, "c1002")
    reply = ask(client, conversation, "How long does a refund take?").json()["reply"]
    assert reply["status"] == "sent"
    assert "5 to 10 business days" in reply["text"]


def test_asking_for_a_human_holds_the_reply_for_review(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "I want to talk to a human please").json()["reply"]
    assert reply["status"] == "pending_review"
    with session_scope() as s:
        review = s.scalar(select(Review).where(Review.message_id == reply["id"]))
        assert review is not None and review.status == "pending"
        assert "human" in review.reasons[0]


def test_turn_is_logged_with_facts_and_candidates(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    with session_scope() as s:
        message = s.get(Message, reply["id"])
        assert message.turn["facts"][0]["source"] == "orders:A1023"
        assert set(message.turn["timings"]) >= {"ground_ms", "generate_ms", "decide_ms"}
        candidates = s.scalars(select(ReplyCandidate).where(ReplyCandidate.message_id == reply["id"])).all()
        assert [c.source for c in candidates if c.chosen] == ["composer"]


def test_idempotent_retry_returns_the_same_reply_and_stores_nothing_twice(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    first = ask(client, conversation, "Where is my order A1023?", key="k-1")
    again = ask(client, conversation, "Where is my order A1023?", key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json()
    with session_scope() as s:
        count = s.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conversation["id"]))
    assert count == 2  # one customer message, one reply


def test_concurrent_retries_run_the_turn_once(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    results: list[dict] = []

    def send() -> None:
        results.append(ask(client, conversation, "Where is my order A1024?", key="race").json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["reply"]["id"] for r in results}) == 1
    with session_scope() as s:
        roles = s.scalars(select(Message.role).where(Message.conversation_id == conversation["id"])).all()
    assert sorted(roles) == ["assistant", "customer"]


def test_same_key_with_other_text_is_a_conflict(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "Where is my order A1023?", key="k-2").status_code == 201
    response = ask(client, conversation, "Where is my order A1024?", key="k-2")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_without_a_key_each_post_is_a_new_message(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    a = ask(client, conversation, "Where is my order A1023?").json()
    b = ask(client, conversation, "Where is my order A1023?").json()
    assert a["reply"]["id"] != b["reply"]["id"]


def test_bad_requests_get_json_errors(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    as_json = client.post(url, json={"text": "hi"}, headers=auth(conversation))
    assert as_json.status_code == 415 and as_json.json()["error"]["code"] == "unsupported_media_type"
    empty = client.post(url, data={"text": "   "}, headers=auth(conversation))
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_message"
    missing = client.post(url, files={"other": ("a.txt", b"x")}, headers=auth(conversation))
    assert missing.status_code == 422
    long = client.post(url, data={"text": "x" * 5000}, headers=auth(conversation))
    assert long.status_code == 413
    garbage = client.post(
        url,
        content=b"\x00\x01garbage",
        headers={**auth(conversation), "content-type": "multipart/form-data; boundary=zzz"},
    )
    assert 400 <= garbage.status_code < 500
    assert "error" in garbage.json()


def test_list_messages_in_order(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    ask(client, conversation, "Where is my order A1023?")
    ask(client, conversation, "And A1024?")
    messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation)).json()[
        "messages"
    ]
    assert [m["role"] for m in messages] == ["customer", "assistant", "customer", "assistant"]
    assert "A1024" in messages[3]["text"]
    later = client.get(
        f"/api/v1/conversations/{conversation['id']}/messages?after={messages[1]['id']}",
        headers=auth(conversation),
    ).json()["messages"]
    assert [m["id"] for m in later] == [messages[2]["id"], messages[3]["id"]]


def test_feedback_on_a_reply(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    body = ask(client, conversation, "Where is my order A1023?").json()
    url = f"/api/v1/messages/{body['reply']['id']}/feedback"
    up = client.post(url, json={"rating": "up"}, headers=auth(conversation))
    assert up.status_code == 201 and up.json()["rating"] == "up"
    down = client.post(url, json={"rating": "down", "comment": "wrong"}, headers=auth(conversation))
    assert down.json()["rating"] == "down"
    bad = client.post(url, json={"rating": "meh"}, headers=auth(conversation))
    assert bad.status_code == 422
    own = client.post(
        f"/api/v1/messages/{body['message']['id']}/feedback",
        json={"rating": "up"},
        headers=auth(conversation),
    )
    assert own.status_code == 422
    other = open_conversation(client, "c1002")
    assert client.post(url, json={"rating": "up"}, headers=auth(other)).status_code == 404
    assert (
        client.post("/api/v1/messages/999999/feedback", json={"rating": "up"}, headers=auth(conversation)).status_code
        == 404
    )
