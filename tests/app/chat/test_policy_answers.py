"""Policy questions answered with the passage that answers them, on a shop whose wording the rules never saw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.db import session_scope
from app.shop.service import seed_articles, seed_orders
from tests.helpers import ask, open_conversation

ARTICLES = {
    "changing-your-mind-en": "# Sending things back\n\nNot right for you? Send it back within **45 days** of delivery "
    "for a full refund. Items must be unused.\n\n## Refund timing\nWe pay refunds out 4 working days after the "
    "parcel reaches us.",
    "broken-items-en": "# Faulty or damaged goods\n\nIf something stops working, tell us within **120 days** of "
    "delivery and we repair, replace or refund it. Return postage is on us.",
    "not-returnable-en": "# What can't be returned\n\n- Engraved items\n- Opened cartridges\n\nThese can't be "
    "returned unless they are faulty.",
    "stopping-an-order-en": "# Cancelling an order\n\n| Order status | Can you cancel? |\n|---|---|\n"
    "| Paid | Yes, free of charge |\n| Shipped | No, refuse the delivery instead |",
    "changing-your-mind-zh": "# 退货说明\n\n不想要了？签收后 **45 天**内可寄回退款，商品需未使用。",
    "broken-items-zh": "# 质量问题\n\n商品出现故障，请在签收后 **120 天**内联系我们，我们负责维修、换新或退款。",
    "price-match-zh": "# 价格保护\n\n付款后 **5 天**内同款降价，可申请退还差价。\n\n"
    "以下情况不参与：\n- 拼团价、直播专享价\n- 以旧换新的订单",
    "price-match-en": "# Price protection\n\nIf the price drops within **5 days** of payment, we refund the difference."
    "\n\nNot covered:\n- Group-buy and livestream prices\n- Trade-in orders",
}
ORDERS = {
    "customers": [{"ref": "k-1", "name": "Kim"}],
    "orders": [
        {"id": "PX-7781", "customer_ref": "k-1", "status": "shipped", "carrier": "DHL", "tracking_no": "JJD0099887766",
         "total": "64.00", "currency": "EUR", "placed_at": "2026-11-20T10:00:00+01:00",
         "items": [{"sku": "LMP", "name": "Brass desk lamp", "qty": 1, "unit_price": "64.00"}], "invoice": None},
        {"id": "PX-7790", "customer_ref": "k-1", "status": "paid", "total": "19.00", "currency": "EUR",
         "placed_at": "2026-11-27T10:00:00+01:00",
         "items": [{"sku": "INK", "name": "Ink cartridge", "qty": 2, "unit_price": "9.50"}], "invoice": None},
    ],
}  # fmt: skip


@pytest.fixture
def other_shop(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    for name, text in ARTICLES.items():
        (kb / f"{name}.md").write_text(text, encoding="utf-8")
    (tmp_path / "orders.json").write_text(json.dumps(ORDERS), encoding="utf-8")
    with session_scope() as s:
        seed_orders(s, tmp_path / "orders.json")
        seed_articles(s, kb)


@pytest.mark.parametrize(
    ("text", "locale", "said", "not_said"),
    [
        ("I changed my mind about the lamp, how many days do I have to send it back?", "en", "45 days", "120"),
        ("The lamp stopped working after five weeks, what now?", "en", "120 days", "45"),
        ("不想要了，多少天内可以退？", "zh", "45 天", "120"),
        ("台灯坏了，还能售后吗？", "zh", "120 天", "45"),
    ],
)
def test_the_window_that_applies_is_the_one_stated(client, other_shop, text, locale, said, not_said):
    reply = ask(client, open_conversation(client, "k-1", locale=locale), text).json()["reply"]
    assert reply["status"] == "sent", reply["scores"]["reasons"]
    assert said in reply["text"] and not_said not in reply["text"]


def test_cancelling_depends_on_the_orders_status(client, other_shop):
    reply = ask(client, open_conversation(client, "k-1"), "Please cancel order PX-7781").json()["reply"]
    assert reply["status"] == "sent", reply["scores"]["reasons"]
    assert "shipped" in reply["text"].lower() and "refuse the delivery" in reply["text"]


def test_a_policy_reply_without_the_time_limit_is_held(client, other_shop):
    """The shop has no article on delivery times: no reply states one, so none goes out on its own."""
    reply = ask(client, open_conversation(client, "k-1"), "How many days does delivery take?").json()["reply"]
    assert reply["status"] == "pending_review"


@pytest.mark.parametrize(
    ("text", "locale", "said"),
    [
        ("直播间现在比我买的便宜，能退差价吗", "zh", "以下情况不参与：拼团价、直播专享价"),
        ("the lamp is cheaper in your livestream now, can I get the difference back?", "en",
         "Not covered: Group-buy and livestream prices"),
    ],
)  # fmt: skip
def test_a_question_naming_an_excluded_case_gets_the_exclusion(client, other_shop, text, locale, said):
    """A list item is quoted with the sentence that introduces it; the question names the item."""
    conversation = open_conversation(client, "k-1", locale)
    reply = ask(client, conversation, text).json()["reply"]
    assert said in reply["text"], reply


def test_a_plain_price_drop_question_gets_the_window_not_an_exclusion(client, other_shop):
    conversation = open_conversation(client, "k-1", "zh")
    reply = ask(client, conversation, "台灯降价了，能退差价吗").json()["reply"]
    assert "5 天" in reply["text"] and "不参与" not in reply["text"].split("。")[0], reply
