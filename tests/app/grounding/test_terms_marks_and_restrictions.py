"""Verdicts a policy gives in other shapes: a check mark in a table cell, a restriction to some statuses, a
warranty term counted from the order's delivery; and what a customer says in other words: a regret, a price
that came down by an amount, the one good of several they name.

The articles and orders are written here for the test (a kitchen-knife shop), not taken from any shop the
rules were tuned on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from app.grounding.facts import OrderFact, RuleFact
from app.grounding.intents import detect_aspects, detect_intents
from app.grounding.policies import PolicyIndex, cell_verdict, item_names, passages
from app.grounding.rules import _add_months, apply_rules, price_drop
from app.llm.composer import compose
from app.models import PolicyArticle
from app.shop.rules import ShopRules

CANCEL = PolicyArticle(
    id="cancel-en",
    title="Cancelling an order",
    locale="en",
    version=1,
    body=(
        "| Order status | Standard knives | Engraved knives |\n|---|---|---|\n"
        "| Paid | ✅ Cancel free, full refund | ✅ Cancel free, full refund |\n"
        "| Shipped | ❌ Refuse the parcel instead | ❌ Not possible |\n\n"
        "## Exceptions\n\n- Engraved knife sets can only be cancelled while the order is paid.\n"
    ),
)
WARRANTY = PolicyArticle(
    id="warranty-en",
    title="Faults and warranty",
    locale="en",
    version=1,
    body=(
        "## First 14 days\n\nIf a knife arrives faulty, tell us within 14 days of delivery for a refund.\n\n"
        "## After 14 days: warranty\n\n"
        "| Product | Warranty |\n|---|---|\n| Chef's knives | 2 years |\n| Knife sharpeners | 6 months |\n"
        "| Sharpener motors | 2 years |\n\n"
        "## What the warranty doesn't cover\n\n- Santoku knives used to cut frozen food\n"
    ),
)
RETURNS = PolicyArticle(
    id="returns-en",
    title="Returns",
    locale="en",
    version=1,
    body="Changed your mind? Return any unused knife within 30 days of delivery.\n",
)
PRICES = PolicyArticle(
    id="prices-en",
    title="Price protection",
    locale="en",
    version=1,
    body=(
        "If our price drops within 14 days of your order, we refund the difference.\n\n"
        "## Examples\n\n- Ordered on 1 March with a coupon code → the coupon price is not covered.\n"
    ),
)
INDEX = PolicyIndex([CANCEL, WARRANTY, RETURNS, PRICES])


def _order(status: str, *goods: tuple[str, str], delivered: str | None = None) -> OrderFact:
    items: list[dict[str, Any]] = [{"name": n, "qty": 1, "unit_price": p} for n, p in goods]
    total = str(sum(float(p) for _, p in goods))
    return OrderFact("KN-7781", status, total, "EUR", "2026-03-01T10:00:00+00:00", items=items, delivered_at=delivered)


def _facts(question: str, order: OrderFact) -> list[Any]:
    return [order, *passages(INDEX, question, "en", 3, [order.status], [item_names([order])])]


def test_a_check_mark_or_a_cross_in_a_cell_is_a_yes_or_a_no():
    assert cell_verdict("✅ Cancel free, full refund") == "yes"
    assert cell_verdict("❌ Not possible") == "no"
    order = _order("paid", ("Chef's knife 20 cm", "89.00"))
    question = "need to cancel KN-7781 asap, ordered the wrong one"
    composition = compose(detect_intents(question), _facts(question, order), "en", question)
    assert composition is not None and "So order KN-7781 can be cancelled" in composition.text, composition


def test_a_restriction_to_some_statuses_says_no_in_any_other():
    question = "can I still cancel the engraved knife set in KN-7781?"
    order = _order("processing", ("Engraved knife set, 3 pieces", "109.00"))
    composition = compose(detect_intents(question), _facts(question, order), "en", question)
    assert composition is not None and "So order KN-7781 can't be cancelled" in composition.text, composition
    paid = _order("paid", ("Engraved knife set, 3 pieces", "109.00"))
    composition = compose(detect_intents(question), _facts(question, paid), "en", question)
    assert composition is not None and "So order KN-7781 can be cancelled" in composition.text, composition


def test_a_regret_is_a_change_of_mind_and_a_warranty_exclusion_does_not_answer_it():
    question = (
        "bought the santoku knife in KN-7781 last week, nothing wrong with it, I just regret it. can I return it?"
    )
    assert detect_aspects(question) == ["change_of_mind"], detect_aspects(question)
    order = _order("delivered", ("Santoku knife 18 cm", "79.00"), delivered="2026-11-30T10:00:00+00:00")
    found = _facts(question, order)[1:]
    assert found and all(f.article_id == "returns-en" for f in found), [f.text for f in found]


def _sharpener_terms(question: str, today: date) -> tuple[list[Any], list[RuleFact]]:
    """The facts of a question about a sharpener delivered on 20 April, and the warranty terms the rules find."""
    order = _order("delivered", ("Electric knife sharpener", "49.00"), delivered="2026-04-20T10:00:00+00:00")
    facts = _facts(question, order)
    rules = apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, today, question)
    return [*facts, *rules], [r for r in rules if isinstance(r, RuleFact) and r.rule == "warranty_term"]


def test_past_the_fault_window_the_warranty_term_of_the_good_is_counted_from_delivery():
    question = "the sharpener from KN-7781 stopped working, is it still under warranty?"
    facts, [term] = _sharpener_terms(question, date(2026, 12, 8))
    assert (term.term, term.until, term.open) == ("6 months", "2026-10-20", False), term
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None and "ended on 2026-10-20: it is no longer covered" in composition.text, composition
    # Within it: still covered.
    assert _sharpener_terms(question, date(2026, 9, 1))[1][0].open


def test_a_part_with_a_term_of_its_own_leaves_the_term_to_a_person():
    question = "the motor of the sharpener from KN-7781 died, is the motor still under warranty?"
    assert _sharpener_terms(question, date(2026, 12, 8))[1] == []


def test_a_term_in_months_ends_on_the_same_day_or_the_months_last():
    assert _add_months(date(2026, 4, 18), 6) == date(2026, 10, 18)
    assert _add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert _add_months(date(2026, 12, 15), 24) == date(2028, 12, 15)


def test_a_price_that_came_down_by_an_amount_and_the_good_named_among_several():
    order = _order("delivered", ("Chef's knife 20 cm", "89.00"), ("Bamboo cutting board", "35.00"))
    assert price_drop("the chef's knife I bought is 79 now, can I get the difference?", order) == (
        "Chef's knife 20 cm",
        "79.00",
        "10.00",
    )
    one = _order("delivered", ("Chef's knife 20 cm", "89.00"))
    assert price_drop("官网便宜了20，能退差价吗", one) == ("Chef's knife 20 cm", "69.00", "20.00")
    assert price_drop("it's $15 cheaper now on your site", one) == ("Chef's knife 20 cm", "74.00", "15.00")


def test_a_worked_example_is_not_the_rule():
    question = "I paid 89 and now it's 79 on your site, can I get the difference refunded?"
    order = _order("delivered", ("Chef's knife 20 cm", "89.00"))
    found = _facts(question, order)[1:]
    assert found[0].text.startswith("If our price drops within 14 days"), [f.text for f in found]


INVOICES = PolicyArticle(
    id="invoices-en",
    title="Invoices",
    locale="en",
    version=1,
    body=(
        "Invoices are emailed within 3 business days of delivery.\n\n"
        "Need your company's name or VAT ID on it? Ask us within 30 days of the invoice date and we reissue it.\n"
    ),
)
INVOICES_ZH = PolicyArticle(
    id="invoices-zh",
    title="发票说明",
    locale="zh",
    version=1,
    body="签收后 3 个工作日内开具电子发票。\n\n抬头或税号填错的，开票后30天内可申请换开一次。\n",
)


def _invoiced(question: str, lang: str, today: date) -> list[Any]:
    order = _order("delivered", ("Chef's knife 20 cm", "89.00"), delivered="2026-10-18T10:00:00+00:00")
    order = replace(order, invoice_number="KN-INV-0042", invoice_issued_at="2026-10-20T09:00:00+00:00")
    found = passages(PolicyIndex([INVOICES, INVOICES_ZH]), question, lang, 3, [order.status], [item_names([order])])
    facts = [order, *found]
    return [*facts, *apply_rules(ShopRules(), detect_intents(question), [], facts, today, question)]


def test_a_change_to_an_issued_invoice_is_counted_from_its_issue_date():
    question = "can you redo the invoice for KN-7781 with my company name on it?"
    facts = _invoiced(question, "en", date(2026, 12, 8))
    [rule] = [f for f in facts if isinstance(f, RuleFact)]
    assert (rule.rule, rule.until, rule.open) == ("invoice_change_days", "2026-11-19", False), rule
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None and "so it can no longer be changed" in composition.text, composition
    # Within the 30 days it still can; and in Chinese the same.
    assert [f for f in _invoiced(question, "en", date(2026, 11, 1)) if isinstance(f, RuleFact)][0].open
    asked = "KN-7781 的发票抬头开成个人了，能换成公司抬头吗"
    composition = compose(detect_intents(asked), _invoiced(asked, "zh", date(2026, 12, 8)), "zh", asked)
    assert composition is not None and "无法再换开" in composition.text, composition
    # Asking for an invoice is not asking to change one.
    assert not [
        f for f in _invoiced("where is the invoice for KN-7781?", "en", date(2026, 12, 8)) if isinstance(f, RuleFact)
    ]


def test_a_change_window_counted_from_delivery_is_counted_from_the_orders_delivery():
    invoices = PolicyArticle(
        id="invoices-en",
        title="Invoices",
        locale="en",
        version=1,
        body=(
            "You can add or change the company name or VAT number on your invoice up to 60 days after delivery.\n\n"
            "After 60 days from delivery we can't reissue invoices, but you can still download the original.\n"
        ),
    )
    order = _order("delivered", ("Chef's knife 20 cm", "89.00"), delivered="2026-11-10T10:00:00+00:00")
    order = replace(order, invoice_number="KN-INV-0051", invoice_issued_at="2026-11-06T09:00:00+00:00")
    question = "can you put my business name on the receipt for KN-7781? need it for taxes"
    found = passages(PolicyIndex([invoices]), question, "en", 3, [order.status], [item_names([order])])
    facts = [order, *found]
    intents, aspects = detect_intents(question), detect_aspects(question)
    facts += apply_rules(ShopRules(), intents, aspects, facts, date(2026, 12, 8), question)
    [rule] = [f for f in facts if isinstance(f, RuleFact)]
    assert (rule.rule, rule.since, rule.until, rule.open) == ("invoice_change_days", "delivery", "2027-01-09", True)
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None and "you can still have it changed until 2027-01-09" in composition.text
    # The open window's reply does not quote what happens after it.
    assert "can't reissue" not in composition.text, composition
