"""An exclusion that names every good of the order by its kind (the shop's item tags), delivery charges that
are no goods, and the asked thing read before the reason given.

The articles and orders are written here for the test (a garden shop), not taken from any shop the rules
were tuned on.
"""

from __future__ import annotations

from typing import Any

from app.grounding.facts import OrderFact
from app.grounding.intents import detect_aspects, detect_intents
from app.grounding.policies import PolicyIndex, is_charge, item_names, passages
from app.llm.composer import compose
from app.models import PolicyArticle

RETURNS = PolicyArticle(
    id="returns-en",
    title="Returns",
    locale="en",
    version=1,
    body="Most things can come back within 14 days of delivery for a refund, no reason needed.\n",
)
CANT = PolicyArticle(
    id="cant-en",
    title="What we can't take back",
    locale="en",
    version=1,
    body=(
        "Some things can't be resold once they have left us.\n\n"
        "The items below can't be returned for a change of mind:\n\n"
        "- Live plants of every kind: houseplants, shrubs, fruit trees.\n"
        "- Made-to-order furniture, built to your size.\n"
        "- Potting mix and fertiliser once opened.\n"
    ),
)
RETURNS_ZH = PolicyArticle(
    id="returns-zh",
    title="无理由退货",
    locale="zh",
    version=1,
    body=("绝大多数商品签收后 14 天内可以无理由退货。\n\n以下商品不支持无理由退货：绿植、种子、定制家具、清仓商品。\n"),
)
FAULTS = PolicyArticle(
    id="faults-en",
    title="Faulty products",
    locale="en",
    version=1,
    body=(
        "## First 30 days\n\nTell us within 30 days of delivery and we replace or refund it.\n\n"
        "## After 30 days: warranty\n\nFrom day 31, faults are handled under our warranty.\n\n"
        "| Product type | Warranty |\n|---|---|\n"
        "| Hedge trimmers and lawn mowers | 2 years |\n| Hand tools | 5 years |\n| Hoses | 6 months |\n"
    ),
)
FOOD = PolicyArticle(
    id="food-en",
    title="Baby food we can't take back",
    locale="en",
    version=1,
    body=(
        "These can't be returned:\n\n- Formula milk once the tin has been opened.\n\n"
        "Unopened tins can be returned within 14 days.\n"
    ),
)
INDEX = PolicyIndex([RETURNS, CANT, RETURNS_ZH, FOOD, FAULTS])


def _order(*goods: tuple[str, list[str]], status: str = "delivered") -> OrderFact:
    items: list[dict[str, Any]] = [{"name": n, "qty": 1, "tags": t} for n, t in goods]
    items.append({"name": "Delivery – standard parcel", "qty": 1, "tags": ["shipping"]})
    return OrderFact("GL-0066", status, "68.40", "NZD", "2026-12-01T10:00:00+00:00", items=items)


def _reply(question: str, order: OrderFact, lang: str = "en") -> str | None:
    facts: list[Any] = [order]
    facts += passages(INDEX, question, lang, 3, [order.status], [item_names([order])])
    composition = compose(detect_intents(question), facts, lang, question)
    return composition.text if composition else None


def test_an_exclusion_of_the_kind_of_every_good_answers_no_whatever_the_customer_calls_it():
    """ "The monstera" is a live plant by the shop's own tag; the delivery line is no good of the order."""
    order = _order(("Monstera deliciosa (20cm pot)", ["live plant"]))
    reply = _reply("the monstera turned up thursday but my flatmate already has one, can I send it back?", order)
    assert reply is not None and "So order GL-0066 can't be returned." in reply, reply
    assert "Live plants of every kind" in reply and "until" not in reply, reply


def test_an_order_with_goods_the_exclusion_does_not_name_gets_no_verdict_from_it():
    order = _order(("Monstera deliciosa", ["live plant"]), ("Glazed ceramic pot", ["planter"]))
    reply = _reply("changed my mind about order GL-0066, can I send it back?", order)
    assert reply is None or "So order GL-0066 can't be returned." not in reply, reply


def test_a_fault_in_an_excluded_good_is_not_answered_by_the_exclusion():
    order = _order(("Monstera deliciosa", ["live plant"]))
    reply = _reply("the monstera from GL-0066 arrived broken and rotten, can I send it back?", order)
    assert reply is None or "So order GL-0066 can't be returned." not in reply, reply


