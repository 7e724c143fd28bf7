"""Admin API behind the console: run-time settings, users, analytics."""

from __future__ import annotations

from moderation.classifier import DEFAULT_THRESHOLD
from tests.helpers import ask, auth, login, make_user, open_conversation


def test_settings_are_validated_and_change_the_next_turn(client, demo_shop):
    admin = login(client, make_user("admin"))
    bad = client.put("/api/v1/admin/settings", json={"values": {"reply_threshold": 3}}, headers=admin)
    assert bad.status_code == 422 and "between" in bad.json()["error"]["message"]
    unknown = client.put("/api/v1/admin/settings", json={"values": {"secret_key": 1}}, headers=admin)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_setting"
    whole = client.put("/api/v1/admin/settings", json={"values": {"training_min_new_turns": 2.5}}, headers=admin)
    assert whole.status_code == 422

    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "Where is my order A1023?").json()["reply"]["status"] == "sent"
    saved = client.put("/api/v1/admin/settings", json={"values": {"reply_threshold": 1.0}}, headers=admin).json()
    [threshold] = [s for s in saved["settings"] if s["key"] == "reply_threshold"]
    assert threshold["value"] == 1.0 and threshold["overridden"]
    assert ask(client, conversation, "Where is my order A1023?").json()["reply"]["status"] == "pending_review"
    client.put("/api/v1/admin/settings", json={"values": {"reply_threshold": None}}, headers=admin)
    assert ask(client, conversation, "Where is my order A1024?").json()["reply"]["status"] == "sent"


def test_schedule_reports_new_turns(client, demo_shop):
    from app.db import session_scope
    from app.models import TrainingRun

    admin = login(client, make_user("admin"))
    conversation = open_conversation(client, "c1001")
    ask(client, conversation, "Where is my order A1023?")
    schedule = client.get("/api/v1/admin/schedule", headers=admin).json()
    # The interval has passed (no run yet), but 1 of the 20 replies needed is not enough: not due.
    assert schedule["new_turns"] == 1 and schedule["time_due"] is True and schedule["due"] is False
    client.put("/api/v1/admin/settings", json={"values": {"training_min_new_turns": 1}}, headers=admin)
    assert client.get("/api/v1/admin/schedule", headers=admin).json()["due"] is True
    with session_scope() as s:
        s.add(TrainingRun(status="cancelled"))  # learned nothing: the replies still count
    assert client.get("/api/v1/admin/schedule", headers=admin).json()["new_turns"] == 1
    with session_scope() as s:
        s.add(TrainingRun(status="succeeded"))
    assert client.get("/api/v1/admin/schedule", headers=admin).json()["new_turns"] == 0


