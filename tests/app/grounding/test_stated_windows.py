"""A limit the shop's article states is applied to the customer's order when the shop set no structured rule.

The articles are written here for the test (a sporting-goods shop), not taken from any shop the rules were
tuned on. Nothing here touches the database: retrieval and rules are pure functions of their inputs.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.grounding.dates import delivered_said
from app.grounding.facts import OrderFact, PolicyFact, RuleFact
from app.grounding.intents import ASKS_WINDOW, detect_aspects, detect_intents
from app.grounding.policies import PolicyIndex, passages, states_issuing_time
from app.grounding.rules import apply_rules, price_drop, stated_window
from app.llm.composer import compose
from app.models import PolicyArticle
from app.shop.rules import ShopRules

TODAY = date(2026, 12, 6)
PRICE = PolicyArticle(
    id="price-en",
    title="Price match",
    locale="en",
    version=1,
    body=(
        "Found it cheaper with us after you bought it? We pay back the gap.\n\n"
        "## Conditions\n\n- Ask within **10 days of purchase**; after that the match ends.\n"
        "- Only our own prices count.\n\n"
        "## How the gap is paid back\n\nThe gap goes back to your card within 2–4 business days.\n"
    ),
)
PRICE_ZH = PolicyArticle(
    id="price-zh",
    title="价格保护",
    locale="zh",
    version=1,
    body="## 规则\n\n购买后 10 天内降价可申请退差价。\n\n## 差价怎么退\n\n差价 2-4 个工作日退回原支付账户。\n",
)
RETURNS = PolicyArticle(
    id="returns-en",
    title="Returns",
    locale="en",
    version=1,
    body="Unused gear can be returned within 2 weeks of delivery, for any reason. Pack it in its original box.\n",
)


def _order(status: str = "delivered", placed: str = "2026-11-01T09:00:00+00:00", delivered: str | None = None):
    return OrderFact("SG-77120", status, "89.00", "USD", placed, delivered_at=delivered)


def _facts(question: str, lang: str = "en") -> list:
    return passages(PolicyIndex([PRICE, PRICE_ZH, RETURNS]), question, lang)


def _rules(question: str, order: OrderFact, lang: str = "en") -> list:
    facts = [order, *_facts(question, lang)]
    return apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, TODAY, question)


def test_a_can_i_question_retrieves_the_deadline_even_when_other_passages_share_its_words():
    texts = [f.text for f in _facts("the tent is cheaper now, can you pay back the gap?")]
    assert any("10 days of purchase" in t for t in texts), texts


@pytest.mark.parametrize(
    ("question", "lang"),
    [("SG-77120: the tent is cheaper now, can you pay back the gap?", "en"), ("SG-77120 降价了，能退差价吗", "zh")],
)
def test_the_articles_own_limit_gives_this_orders_verdict(question, lang):
    (closed,) = _rules(question, _order(placed="2026-11-01T09:00:00+00:00"), lang)
    assert isinstance(closed, RuleFact) and (closed.days, closed.since, closed.until, closed.open) == (
        10,
        "order",
        "2026-11-11",
        False,
    )
    (still,) = _rules(question, _order(status="paid", placed="2026-12-01T09:00:00+00:00"), lang)
    assert (still.until, still.open) == ("2026-12-11", True)
    reply = compose(detect_intents(question), [_order(), *_facts(question, lang), closed], lang, question)
    assert reply is not None and "2026-11-11" in reply.text, reply


def test_weeks_count_from_delivery_and_an_unrecorded_delivery_gives_no_verdict():
    question = "can I still return order SG-77120? changed my mind"
    (fact,) = _rules(question, _order(delivered="2026-11-30T10:00:00+00:00"))
    assert (fact.days, fact.since, fact.until, fact.open) == (14, "delivery", "2026-12-14", True)
    (waiting,) = _rules(question, _order(status="shipped"))
    assert waiting.start is None  # on its way: the two weeks have not started
    assert _rules(question, _order()) == []  # delivered, but nobody recorded when: no verdict, never "not yet"


def test_no_verdict_from_several_limits_business_days_or_an_exclusion():
    order = _order(placed="2026-11-01T09:00:00+00:00")
    two = [
        PolicyFact("a", "Returns", "Clothes within 30 days of delivery.", 0, 5.0, "en"),
        PolicyFact("a", "Returns", "Shoes within 14 days of delivery.", 1, 4.0, "en"),
    ]
    assert stated_window([order, *two]) == (30, "delivery")  # the best passage's own limit
    sections = [
        PolicyFact("a", "Returns", "Within 30 days of delivery.", 0, 5.0, "en", condition="Clothes"),
        PolicyFact("a", "Returns", "Within 14 days of delivery.", 1, 4.0, "en", condition="Shoes"),
    ]
    assert stated_window([order, *sections], "can I return it?") is None  # which applies: the composer lists
    assert stated_window([order, *sections], "can I return these shoes?") == (14, "delivery")
    several = [PolicyFact("a", "Returns", "Send it back to us.", 0, 5.0, "en"), *two]
    assert stated_window([order, *several]) is None  # the best states none, the others differ
    business = [PolicyFact("b", "Price match", "Ask within 5 business days of purchase.", 0, 5.0, "en")]
    assert stated_window([order, *business]) is None
    excluded = [PolicyFact("c", "Final sale", "Cannot be returned within 30 days of delivery.", 0, 5.0, "en")]
    assert stated_window([order, *excluded]) is None
    one = [PolicyFact("d", "退货", "签收后 7 天内可无理由退货。", 0, 5.0, "zh")]
    assert stated_window([order, *one]) == (7, "delivery")


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("got it on Nov 24, still sealed", "2026-11-24", "2026-11-24"),
        ("it arrived on the 3rd of November", "2026-11-03", "2026-11-03"),
        ("it came end of october", "2026-10-21", "2026-10-31"),
        ("received them like 3 weeks ago", "2026-11-12", "2026-11-18"),
        ("arrived yesterday", "2026-12-05", "2026-12-05"),
        ("前两天刚签收的", "2026-12-01", "2026-12-05"),
        ("11月20号签收的，能退吗", "2026-11-20", "2026-11-20"),
        ("收到一个多月了", "2026-10-17", "2026-11-06"),
        ("10月底收到的", "2026-10-21", "2026-10-31"),
    ],
)
def test_when_the_customer_says_it_arrived(text, earliest, latest):
    assert delivered_said(text, TODAY) == (date.fromisoformat(earliest), date.fromisoformat(latest))


@pytest.mark.parametrize(
    "text", ["I ordered it last week", "10月初买的防晒", "can I return order SG-77120?", "the sale ends nov 30"]
)
def test_a_time_not_said_of_the_arrival_is_not_a_delivery_date(text):
    assert delivered_said(text, TODAY) is None


def test_the_customers_own_date_gives_a_verdict_only_where_it_is_certain():
    order = _order()  # delivered, on a date the shop did not record
    (closed,) = _rules("it came end of october, can I still return it? changed my mind", order)
    assert closed.said and (closed.open, closed.until) == (False, "2026-11-14")
    (still,) = _rules("got it on Dec 1, can I return it? changed my mind", order)
    assert (still.open, still.until) == (True, "2026-12-15")
    assert _rules("it arrived in late november, can I still return it? changed my mind", order) == []  # open or closed
    reply = compose(["return"], [order, *_facts("can I return it?"), closed], "en", "can I return it?")
    assert reply is not None and "You said order SG-77120 arrived between 2026-10-21 and 2026-10-31" in reply.text
    zh = compose(["return"], [order, closed], "zh", "能退吗")
    assert zh is not None and "您说订单 SG-77120 于 2026-10-21 至 2026-10-31 之间 签收" in zh.text, zh.text


def test_an_undated_delivery_is_open_at_least_as_long_as_counted_from_the_order():
    question = "can I still return order SG-77120? changed my mind"
    (fact,) = _rules(question, _order(placed="2026-11-28T09:00:00+00:00"))
    assert fact.at_least and (fact.open, fact.until) == (True, "2026-12-12")
    reply = compose(["return"], [_order(placed="2026-11-28T09:00:00+00:00"), fact], "en", question)
    assert reply is not None and "at least until 2026-12-12" in reply.text
    assert _rules(question, _order(placed="2026-11-01T09:00:00+00:00")) == []  # could be either: no verdict


INVOICES = PolicyArticle(
    id="invoices-en",
    title="Invoices",
    locale="en",
    version=1,
    body=(
        "## Company invoices\n\n"
        "A wrong company name can be corrected within 14 days of the invoice date.\n"
        "You can request a company invoice within 6 months of delivery.\n"
        "We email the PDF within 3 business days.\n"
    ),
)
INVOICES_ZH = PolicyArticle(
    id="invoices-zh",
    title="发票",
    locale="zh",
    version=1,
    body="抬头填错的，开票后 14 天内可换开一次。\n签收后 2 个月内可申请补开发票。\n申请后 3 个工作日内开具。\n",
)


def _invoice_turn(question: str, order: OrderFact, lang: str = "en") -> tuple[list, str]:
    facts = [order, *passages(PolicyIndex([INVOICES, INVOICES_ZH]), question, lang)]
    rules = apply_rules(ShopRules(), detect_intents(question), [], facts, TODAY, question)
    reply = compose(detect_intents(question), [*facts, *rules], lang, question)
    assert reply is not None
    return rules, reply.text


def test_an_invoice_request_gets_the_request_deadline_for_the_order_and_how_long_issuing_takes():
    order = _order(delivered="2026-11-20T10:00:00+00:00")
    (window,), text = _invoice_turn("Can I get a company invoice for order SG-77120?", order)
    assert (window.rule, window.days, window.since, window.until, window.open) == (
        "invoice_window_days",
        182,  # six months, counted as 365/12 days each
        "delivery",
        "2027-05-21",
        True,
    )
    assert "6 months of delivery" in text and "3 business days" in text, text
    assert "corrected within 14 days" not in text, text  # the deadline to request, not to correct


def test_a_closed_invoice_window_says_no_invoice_can_be_issued_in_chinese():
    order = _order(delivered="2026-09-01T10:00:00+00:00")
    (window,), text = _invoice_turn("SG-77120 还能补开发票吗", order, "zh")
    assert (window.days, window.until, window.open) == (61, "2026-11-01", False)
    assert "已无法再为该订单开具发票" in text, text


def test_no_invoice_window_for_an_order_that_has_an_invoice_or_was_cancelled():
    question = "Can I get an invoice for order SG-77120?"
    cancelled = _order(status="cancelled", delivered=None)
    assert _invoice_turn(question, cancelled)[0] == []
    invoiced = OrderFact(
        "SG-77120",
        "delivered",
        "89.00",
        "USD",
        "2026-11-01T09:00:00+00:00",
        invoice_number="IN-1",
        invoice_issued_at="2026-11-02T00:00:00+00:00",
    )
    assert _invoice_turn(question, invoiced)[0] == []


def test_what_can_no_longer_be_done_is_not_how_long_issuing_takes():
    assert states_issuing_time("We issue the invoice within 3 business days of your request.")
    assert not states_issuing_time("After 60 days we can no longer issue an invoice for that order.")
    assert not states_issuing_time("超过 60 天后不再开具发票。")


@pytest.mark.parametrize(
    "text",
    [
        "the retract button snapped off after a week",
        "the seam ripped the first time my dog pulled",
        "the lid came off and the handle fell off",
        "the camera won't turn on any more",
        "the mower won't even start",
        "the heater doesn't properly heat the room",
        "把手断了，能换吗",
        "外壳开裂了",
    ],
)
def test_things_that_break_are_a_fault(text):
    assert "quality" in detect_aspects(text)


def test_a_fault_with_refund_or_replacement_is_a_claim_and_a_refund_under_way_is_not():
    assert detect_intents("the button snapped off (PC-1). can I get a replacement or refund?")[0] == "return"
    assert detect_intents("the lid snapped off. it arrived on Oct 7. a replacement or refund?")[0] == "return"
    assert detect_intents("退款什么时候到账？碗是坏的")[0] == "refund"  # a refund under way: its timing
    assert detect_intents("has the refund arrived yet? the kettle lid snapped off")[0] == "refund"


@pytest.mark.parametrize(
    ("question", "lang", "said"),
    [
        ("I bought the tent (SG-77120) at 89 on Dec 1, it's 74.50 now, can I get the price difference back?", "en",
         "At the 74.50 you mention, the difference for Trail Tent 2P is 14.50."),
        ("12月1号89买的帐篷 SG-77120，今天降到74.5了，能退差价吗", "zh",
         "按您说的现价 74.50 计算，Trail Tent 2P 的差价为 14.50。"),
    ],
)  # fmt: skip
def test_the_price_the_customer_says_it_costs_now_gives_the_difference(question, lang, said):
    order = OrderFact(
        "SG-77120", "delivered", "89.00", "USD", "2026-12-01T09:00:00+00:00",
        items=[{"name": "Trail Tent 2P", "qty": 1, "unit_price": "89.00"}],
    )  # fmt: skip
    facts = [order, *_facts(question, lang)]
    facts += apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, TODAY, question)
    composition = compose(detect_intents(question), facts, lang, question)
    assert composition is not None and said in composition.text, composition


def test_no_difference_without_a_lower_price_for_one_clear_item():
    two = OrderFact(
        "SG-1", "paid", "250.00", "USD", "2026-12-01T09:00:00+00:00",
        items=[{"name": "Stove", "qty": 1, "unit_price": "150.00"}, {"name": "Pot", "qty": 1, "unit_price": "100.00"}],
    )  # fmt: skip
    assert price_drop("the stove I paid 150 for is 120 now", two) == ("Stove", "120.00", "30.00")
    assert price_drop("it's 80 now", two) is None  # which item?
    assert price_drop("the stove is cheaper now", two) is None  # no price said
    assert price_drop("SG-1 dropped to 12 on 12月3号", two) is None  # a fifth of the price or less: not a price


@pytest.mark.parametrize("text", ["store credit or card, which one's quicker?", "how soon would I see it?", "哪个快？"])
def test_which_is_quicker_asks_a_time_limit(text):
    assert ASKS_WINDOW.search(text)  # so the reply must state one, or a person answers


def test_a_fault_is_answered_by_the_fault_window_never_a_return_for_any_reason():
    faults = PolicyArticle(
        id="faults-en",
        title="Faulty items",
        locale="en",
        version=1,
        body=(
            "## Report within 45 days\n\n"
            "Tell us within 45 days of delivery and you choose a replacement or a refund.\n\n"
            "## After 45 days\n\nStoves carry a 12-month warranty: we repair them.\n"
        ),
    )
    question = "the stove from SG-77120 just died, no flame at all. it was delivered on Nov 20. what are my options?"
    order = OrderFact("SG-77120", "delivered", "89.00", "USD", "2026-11-10T09:00:00+00:00", items=[{"name": "Stove"}])
    facts = [order, *passages(PolicyIndex([faults]), question, "en", 3, ["delivered"], ["Stove"])]
    assert any("within 45 days of delivery" in f.text for f in facts[1:])  # a claim's deadline, asked or not
    rules = apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, TODAY, question)
    assert [(r.rule, r.until, r.open) for r in rules] == [("quality_window_days", "2027-01-04", True)]
    composition = compose(detect_intents(question), [*facts, *rules], "en", question)
    assert (
        composition is not None
        and "within the 45 days of delivery: you can still return or exchange it for a quality problem until 2027-01-04"
        in composition.text
    )
