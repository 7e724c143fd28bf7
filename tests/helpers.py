"""Small helpers the tests share."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.chat.service import sign_customer_ref
from app.config import get_settings


def open_conversation(client: TestClient, customer_ref: str | None = None, locale: str | None = None) -> dict:
    body: dict[str, Any] = {}
    if customer_ref:
        body = {
            "customer_ref": customer_ref,
            "customer_sig": sign_customer_ref(get_settings().widget_secret, customer_ref),
        }
    if locale:
        body["locale"] = locale
    response = client.post("/api/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def auth(conversation: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {conversation['token']}"}


def ask(client: TestClient, conversation: dict, text: str, key: str | None = None) -> Any:
    headers = auth(conversation)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/conversations/{conversation['id']}/messages", data={"text": text}, headers=headers)


def make_user(role: str = "agent", email: str | None = None, password: str = "correct horse battery") -> dict:
    from app.auth.service import create_user
    from app.db import session_scope

    email = email or f"{role}@shop.test"
    with session_scope() as s:
        user = create_user(s, email, password, role)
        return {"id": user.id, "email": email, "password": password}


def login(client: TestClient, user: dict) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


# An invoice for the demo shop's order A1023 (customer c1001), as the invoice generator draws it.
A1023_INVOICE = {
    "number": "26442000000123456789",
    "total": "1356.00",
    "buyer": "深圳市星河科技有限公司",
    "buyer_tax_id": "91440300MA5FXXXX1X",
    "date": "2026-11-20",
}


def invoice_png(**given: str) -> bytes:
    """A generated Chinese VAT invoice (fully digital) as PNG bytes; fields not given are drawn at random."""
    import random

    from tests.support.invoices import png_bytes, zh_vat

    return png_bytes(zh_vat(random.Random(7), True, **given).image)
