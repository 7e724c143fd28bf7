"""What the agent console needs: claims, review detail, the queue, handed-over conversations, uploads."""

from __future__ import annotations

from app.admin import runtime
from app.db import session_scope
from app.models import User
from tests.helpers import ask, auth, login, make_user, open_conversation


def _hold_everything(demo_admin_id: int) -> None:
    """A threshold no reply reaches: every answer is held, with the composer's reply as the proposal."""
    from app.config import get_settings

    with session_scope() as s:
        admin = s.get(User, demo_admin_id)
        runtime.update(s, get_settings(), admin, {"reply_threshold": 1.0})


def test_a_claimed_review_is_answered_by_its_claimant_only(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    ask(client, conversation, "Tell me a joke about cats")
    first = login(client, make_user("agent", "ana@shop.test"))
    second = login(client, make_user("agent", "bo@shop.test"))
    [item] = client.get("/api/v1/reviews", headers=first).json()["reviews"]
    claimed = client.post(f"/api/v1/reviews/{item['id']}/claim", headers=first)
    assert claimed.status_code == 200 and claimed.json()["claimed_by_name"] == "ana@shop.test"
    taken = client.post(f"/api/v1/reviews/{item['id']}/claim", headers=second)
    assert taken.status_code == 409 and "ana@shop.test" in taken.json()["error"]["message"]
    refused = client.post(f"/api/v1/reviews/{item['id']}", json={"action": "edit", "text": "hi"}, headers=second)
    assert refused.status_code == 409
    assert client.delete(f"/api/v1/reviews/{item['id']}/claim", headers=first).status_code == 204
    assert client.post(f"/api/v1/reviews/{item['id']}/claim", headers=second).status_code == 200


def test_review_detail_has_the_conversation_candidates_and_facts(client, demo_shop):
    admin = make_user("admin")
    _hold_everything(admin["id"])
    conversation = open_conversation(client, "c1001")
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert reply["status"] == "pending_review"
    headers = login(client, admin)
    [item] = client.get("/api/v1/reviews", headers=headers).json()["reviews"]
    detail = client.get(f"/api/v1/reviews/{item['id']}", headers=headers).json()
    assert "A1023" in detail["candidate_text"]
    assert any("A1023" in line for line in detail["fact_lines"])
    assert detail["candidates"][0]["source"] == "composer" and "score" in detail["candidates"][0]["scores"]
    texts = [m["text"] for m in detail["conversation"]["messages"]]
    assert texts[0] == "Where is my order A1023?"
    approved = client.post(f"/api/v1/reviews/{item['id']}", json={"action": "approve"}, headers=headers).json()
    assert approved["message"]["role"] == "assistant" and "A1023" in approved["message"]["text"]


def test_talk_to_a_human_queues_the_conversation_and_holds_the_assistant(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    handed = client.post(f"/api/v1/conversations/{conversation['id']}/handover", headers=auth(conversation))
    assert handed.status_code == 200 and handed.json()["status"] == "handed_over"
    again = client.post(f"/api/v1/conversations/{conversation['id']}/handover", headers=auth(conversation))
    assert again.json()["message"] is None  # once
    agent = login(client, make_user())
    queue = client.get("/api/v1/agent/queue", headers=agent).json()
    assert [c["id"] for c in queue["handed_over"]] == [conversation["id"]]
    assert queue["reviews"][0]["reasons"] == ["the customer asked for a human agent"]

    # While a person has it, the assistant's answer is only a suggestion for the agent.
    reply = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    assert reply["status"] == "pending_review"
    reviews = client.get("/api/v1/reviews", headers=agent).json()["reviews"]
    assert "A1023" in reviews[-1]["candidate_text"]
    assert "an agent is handling this conversation" in reviews[-1]["reasons"]

    sent = client.post(
        f"/api/v1/agent/conversations/{conversation['id']}/messages", json={"text": "Hi, Ana here."}, headers=agent
    )
    assert sent.status_code == 201
    messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation))
    assert messages.json()["messages"][-1] == {
        **messages.json()["messages"][-1],
        "role": "agent",
        "text": "Hi, Ana here.",
    }
    back = client.post(f"/api/v1/agent/conversations/{conversation['id']}/hand-back", headers=agent)
    assert back.json()["status"] == "open"
    assert ask(client, conversation, "Where is my order A1023?").json()["reply"]["status"] == "sent"


def test_agent_message_errors_are_clear(client, demo_shop):
    agent = login(client, make_user())
    missing = client.post("/api/v1/agent/conversations/nope/messages", json={"text": "hi"}, headers=agent)
    assert missing.status_code == 404
    blank = client.post("/api/v1/agent/conversations/nope/messages", json={"text": "   "}, headers=agent)
    assert blank.status_code == 422
    assert client.get("/api/v1/agent/attachments/12345", headers=agent).status_code == 404


def test_canned_responses_in_both_languages(client):
    canned = client.get("/api/v1/agent/canned", headers=login(client, make_user())).json()
    assert canned["en"] and canned["zh"] and all(item["text"] for item in canned["en"])
