"""The sync API, the admin's policy and rule endpoints and the Shopify receiver under generated hostile input:
never a 500, always the JSON error shape, and a refused order changes nothing stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.db import session_scope
from app.models import Order
from tests.app.chat.test_fuzz import FUZZ, _assert_clean, json_values, texts
from tests.app.shop.test_sync_api import ORDER, _key, shopify_order
from tests.helpers import login, make_user

pytestmark = pytest.mark.slow

FIELDS = [*ORDER, "updated_at", "status_history", "refund", "items.0.qty", "items.0.tags", "invoice"]
# Strings a database or a date parser may choke on, beside hypothesis's own.
nasty = st.sampled_from(["\x00", "9" * 40, "-1e400", "2026-02-30T00:00:00Z", "0001-01-01", "#1001", "a b", "💸"])
values = st.one_of(json_values, nasty, texts, st.integers(-(2**70), 2**70))


def _mutate(field: str, value: object) -> dict:
    order = json.loads(json.dumps(ORDER))
    if field.startswith("items.0."):
        order["items"][0][field.split(".")[-1]] = value
    else:
        order[field] = value
    return order


@FUZZ
@given(field=st.sampled_from(FIELDS), value=values, path_id=st.sampled_from(["B4735", "B4735%00", "x" * 70, "新订单"]))
def test_order_upserts_never_fail_on_generated_input(client, demo_shop, field, value, path_id):
    headers = _key("orders:write", "read")
    body = _mutate(field, value)
    before = _stored()
    response = client.put(f"/api/v1/shop/orders/{path_id}", json=body, headers=headers)
    _assert_clean(response)
    batch = client.post("/api/v1/shop/orders:batch", json={"orders": [body, value]}, headers=headers)
    _assert_clean(batch)
    if response.status_code >= 400 and batch.json().get("results", [{}])[0].get("error"):
        assert _stored() == before  # nothing of a refused order is stored


def _stored() -> tuple:
    with session_scope() as s:
        order = s.get(Order, "B4735")
        return (order.status, order.total, order.carrier, len(order.items), order.source_updated_at)


@FUZZ
@given(body=json_values, article_id=st.sampled_from(["returns-en", "new-one", "a/b", "..", "x" * 200]))
def test_policy_and_rule_edits_never_fail_on_generated_input(client, demo_shop, body, article_id):
    admin = login(client, make_user("admin", f"admin-{uuid.uuid4().hex}@shop.test"))
    _assert_clean(client.put(f"/api/v1/admin/policies/{article_id}", json=body, headers=admin))
    _assert_clean(client.post("/api/v1/admin/policies:preview", json=body, headers=admin))
    _assert_clean(client.put("/api/v1/admin/rules", json=body, headers=admin))
    _assert_clean(client.put("/api/v1/shop/rules", json=body, headers=_key("policies:write")))


@FUZZ
@given(
    field=st.sampled_from(["total_price", "customer", "line_items", "fulfillments", "refunds", "name", "created_at"]),
    value=values,
)
def test_signed_shopify_deliveries_never_fail_on_generated_input(client, settings, field, value):
    settings.shopify_webhook_secret = "fuzz-secret"
    body = json.dumps(shopify_order(**{field: value})).encode()
    signature = base64.b64encode(hmac.new(b"fuzz-secret", body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/updated"}
    _assert_clean(client.post("/api/v1/shop/webhooks/shopify", content=body, headers=headers))
