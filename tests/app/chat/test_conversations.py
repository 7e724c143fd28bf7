"""Opening conversations: HMAC identity, anonymous conversations, token scope and expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.db import session_scope, utcnow
from app.models import Conversation
from tests.helpers import ask, auth, open_conversation


def test_verified_customer_gets_a_conversation(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    assert conversation["verified"] is True
    assert len(conversation["token"]) >= 40 and conversation["id"] not in conversation["token"]


def test_bad_signature_is_refused(client, demo_shop):
    response = client.post("/api/v1/conversations", json={"customer_ref": "c1001", "customer_sig": "00" * 32})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"


def test_signature_of_another_customer_is_refused(client, demo_shop):
    other = open_conversation(client, "c1002")  # noqa: F841 - a valid conversation exists for c1002
    from app.chat.service import sign_customer_ref

    sig = sign_customer_ref("test-widget-secret-0123456789", "c1002")
    response = client.post("/api/v1/conversations", json={"customer_ref": "c1001", "customer_sig": sig})
    assert response.status_code == 403


def test_ref_without_signature_is_refused(client, demo_shop):
    response = client.post("/api/v1/conversations", json={"customer_ref": "c1001"})
    assert response.status_code == 403


def test_anonymous_conversation(client, demo_shop):
    conversation = open_conversation(client)
    assert conversation["verified"] is False


def test_create_rejects_bad_json_and_unknown_fields(client):
    bad = client.post("/api/v1/conversations", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    extra = client.post("/api/v1/conversations", json={"customer": "c1001"})
    assert extra.status_code == 422
    locale = client.post("/api/v1/conversations", json={"locale": "fr"})
    assert locale.status_code == 422


def test_token_opens_only_its_own_conversation(client, demo_shop):
    mine = open_conversation(client, "c1001")
    theirs = open_conversation(client, "c1002")
    response = client.get(f"/api/v1/conversations/{theirs['id']}/messages", headers=auth(mine))
    assert response.status_code == 404
    response = client.post(f"/api/v1/conversations/{theirs['id']}/messages", data={"text": "hi"}, headers=auth(mine))
    assert response.status_code == 404


def test_missing_or_wrong_token_is_401(client, demo_shop):
    conversation = open_conversation(client)
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    assert client.get(url).status_code == 401
    wrong = client.get(url, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_token"


def test_expired_token_is_401(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    with session_scope() as s:
        s.execute(
            update(Conversation)
            .where(Conversation.id == conversation["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = ask(client, conversation, "Where is my order A1023?")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_unknown_conversation_is_404_not_500(client, demo_shop):
    conversation = open_conversation(client)
    response = client.get("/api/v1/conversations/does-not-exist/messages", headers=auth(conversation))
    assert response.status_code == 404
    assert client.get("/api/v1/nowhere").json()["error"]["code"] == "not_found"


def test_landing_page_and_health(client, demo_shop):
    page = client.get("/")
    assert page.status_code == 200 and "widget.js" in page.text
    assert page.text.count('<option value="c100') == 3  # the demo page can play each demo customer
    assert client.get("/healthz").json() == {"status": "ok"}