def test_users_are_created_changed_and_switched_off(client, demo_shop):
    me = make_user("admin")
    admin = login(client, me)
    created = client.post(
        "/api/v1/admin/users",
        json={"email": "New@Shop.test", "password": "long enough pw", "role": "agent", "name": "New"},
        headers=admin,
    )
    assert created.status_code == 201 and created.json()["email"] == "new@shop.test"
    weak = client.post("/api/v1/admin/users", json={"email": "x@shop.test", "password": "short"}, headers=admin)
    assert weak.status_code == 422
    user_id = created.json()["id"]
    agent = login(client, {"email": "new@shop.test", "password": "long enough pw"})
    assert client.get("/api/v1/agent/queue", headers=agent).status_code == 200
    off = client.patch(f"/api/v1/admin/users/{user_id}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.get("/api/v1/agent/queue", headers=agent).status_code == 401  # its sessions ended
    own = client.patch(f"/api/v1/admin/users/{me['id']}", json={"is_active": False}, headers=admin)
    assert own.status_code == 409
    assert client.patch("/api/v1/admin/users/999", json={"role": "admin"}, headers=admin).status_code == 404
    assert [u["email"] for u in client.get("/api/v1/admin/users", headers=admin).json()["users"]] == [
        "admin@shop.test",
        "new@shop.test",
    ]


def test_analytics_counts_the_day(client, demo_shop):
    admin_user = make_user("admin")
    admin = login(client, admin_user)
    conversation = open_conversation(client, "c1001")
    sent = ask(client, conversation, "Where is my order A1023?").json()["reply"]
    ask(client, conversation, "Tell me a joke about cats")
    client.post(f"/api/v1/messages/{sent['id']}/feedback", json={"rating": "up"}, headers=auth(conversation))
    [item] = client.get("/api/v1/reviews", headers=admin).json()["reviews"]
    client.post(f"/api/v1/reviews/{item['id']}", json={"action": "edit", "text": "No jokes, sorry."}, headers=admin)

    data = client.get("/api/v1/admin/analytics?days=7", headers=admin).json()
    assert len(data["days"]) == 7
    today = data["days"][-1]
    assert today["conversations"] == 1 and today["customer_messages"] == 2
    assert today["auto_sent"] == 1 and today["held"] == 1 and today["held_rate"] == 0.5
    assert today["edited"] == 1 and today["edit_rate"] == 1.0 and today["feedback_up"] == 1
    assert today["latency_p50_ms"]["total_ms"] > 0
    assert client.get("/api/v1/admin/analytics?days=0", headers=admin).status_code == 422


def test_the_models_list_says_which_model_answers_now(client, settings):
    from app.db import session_scope
    from app.models import ModelVersion

    admin = login(client, make_user("admin"))
    settings.llm_backend, settings.llm_model = "local", ""
    assert client.get("/api/v1/models", headers=admin).json()["answering"] == {
        "name": "SmolLM2-135M-Instruct", "backend": "local", "source": "embedded default",
    }  # fmt: skip
    with session_scope() as s:
        s.add(ModelVersion(name="run-7", backend="local", base="smollm2", status="active"))
    answering = client.get("/api/v1/models", headers=admin).json()["answering"]
    assert answering == {"name": "run-7", "backend": "local", "source": "active version"}


def test_moderation_counts_per_category_and_thresholds_per_category(client, demo_shop):
    admin = login(client, make_user("admin"))
    conversation = open_conversation(client, "c1001")
    threat = "I know where your warehouse is. Tonight I'm coming with a few friends."
    assert ask(client, conversation, threat).json()["reply"]["status"] == "blocked"
    ask(client, conversation, "Where is my order A1023?")
    data = client.get("/api/v1/admin/analytics?days=7", headers=admin).json()
    assert data["moderation"] == {"threat": 1} and data["days"][-1]["moderation"] == {"threat": 1}

    # An admin raises the threat threshold past any probability: the same message is no longer a threat.
    items = client.get("/api/v1/admin/settings", headers=admin).json()["settings"]
    [spec] = [s for s in items if s["key"] == "moderation_thresholds.threat"]
    assert spec["label"] == "Moderation: threat" and spec["value"] == spec["default"] == DEFAULT_THRESHOLD
    assert spec["label_zh"] == "内容审核：威胁" and "概率" in spec["help_zh"]  # the console in Chinese
    assert all(s["label_zh"] != s["key"] and s["help_zh"] != s["help"] for s in items)
    saved = client.put("/api/v1/admin/settings", json={"values": {"moderation_thresholds.threat": 1.0}}, headers=admin)
    assert saved.status_code == 200
    again = ask(client, conversation, threat).json()["reply"]
    assert again["status"] != "blocked" and "threat" not in again["scores"]["inbound"]["categories"]
    client.put("/api/v1/admin/settings", json={"values": {"moderation_thresholds.threat": None}}, headers=admin)
    assert ask(client, conversation, threat).json()["reply"]["status"] == "blocked"  # back to the default
    bad = client.put("/api/v1/admin/settings", json={"values": {"moderation_thresholds.threat": 0}}, headers=admin)
    assert bad.status_code == 422
