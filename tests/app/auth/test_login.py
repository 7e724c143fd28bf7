"""Agent and admin sign-in: hashed passwords, expiring sessions, and no way in with a customer token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.auth.service import create_demo_staff
from app.db import session_scope, utcnow
from app.models import UserSession
from tests.helpers import auth, login, make_user, open_conversation


def test_login_and_me(client):
    user = make_user("admin")
    headers = login(client, user)
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_wrong_password_and_unknown_email_look_the_same(client):
    user = make_user()
    wrong = client.post("/api/v1/auth/login", json={"email": user["email"], "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "who@shop.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_expired_session_is_refused(client):
    headers = login(client, make_user())
    with session_scope() as s:
        s.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/v1/reviews", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"


def test_logout_ends_the_session(client):
    headers = login(client, make_user())
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_customer_token_cannot_reach_agent_endpoints(client, demo_shop):
    conversation = open_conversation(client, "c1001")
    assert client.get("/api/v1/reviews", headers=auth(conversation)).status_code == 401
    assert client.post("/api/v1/reviews/1", json={"action": "approve"}, headers=auth(conversation)).status_code == 401
    assert client.get("/api/v1/reviews").status_code == 401


def test_demo_staff_are_made_once_and_can_sign_in(client):
    with session_scope() as s:
        lines = create_demo_staff(s)
    with session_scope() as s:
        assert create_demo_staff(s) == []  # staff exist now: no more demo accounts
    assert [line.split(":")[0] for line in lines] == ["admin", "agent"]
    _, email, _, password = lines[0].split()
    signed_in = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 200
