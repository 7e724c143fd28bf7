"""What a reply says once the question names a case: the table row for the place asked about, what a warranty
gives after the fault window, an exclusion of other shops' prices not applied to the shop's own, the price a
customer writes with a decimal comma, and the amount a cancellation refunds.

The articles and orders are written here for the test (a garden-tools shop), not taken from any shop the
rules were tuned on.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.grounding.facts import OrderFact, RuleFact
from app.grounding.intents import detect_intents
from app.grounding.policies import PolicyIndex, excludes_asked, item_names, passages
from app.grounding.rules import price_drop
from app.llm.composer import compose
from app.models import PolicyArticle

SHIPPING = PolicyArticle(
    id="shipping-zh",
    title="配送说明",
    locale="zh",
    version=1,
    body=(
        "## 国内订单\n\n"
        "| 配送方式 | 发货后时效 | 运费 | 包邮条件 |\n|---|---|---|---|\n"
        "| 韵达快递（标准） | 2–4天 | ¥8 | 满 ¥99 包邮 |\n"
        "| 大件（割草机、梯子）德邦物流 | 3–6天 | 包邮 | — |\n"
        "| 偏远地区：西藏、新疆、青海、宁夏、内蒙古（EMS） | 5–8天 | 统一 ¥20 | 不参与包邮；大件发偏远地区请先咨询 |\n"
    ),
)
WARRANTY = PolicyArticle(
    id="warranty-en",
    title="Faults and warranty",
    locale="en",
    version=1,
    body=(
        "## First 15 days\n\nIf a tool arrives faulty or stops working within 15 days of delivery, we refund it.\n\n"
        "Send us a photo or a short video of the fault with your order number.\n\n"
        "We pay the return shipping of a faulty tool.\n\n"
        "## After 15 days: warranty\n\n"
        "After the first 15 days a fault is covered by our warranty.\n\n"
        "We then repair the tool, or replace it if it can't be repaired.\n\n"
        "| Product | Warranty |\n|---|---|\n| Cordless mowers | 3 years |\n| Hand tools | 1 year |\n\n"
        "## What the warranty doesn't cover\n\n- blades worn by use\n- tools repaired by someone else\n"
    ),
)
PRICES = PolicyArticle(
    id="price-protection-en",
    title="Price protection",
    locale="en",
    version=1,
    body=(
        "If we lower the price of an item on our own shop within 10 days of your order, we refund the difference.\n\n"
        "**Not covered:**\n\n- flash sales\n"
        "- prices at other shops or marketplaces (we don't price-match competitors)\n"
    ),
)
CANCEL = PolicyArticle(
    id="cancel-en",
    title="Cancelling an order",
    locale="en",
    version=1,
    body="| Status | Can it be cancelled? | What happens |\n|---|---|---|\n"
    "| Paid | Yes | We cancel it and you get a full refund within a day. |\n"
    "| Shipped | No | Refuse the parcel or return it instead. |\n",
)
INDEX = PolicyIndex([SHIPPING, WARRANTY, PRICES, CANCEL])


def _order(status: str, *goods: tuple[str, str], total: str = "129.00") -> OrderFact:
    items: list[dict[str, Any]] = [{"name": n, "qty": 1, "unit_price": p} for n, p in goods]
    return OrderFact("GT-5521", status, total, "EUR", "2026-10-01T10:00:00+00:00", items=items)


def _facts(question: str, lang: str, order: OrderFact | None = None) -> list[Any]:
    orders = [order] if order else []
    found = passages(INDEX, question, lang, 3, [o.status for o in orders], [item_names(orders)])
    return [*orders, *found]


def test_the_row_for_the_place_the_customer_names_comes_first():
    question = "想给乌鲁木齐的朋友寄一把剪刀 新疆包邮吗？大概几天能到"
    composition = compose(detect_intents(question), _facts(question, "zh"), "zh", question)
    assert composition is not None
    quoted = composition.text.split("》：", 1)[1]
    assert quoted.startswith("配送方式：偏远地区：西藏、新疆"), composition.text


@pytest.mark.parametrize(
    "question",
    [
        "the mower suddenly doesnt cut anymore, battery is fully charged. what now?",
        "the hedge trimmer does nothing when I press the trigger",
        "my leaf blower isn't blowing anymore",
    ],
)
def test_a_fault_said_without_a_listed_word_is_a_fault(question):
    assert detect_intents(question)[:1] == ["return"], detect_intents(question)


def test_a_full_battery_is_no_refund_question_and_a_double_charge_still_is():
    assert "refund" not in detect_intents("the battery is fully charged but the mower won't start")
    assert detect_intents("I was charged twice for GT-5521")[:1] == ["refund"]
    # And a change of mind is still no fault: "doesn't fit anymore" is about the customer, not the tool.
    assert "quality" not in " ".join(detect_intents("the gloves don't fit anymore, can I send them back?"))


def test_after_the_fault_window_the_reply_says_what_the_warranty_gives():
    order = _order("delivered", ("Cordless mower 40V", "129.00"))
    question = "my cordless mower from GT-5521 stopped working, is it still under warranty?"
    window = RuleFact("quality_window_days", "GT-5521", 15, "delivery", "2026-10-03", "2026-10-18", open=False)
    composition = compose(detect_intents(question), [*_facts(question, "en", order), window], "en", question)
    assert composition is not None
    assert "3 years" in composition.text, composition.text
    assert "We then repair the tool, or replace it" in composition.text, composition.text
    assert "repaired by someone else" not in composition.text, composition.text


def test_other_shops_prices_are_not_an_exclusion_of_the_shops_own_price():
    question = "bought the shears for 24,99 and now they're 19,99 on your site, do you price match?"
    excluded = next(f for f in _facts(question, "en") if "other shops" in f.text)
    assert not excludes_asked(excluded, question)
    assert excludes_asked(excluded, "Amazon has it for 19.99, will you price match another shop?")


def test_a_price_written_with_a_decimal_comma_is_read_as_a_price():
    order = _order("delivered", ("Pruning shears", "24.99"), total="24.99")
    assert price_drop("bought the shears for 24,99 and now they're 19,99", order) == ("Pruning shears", "19.99", "5.00")
    # A thousands separator is not a decimal comma.
    assert price_drop("paid 1,299 for them", order) is None


def test_a_cancellation_refunded_in_full_says_how_much_comes_back():
    order = _order("paid", ("Cordless mower 40V", "129.00"))
    question = "can you cancel GT-5521? ordered the wrong one"
    composition = compose(detect_intents(question), _facts(question, "en", order), "en", question)
    assert composition is not None
    assert "can be cancelled, and the 129.00 EUR you paid is refunded in full" in composition.text, composition.text
    shipped = _order("shipped", ("Cordless mower 40V", "129.00"))
    composition = compose(detect_intents(question), _facts(question, "en", shipped), "en", question)
    assert composition is not None and "129.00" not in composition.text, composition.text
