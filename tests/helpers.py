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
    return client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", data={"text": text}, headers=headers
    )
