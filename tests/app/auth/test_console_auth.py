"""Console sign-in: cookie sessions with CSRF, expiry, roles, and customers kept out of staff endpoints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.db import session_scope, utcnow
from app.models import UserSession
from tests.helpers import auth, login, make_user, open_conversation


def _cookie_login(client, user):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/auth/login", json={"email": user["email"], "password": user["password"], "session_cookie": True}
    )
    assert response.status_code == 200, response.text
    return response


def test_cookie_login_keeps_the_token_out_of_the_page(client):
    response = _cookie_login(client, make_user())
    body = response.json()
    assert body["token"] is None and len(body["csrf_token"]) == 64
    cookie = response.headers["set-cookie"].lower()
    assert "shopdesk_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_a_change_with_the_cookie_needs_the_csrf_token(client, demo_shop):
    csrf = _cookie_login(client, make_user("admin")).json()["csrf_token"]
    body = {"values": {"reply_threshold": 0.9}}
    refused = client.put("/api/v1/admin/settings", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.put("/api/v1/admin/settings", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert client.put("/api/v1/admin/settings", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/v1/admin/settings").status_code == 200  # reading needs no token


def test_bearer_tokens_need_no_csrf_token(client, demo_shop):
    headers = login(client, make_user("admin"))
    assert client.put("/api/v1/admin/settings", json={"values": {}}, headers=headers).status_code == 200


def test_an_expired_session_is_refused_and_the_console_asks_to_sign_in_again(client):
    _cookie_login(client, make_user())
    assert client.get("/api/v1/agent/queue").status_code == 200
    with session_scope() as s:
        s.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/v1/agent/queue")
    assert response.status_code == 401 and response.json()["error"]["code"] == "session_expired"
    page = client.get("/agent", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_a_customer_token_reaches_no_staff_endpoint(client, demo_shop):
    customer = auth(open_conversation(client, "c1001"))
    for method, path in [
        ("get", "/api/v1/reviews"),
        ("get", "/api/v1/agent/queue"),
        ("get", "/api/v1/agent/attachments/1"),
        ("get", "/api/v1/admin/users"),
        ("get", "/api/v1/admin/analytics"),
        ("post", "/api/v1/training/runs"),
        ("get", "/api/v1/models"),
    ]:
        response = getattr(client, method)(path, headers=customer)
        assert response.status_code == 401, (path, response.text)


def test_agents_are_kept_out_of_the_admin_console(client, demo_shop):
    _cookie_login(client, make_user("agent"))
    assert client.get("/agent").status_code == 200
    page = client.get("/admin")
    assert page.status_code == 403 and "Admins only" in page.text
    assert client.get("/api/v1/admin/users").status_code == 403


def test_pages_carry_a_content_security_policy(client, demo_shop):
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert 'src="/static/widget.js' in page.text and 'data-customer-ref="c1001"' in page.text


def test_sign_in_redirects_only_within_the_site(client):
    assert 'data-next="/admin"' in client.get("/login?next=/admin").text
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert 'data-next="/agent"' in client.get("/login", params={"next": target}).text