def test_an_exclusion_once_opened_is_not_settled_by_the_goods_kind():
    """ "Potting mix … once opened": whether it is opened decides, which the kind of the good doesn't say."""
    order = _order(("Premium potting mix 40L", ["potting mix"]))
    reply = _reply("I don't need order GL-0066 any more, can I return it?", order)
    assert reply is None or "So order GL-0066 can't be returned." not in reply, reply


def test_a_chinese_exclusion_names_the_good_inside_its_name():
    """ "定制家具" names "定制柚木餐桌"; the exclusion is quoted first, before the general 14 days."""
    order = _order(("定制柚木餐桌（180×90cm，定制款）", ["furniture", "made-to-order"]))
    reply = _reply("定做的那张柚木餐桌到了，发现有点大，想无理由退掉", order, "zh")
    assert reply is not None and "不支持退货" in reply and "可以办理至" not in reply, reply
    assert reply.index("定制家具") < reply.index("绝大多数"), reply


def test_delivery_charges_are_no_goods():
    assert is_charge({"name": "运费（德邦大件物流）"}) and is_charge({"name": "Freight – Mainfreight"})
    assert is_charge({"name": "Express", "tags": ["shipping"]})
    assert is_charge({"name": "Shipping fee"}) and is_charge({"name": "Delivery"})
    assert not is_charge({"name": "Delivery bag for bikes", "tags": ["bags"]})  # a good whose name starts so
    assert not is_charge({"name": "Hose reel cart", "tags": ["irrigation"]})
    assert item_names([_order(("Hose reel cart", ["irrigation"]))]) == "Hose reel cart irrigation"


def test_the_delivery_date_asked_for_leads_over_the_reimbursement_it_is_for():
    assert detect_intents("10月份配的那副眼镜是哪天签收的？单位报销要填个日期")[0] == "order_status"
    assert detect_intents("what date was order 1042 delivered? I need it for my expense claim")[0] == "order_status"
    assert detect_intents("can I get an invoice for order 1042?")[0] == "invoice"


def test_sending_the_box_back_is_a_return_and_money_sent_back_is_not():
    asked = "Opened the contacts and tried a pair, not for me. Can I send the box back for a refund?"
    assert detect_intents(asked)[0] == "return"
    assert detect_intents("can you send my money back?")[0] == "refund"


def test_some_of_the_goods_used_and_the_rest_not_is_for_a_person():
    """ "Opened one of the tins, can I send all three back?": neither a yes nor a no holds for the order."""
    order = _order(("Infant formula milk 800g", ["formula milk"]))
    assert _reply("We opened one of the tins and she won't drink it. Can I send all three back?", order) is None
    whole = _reply("We opened the tin and she won't drink it. Can I send it back?", order)
    assert whole is not None and "once the tin has been opened" in whole, whole


def test_a_list_after_a_colon_in_a_sentence_names_the_goods_of_its_exclusion():
    """ "以下商品不支持无理由退货：…、清仓商品": a Chinese word of the good's name or tag is enough to find it."""
    order = _order(("Crisp 4L 空气炸锅（清仓）", ["appliance", "clearance"]))
    facts = passages(INDEX, "这个空气炸锅收到了，不想要了能退吗", "zh", 3, ["delivered"], [item_names([order])])
    assert any("清仓商品" in f.text for f in facts), [f.text for f in facts]


def test_after_the_fault_window_the_term_for_the_orders_goods_is_quoted():
    order = _order(("18V Cordless Hedge Trimmer", ["power tool"]))
    question = "the hedge trimmer from GL-0066 stopped working, is it still under warranty?"
    texts = [f.text for f in passages(INDEX, question, "en", 3, [order.status], [item_names([order])])]
    hedge = next(i for i, t in enumerate(texts) if "Hedge trimmers and lawn mowers" in t)
    assert all(i > hedge for i, t in enumerate(texts) if "Hand tools" in t or "Hoses" in t), texts


def test_what_goes_wrong_with_clothes_is_a_fault_and_a_size_swap_a_return():
    assert detect_aspects("羽绒服拉链头掉了，还有点钻绒，还能售后吗？") == ["quality"]
    assert detect_aspects("鞋子开胶了") == ["quality"] and detect_aspects("the sweater is pilling already") == [
        "quality"
    ]
    assert "quality" not in detect_aspects("价格掉了好多，能保价吗")  # a price falls, nothing broke
    assert detect_intents("切尔西靴有点挤脚，能换38码吗？来回运费谁出啊")[0] == "return"
    asked = "The cardigan I bought is now on sale for $89. Can I get the difference refunded please?"
    assert detect_intents(asked)[0] == "price_protection"
