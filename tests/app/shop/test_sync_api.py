"""The shop's sync API and Shopify webhook: keys, order upserts in order, erasure, and the next turn's answer."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import ApiKey, AuditLog, Message, Order
from app.shop import keys
from tests.app.cli.test_cli import shopdesk
from tests.helpers import ask, open_conversation

ORDER = {
    "id": "B4735",
    "customer_ref": "c1002",
    "status": "shipped",
    "carrier": "FedEx",
    "tracking_no": "794612345678",
    "total": "99.98",
    "currency": "USD",
    "placed_at": "2026-11-24T11:20:00-05:00",
    "items": [{"sku": "LM-20", "name": "Desk lamp", "qty": 2, "unit_price": "49.99"}],
    "invoice": None,
}


def _key(*scopes: str) -> dict[str, str]:
    with session_scope() as s:
        _, secret = keys.create_key(s, "order system", list(scopes), actor="cli")
    return {"Authorization": f"Bearer {secret}"}


def _order(**changes: object) -> dict:
    order = copy.deepcopy(ORDER)
    order.update(changes)
    return order


def _status(order_id: str) -> str:
    with session_scope() as s:
        order = s.get(Order, order_id)
        return order.status if order else "(none)"


def test_a_status_update_is_in_the_very_next_answer(client, demo_shop):
    conversation = open_conversation(client, "c1002")
    before = ask(client, conversation, "Where is my order B4735?").json()["reply"]["text"]
    assert "delivered" not in before.lower()

    update = _order(status="delivered", updated_at="2026-11-28T09:00:00Z")
    response = client.put("/api/v1/shop/orders/B4735", json=update, headers=_key("orders:write"))
    assert response.status_code == 200 and response.json() == {"id": "B4735", "result": "updated"}

    after = ask(client, conversation, "Where is my order B4735?").json()["reply"]["text"]
    assert "delivered" in after.lower(), after


def test_an_older_update_delivered_late_is_ignored(client, demo_shop):
    headers = _key("orders:write")
    newer = _order(status="delivered", updated_at="2026-11-28T09:00:00Z")
    older = _order(status="shipped", carrier="DHL", updated_at="2026-11-27T09:00:00Z")
    assert client.put("/api/v1/shop/orders/B4735", json=newer, headers=headers).json()["result"] == "updated"
    assert client.put("/api/v1/shop/orders/B4735", json=older, headers=headers).json()["result"] == "stale"
    assert client.put("/api/v1/shop/orders/B4735", json=newer, headers=headers).json()["result"] == "unchanged"
    read = client.get("/api/v1/shop/orders/B4735", headers=_key("read")).json()
    assert read["status"] == "delivered" and read["carrier"] == "FedEx"
    # The status change was recorded with the update's own time.
    assert read["status_history"][-1]["status"] == "delivered"
    assert read["status_history"][-1]["at"].startswith("2026-11-28T09:00")


def test_a_new_order_with_history_refund_and_tags_reads_back_as_sent(client, demo_shop):
    order = _order(
        id="SHOP-2026-11-0001",
        status="refunded",
        updated_at="2026-11-28T09:00:00Z",
        status_history=[
            {"status": "PAID", "at": "2026-11-24T11:21:00-05:00"},
            {"status": "delivered", "at": "2026-11-26T15:00:00Z"},
            {"status": "refunded", "at": "2026-11-28T09:00:00Z"},
        ],
        refund={"amount": "99.98", "destination": "original payment method"},
        items=[{"sku": "FR-1", "name": "Salmon fillet", "qty": 2, "unit_price": "49.99", "tags": ["Fresh Food"]}],
    )
    response = client.put("/api/v1/shop/orders/SHOP-2026-11-0001", json=order, headers=_key("orders:write"))
    assert response.status_code == 201, response.text
    read = client.get("/api/v1/shop/orders/SHOP-2026-11-0001", headers=_key("read")).json()
    assert [e["status"] for e in read["status_history"]] == ["paid", "delivered", "refunded"]
    assert read["refund"] == {"amount": "99.98", "destination": "original payment method"}
    assert read["items"][0]["tags"] == ["fresh food"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [{"sku": "LM-20", "name": "Desk lamp", "qty": 0, "unit_price": "49.99"}]}, "items.0.qty"),
        ({"total": "-1"}, "total"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"customer_ref": "nobody"}, "customer_ref"),
        ({"id": "B9999"}, "id"),
        ({"shipping_speed": "fast"}, "shipping_speed"),
    ],
)
def test_a_bad_record_is_422_naming_the_field_and_changes_nothing(client, demo_shop, change, field):
    response = client.put(
        "/api/v1/shop/orders/B4735", json=_order(status="lost", **change), headers=_key("orders:write")
    )
    assert response.status_code == 422
    assert field in response.json()["error"]["message"]
    assert _status("B4735") == "shipped"


def test_bad_json_and_wrong_shapes_are_clear_errors(client, demo_shop):
    headers = {**_key("orders:write"), "Content-Type": "application/json"}
    assert client.put("/api/v1/shop/orders/B4735", content=b"{not json", headers=headers).status_code == 422
    assert client.put("/api/v1/shop/orders/B4735", json=[1, 2], headers=headers).status_code == 422
    assert client.post("/api/v1/shop/orders:batch", json={"orders": "x"}, headers=headers).status_code == 422
    too_many = {"orders": [ORDER] * 1001}
    assert client.post("/api/v1/shop/orders:batch", json=too_many, headers=headers).json()["error"]["code"] == (
        "batch_too_large"
    )


def test_a_batch_stores_each_good_order_and_names_each_bad_one(client, demo_shop):
    batch = {
        "orders": [
            _order(status="delivered"),
            _order(id="N-1", status="paid"),
            _order(id="N-2", status="paid", total="abc"),
            _order(id="N-3", customer_ref="nobody"),
            "not an order",
            # The same invoice number as an order already stored: refused, the rest of the batch stands.
            _order(
                id="N-4",
                invoice={"number": "INV-2026-0457", "total": "99.98", "issued_at": "2026-11-24T12:00:00Z"},
            ),
        ]
    }
    response = client.post("/api/v1/shop/orders:batch", json=batch, headers=_key("orders:write"))
    assert response.status_code == 200
    body = response.json()
    outcome = [r.get("result") or r["error"]["code"] for r in body["results"]]
    assert outcome == ["updated", "created", "invalid_order", "invalid_order", "invalid_order", "invalid_order"]
    assert "total" in body["results"][2]["error"]["message"]
    assert body["counts"] == {"updated": 1, "created": 1, "error": 4}
    assert (_status("B4735"), _status("N-1"), _status("N-2"), _status("N-4")) == (
        "delivered",
        "paid",
        "(none)",
        "(none)",
    )


def test_customers_upsert_and_erasure(client, demo_shop):
    headers = _key("orders:write")
    assert client.put("/api/v1/shop/customers/c9", json={"name": "New Person"}, headers=headers).status_code == 201
    batch = {"customers": [{"ref": "c9", "name": "Renamed"}, {"ref": "", "name": "x"}]}
    results = client.post("/api/v1/shop/customers:batch", json=batch, headers=headers).json()["results"]
    assert results[0]["result"] == "updated" and results[1]["error"]["code"] == "invalid_customer"

    conversation = open_conversation(client, "c1002")
    ask(client, conversation, "Where is my order B4735?")
    assert client.delete("/api/v1/shop/customers/c1002", headers=headers).status_code == 204
    assert client.delete("/api/v1/shop/customers/c1002", headers=headers).status_code == 404
    assert _status("B4735") == "(none)" and _status("B4712") == "(none)"
    with session_scope() as s:  # the conversation stays, linked to no one
        assert s.scalar(select(func.count()).select_from(Message)) == 2
        assert s.scalar(select(AuditLog.action).where(AuditLog.target == "customer:c1002")) == "shop.customer.delete"


def test_order_erasure(client, demo_shop):
    headers = _key("orders:write")
    assert client.delete("/api/v1/shop/orders/A1024", headers=headers).status_code == 204
    assert _status("A1024") == "(none)"
    assert client.delete("/api/v1/shop/orders/A1024", headers=headers).status_code == 404


def test_keys_are_hashed_scoped_and_revocable(client, demo_shop):
    with session_scope() as s:
        key, secret = keys.create_key(s, "sync job", ["orders:write"], actor="cli")
        key_id = key.id
    with session_scope() as s:
        stored = s.get(ApiKey, key_id)
        assert secret not in json.dumps([stored.key_hash, stored.prefix, stored.name])
        assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.put("/api/v1/shop/orders/B4735", json=_order(status="delivered"), headers=headers).status_code == 200
    # Not scoped to read, nor to policies.
    assert client.get("/api/v1/shop/orders/B4735", headers=headers).status_code == 403
    article = {"title": "Returns", "body": "No returns."}
    assert client.put("/api/v1/shop/policies/returns-en", json=article, headers=headers).status_code == 403
    # A read key can't write.
    reader = _key("read")
    assert client.put("/api/v1/shop/orders/B4735", json=_order(status="lost"), headers=reader).status_code == 403
    assert client.delete("/api/v1/shop/orders/B4735", headers=reader).status_code == 403

    with session_scope() as s:
        keys.revoke_key(s, key_id, actor="cli")
    refused = client.put("/api/v1/shop/orders/B4735", json=_order(status="lost"), headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_key"
    assert client.get("/api/v1/shop/orders/B4735").status_code == 401
    assert client.get("/api/v1/shop/orders/B4735", headers={"Authorization": "Bearer sdk_wrong"}).status_code == 401
    assert _status("B4735") == "delivered"
    with session_scope() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.target == f"key:{key_id}")))
    assert actions == ["key.create", "key.revoke"]


def test_keys_are_rate_limited(client, demo_shop, settings, rate_limit_window):
    settings.rate_limit_shop_key = 2
    headers = _key("read")
    codes = [client.get("/api/v1/shop/orders/B4735", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_key_command_shows_the_key_once_and_revokes_it(client, demo_shop):
    created = shopdesk("key", "create", "--name", "erp", "--scope", "orders:write", "--scope", "read", "--json")
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert set(data) == {"id", "name", "key", "scopes"} and data["scopes"] == ["orders:write", "read"]
    headers = {"Authorization": f"Bearer {data['key']}"}
    assert client.get("/api/v1/shop/orders/B4735", headers=headers).status_code == 200
    listed = json.loads(shopdesk("key", "list", "--json").stdout)["keys"]
    assert data["key"] not in json.dumps(listed) and listed[0]["prefix"] == data["key"][:8]
    assert shopdesk("key", "revoke", str(data["id"]), "--json").returncode == 0
    assert client.get("/api/v1/shop/orders/B4735", headers=headers).status_code == 401
    bad = shopdesk("key", "revoke", "999", "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["code"] == "not_found"


# --- Shopify's orders/updated webhook, with a payload shaped as Shopify's published example order ---

SECRET = "shpss_test_webhook_secret"


def shopify_order(**changes: object) -> dict:
    order = {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#9999",
        "order_number": 1234,
        "email": "jon@example.com",
        "created_at": "2026-11-20T12:00:00-05:00",
        "updated_at": "2026-11-21T12:00:00-05:00",
        "processed_at": "2026-11-20T12:00:01-05:00",
        "cancelled_at": None,
        "currency": "USD",
        "total_price": "403.00",
        "financial_status": "paid",
        "fulfillment_status": None,
        "tags": "",
        "customer": {"id": 115310627314723954, "email": "john@example.com", "first_name": "John", "last_name": "Smith"},
        "line_items": [
            {
                "id": 866550311766439020,
                "product_id": 632910392,
                "variant_id": 808950810,
                "sku": "IPOD2008PINK",
                "title": "IPod Nano - 8GB",
                "name": "IPod Nano - 8GB - Pink",
                "quantity": 1,
                "price": "199.00",
            },
            {
                "id": 141249953214522974,
                "product_id": 632910392,
                "variant_id": 808950810,
                "sku": "IPOD2008PINK",
                "title": "IPod Nano - 8GB",
                "name": "IPod Nano - 8GB - Pink",
                "quantity": 1,
                "price": "199.00",
            },
        ],
        "fulfillments": [],
        "refunds": [],
    }
    order.update(changes)
    return order


def _deliver(client, payload: object, secret: str = SECRET, topic: str = "orders/updated"):
    body = json.dumps(payload).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": topic, "Content-Type": "application/json"}
    return client.post("/api/v1/shop/webhooks/shopify", content=body, headers=headers)


def test_a_shopify_webhook_becomes_the_customers_order(client, settings):
    settings.shopify_webhook_secret = SECRET
    created = _deliver(client, shopify_order(), topic="orders/create")
    assert created.status_code == 200 and created.json() == {"id": "9999", "result": "created"}
    assert _status("9999") == "paid"

    shipped = shopify_order(
        updated_at="2026-11-23T08:00:00-05:00",
        fulfillment_status="fulfilled",
        fulfillments=[
            {
                "id": 255858046,
                "status": "success",
                "created_at": "2026-11-22T09:00:00-05:00",
                "updated_at": "2026-11-23T08:00:00-05:00",
                "tracking_company": "USPS",
                "tracking_number": "1Z2345",
                "shipment_status": "delivered",
            }
        ],
    )
    assert _deliver(client, shipped).json()["result"] == "updated"
    # Shopify retries and reorders deliveries: the first state, delivered again late, changes nothing.
    assert _deliver(client, shopify_order()).json()["result"] == "stale"
    with session_scope() as s:
        order = s.get(Order, "9999")
        assert (order.status, order.carrier, order.tracking_no) == ("delivered", "USPS", "1Z2345")
        assert [e["status"] for e in order.status_history] == ["paid", "shipped", "delivered"]
        assert order.customer.ref == "115310627314723954" and order.customer.name == "John Smith"

    # And the customer, signed in to the widget with their Shopify customer id, is answered with it.
    conversation = open_conversation(client, "115310627314723954")
    reply = ask(client, conversation, "Where is my order #9999?").json()["reply"]["text"]
    assert "delivered" in reply.lower() and "1Z2345" in reply


def test_a_shopify_webhook_with_a_bad_signature_stores_nothing(client, settings):
    settings.shopify_webhook_secret = SECRET
    response = _deliver(client, shopify_order(), secret="someone-else")
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_signature"
    unsigned = client.post(
        "/api/v1/shop/webhooks/shopify", json=shopify_order(), headers={"X-Shopify-Topic": "orders/create"}
    )
    assert unsigned.status_code == 401
    assert _status("9999") == "(none)"


def test_shopify_deliveries_that_hold_no_order_are_answered_without_storing(client, settings):
    settings.shopify_webhook_secret = SECRET
    assert _deliver(client, shopify_order(customer=None)).status_code == 202  # a guest checkout
    assert _deliver(client, {"id": 1}, topic="products/update").status_code == 202
    assert _deliver(client, b"not json".decode(), topic="orders/updated").status_code == 422
    broken = _deliver(client, shopify_order(total_price="lots"))
    assert broken.status_code == 422 and "amount" in broken.json()["error"]["message"]
    assert _status("9999") == "(none)"
    settings.shopify_webhook_secret = ""
    assert _deliver(client, shopify_order()).status_code == 404  # the receiver is off until configured
