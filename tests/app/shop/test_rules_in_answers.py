"""Structured rules in answers: the return window counted from this order's delivery, excluded items,
whether this order's address can still change; and, when the shop set no rule, the limit its article states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.db import session_scope
from app.grounding.facts import OrderFact, RuleFact
from app.grounding.rules import apply_rules
from app.shop import rules
from app.shop.rules import ShopRules
from tests.app.shop.test_sync_api import ORDER, _key
from tests.helpers import ask, open_conversation

DELIVERED = {**ORDER, "id": "B4712", "status": "delivered"}


def _set_rules(**values: object) -> None:
    with session_scope() as s:
        rules.update(s, values, author="test")


def _deliver(client, days_ago: int, **changes: object) -> str:
    """Mark B4712 delivered `days_ago` days ago; returns that date."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    order = {**DELIVERED, "status_history": [{"status": "delivered", "at": at.isoformat()}], **changes}
    assert client.put("/api/v1/shop/orders/B4712", json=order, headers=_key("orders:write")).status_code == 200
    return at.date().isoformat()


def test_the_return_window_is_counted_from_this_orders_delivery(client, demo_shop):
    _set_rules(return_window_days=14)
    delivered = _deliver(client, 3)
    until = (datetime.fromisoformat(delivered) + timedelta(days=14)).date().isoformat()
    conversation = open_conversation(client, "c1002")
    reply = ask(client, conversation, "Can I still return order B4712? I changed my mind.").json()["reply"]
    assert reply["status"] == "sent", reply
    assert f"delivered on {delivered}" in reply["text"] and f"until {until}" in reply["text"], reply["text"]

    _deliver(client, 40)
    reply = ask(client, conversation, "Can I still return order B4712? I changed my mind.").json()["reply"]
    assert "that time has passed" in reply["text"], reply["text"]


def test_items_in_an_excluded_category_are_named(client, demo_shop):
    _set_rules(return_window_days=7, excluded_categories=["Fresh Food"])
    items = [
        {"sku": "FR-1", "name": "Salmon fillet", "qty": 1, "unit_price": "50.00", "tags": ["fresh food"]},
        {"sku": "LM-20", "name": "Desk lamp", "qty": 1, "unit_price": "49.98"},
    ]
    _deliver(client, 1, items=items)
    conversation = open_conversation(client, "c1002")
    reply = ask(client, conversation, "I want to return order B4712").json()["reply"]
    assert "doesn't cover Salmon fillet (fresh food)" in reply["text"] and "Desk lamp (" not in reply["text"], reply


def test_whether_this_orders_address_can_change_in_chinese(client, demo_shop):
    _set_rules(address_change_statuses=["processing", "paid"])
    conversation = open_conversation(client, "c1001", locale="zh")
    shipped = ask(client, conversation, "订单A1023可以改收货地址吗？").json()["reply"]["text"]
    assert "收货地址已无法修改" in shipped, shipped
    processing = ask(client, conversation, "订单A1024可以改收货地址吗？").json()["reply"]["text"]
    assert "收货地址仍可修改" in processing, processing


def test_no_rule_set_the_articles_own_limit_is_applied(client, demo_shop):
    _set_rules(
        return_window_days=None, quality_window_days=None, excluded_categories=None, address_change_statuses=None
    )
    delivered = _deliver(client, 3)
    until = (datetime.fromisoformat(delivered) + timedelta(days=7)).date().isoformat()
    conversation = open_conversation(client, "c1002")
    reply = ask(client, conversation, "Can I still return order B4712? I changed my mind.").json()["reply"]
    # The demo's returns article says "within 7 days of delivery": that limit, counted from this delivery.
    assert reply["status"] == "sent" and "still within the 7 days" in reply["text"], reply
    assert f"until {until}" in reply["text"], reply


def test_a_window_before_delivery_has_not_started_and_a_fault_uses_the_quality_window():
    order = OrderFact("X1", "shipped", "10.00", "USD", "2026-11-01T00:00:00+00:00")
    today = datetime(2026, 11, 29, tzinfo=UTC).date()
    shop = ShopRules(return_window_days=7, quality_window_days=30, price_protection_days=15)
    (fact,) = apply_rules(shop, ["return"], [], [order], today)
    assert isinstance(fact, RuleFact) and fact.start is None and fact.open is None
    (fault,) = apply_rules(shop, ["return"], ["quality"], [order], today)
    assert fault.rule == "quality_window_days" and fault.days == 30
    (price,) = apply_rules(shop, ["price_protection"], [], [order], today)
    assert (price.since, price.until, price.open) == ("order", "2026-11-16", False)
    assert apply_rules(ShopRules(), ["return"], [], [order], today) == []
    assert apply_rules(shop, ["order_status"], [], [order], today) == []


def test_an_undated_delivery_is_held_unless_the_customer_says_when_it_came(client, demo_shop):
    _set_rules(return_window_days=None, quality_window_days=None)
    placed = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    order = {**DELIVERED, "id": "B4799", "placed_at": placed}  # delivered, and nobody recorded when
    assert client.put("/api/v1/shop/orders/B4799", json=order, headers=_key("orders:write")).status_code == 201
    conversation = open_conversation(client, "c1002")
    # The article's 7 days count from a delivery nobody recorded: yes or no is a person's to say.
    reply = ask(client, conversation, "Can I still return order B4799? I changed my mind.").json()["reply"]
    assert reply["status"] == "pending_review", reply
    assert any("yes or no" in r for r in reply["scores"]["reasons"]), reply["scores"]
    said = ask(client, conversation, "Order B4799 arrived yesterday, can I still return it? I changed my mind.")
    reply = said.json()["reply"]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert reply["status"] == "sent" and f"You said order B4799 arrived on {yesterday}" in reply["text"], reply
