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
    handed = client.post(f"/api/v1/conversations/{conversation['id']}/hand-over", headers=auth(conversation))
    assert handed.status_code == 200 and handed.json()["status"] == "handed_over"
    # The old path still answers (for one release), the same way.
    again = client.post(f"/api/v1/conversations/{conversation['id']}/handover", headers=auth(conversation))
    assert again.status_code == 200 and again.json()["message"] is None  # once
    agent = login(client, make_user())
    queue = client.get("/api/v1/agent/queue", headers=agent).json()
    assert [c["id"] for c in queue["handed_over"]] == [conversation["id"]]
    assert queue["handed_over"][0]["checks"] == ["asked for a person"]
    assert queue["reviews"] == []  # the request is the hand-over's entry, not a held reply as well

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


def _queue(client, headers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    queue = client.get("/api/v1/agent/queue", headers=headers)
    assert queue.status_code == 200, queue.text
    return queue.json()


def _review_statuses(client, conversation: dict) -> list[str | None]:  # type: ignore[no-untyped-def]
    """The review status of each held reply of the conversation, as the customer's widget reads them."""
    listed = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=auth(conversation))
    return [m["review"] for m in listed.json()["messages"] if m["status"] == "pending_review"]


def test_the_queue_has_one_entry_per_conversation_with_the_customer_and_what_held_it(client, demo_shop):
    admin = make_user("admin")
    _hold_everything(admin["id"])
    li_wei = open_conversation(client, "c1001")
    for question in ("Where is my order A1023?", "Where is my order A1024?"):
        assert ask(client, li_wei, question).json()["reply"]["status"] == "pending_review"
    emma = open_conversation(client, "c1002")
    ask(client, emma, "Where is my order A1023?")  # the same words, another customer
    headers = login(client, admin)

    first, second = _queue(client, headers)["reviews"]
    assert (first["customer_name"], first["items"], first["customer_text"]) == (
        "Li Wei",
        2,
        "Where is my order A1024?",  # the latest: answering it settles the earlier one
    )
    assert first["checks"] == ["score under the threshold"]
    assert (second["customer_name"], second["items"]) == ("Emma Brown", 1)

    # Approving the latest answers the conversation: its earlier held reply is settled with it.
    decided = client.post(f"/api/v1/reviews/{first['id']}", json={"action": "approve"}, headers=headers)
    assert decided.status_code == 200, decided.text
    assert [r["customer_name"] for r in _queue(client, headers)["reviews"]] == ["Emma Brown"]
    earlier = min(first["review_ids"])
    assert client.get(f"/api/v1/reviews/{earlier}", headers=headers).json()["status"] == "resolved"
    assert _review_statuses(client, li_wei) == ["resolved", "approved"]  # the widget's "checking" note goes

    # A reject that sends nothing answers nothing: only that item closes.
    ask(client, emma, "Where is my order B4712?")
    [entry] = _queue(client, headers)["reviews"]
    assert entry["items"] == 2
    client.post(f"/api/v1/reviews/{entry['id']}", json={"action": "reject"}, headers=headers)
    [entry] = _queue(client, headers)["reviews"]
    assert entry["items"] == 1 and entry["customer_text"] == "Where is my order A1023?"


def test_an_agents_message_settles_a_handed_over_conversations_items(client, demo_shop):
    _hold_everything(make_user("admin")["id"])
    conversation = open_conversation(client, "c1002")
    ask(client, conversation, "Where is my order B4735?")
    client.post(f"/api/v1/conversations/{conversation['id']}/hand-over", headers=auth(conversation))
    ask(client, conversation, "Hello? Is anyone there?")
    agent = login(client, make_user())

    queue = _queue(client, agent)
    assert queue["reviews"] == []  # not in both lists
    [entry] = queue["handed_over"]
    assert (entry["customer_name"], entry["items"], entry["last_text"]) == (
        "Emma Brown",
        3,
        "Hello? Is anyone there?",
    )
    assert entry["checks"][:2] == ["score under the threshold", "asked for a person"]
    read = client.get(f"/api/v1/agent/conversations/{conversation['id']}", headers=agent).json()
    assert read["suggestion"]["review_id"] in entry["review_ids"]  # the held proposals, found where she answers

    sent = client.post(
        f"/api/v1/agent/conversations/{conversation['id']}/messages", json={"text": "Hi, Ana here."}, headers=agent
    )
    assert sent.status_code == 201, sent.text
    [entry] = _queue(client, agent)["handed_over"]
    assert (entry["items"], entry["checks"]) == (0, [])  # still with a person, nothing waiting
    assert _review_statuses(client, conversation) == ["resolved", "resolved", "resolved"]
    assert client.get(f"/api/v1/agent/conversations/{conversation['id']}", headers=agent).json()["suggestion"] is None

    # Handed back with nothing else pending: the conversation leaves the queue altogether.
    client.post(f"/api/v1/agent/conversations/{conversation['id']}/hand-back", headers=agent)
    assert _queue(client, agent) == {**_queue(client, agent), "reviews": [], "handed_over": []}


def test_handing_back_settles_the_request_for_a_person(client, demo_shop):
    conversation = open_conversation(client, "c1003")
    client.post(f"/api/v1/conversations/{conversation['id']}/hand-over", headers=auth(conversation))
    agent = login(client, make_user())
    client.post(f"/api/v1/agent/conversations/{conversation['id']}/hand-back", headers=agent)
    queue = _queue(client, agent)
    assert queue["reviews"] == [] and queue["handed_over"] == []  # no stale "asked for a person" left behind
    assert _review_statuses(client, conversation) == ["resolved"]


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
