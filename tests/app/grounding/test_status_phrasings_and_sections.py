"""How customers ask where an order is without the usual words, and passages that speak for a status or a
currency through their section's heading only.

The articles and orders are written here for the test (a bicycle-parts shop), not taken from any shop the
rules were tuned on.
"""

from __future__ import annotations

import pytest

from app.chat.turn import answer_key
from app.grounding.facts import OrderFact, PolicyFact
from app.grounding.intents import detect_aspects, detect_intents
from app.grounding.policies import PolicyIndex, in_currency, item_names, passages
from app.llm.composer import compose
from app.models import PolicyArticle
from moderation.eligibility import supplies


@pytest.mark.parametrize(
    "question",
    [
        "the saddle from BP-3310, has that gone out yet? it's a present",
        "the bell I ordered for my niece, is it on its way?",
        "hello, the pedals for my son.. has it been sent??",
        "ordered a chain last night, just checking it went through ok and when it ships?",
        "it's my brother's order, he asked me to find out when it arrives",
        "车灯在路上了吗",
        "昨天买的脚踏寄出去了吗",
    ],
)
def test_a_status_question_in_other_words_is_a_status_question(question):
    assert detect_intents(question)[:1] == ["order_status"], detect_intents(question)


@pytest.mark.parametrize(
    "question",
    ["the light went out after a week", "can it be sent to my work address instead?"],
)
def test_words_that_only_look_like_a_status_question_are_not_one(question):
    assert detect_intents(question)[:1] != ["order_status"], detect_intents(question)


def test_other_questions_without_their_usual_words():
    # a price drop told as a story, ending in the difference
    said = "paid 49.99 for the wheelset on the 2nd, two days later it was 39.99 in your deal. can i get the 10 back?"
    assert detect_intents(said)[:1] == ["price_protection"]
    assert detect_intents("can I get my 20 euros back? I returned it")[:1] != ["price_protection"]
    assert detect_intents("刚收到的骑行服 袖子那里线开了 怎么处理")[:1] == ["return"]


ADDRESS = PolicyArticle(
    id="address-en",
    title="Changing the delivery address",
    locale="en",
    version=1,
    body=(
        "## Before it ships\n\nWhile your order is paid or processing we can change the address for you.\n\n"
        "## After the order has shipped\n\n"
        "We can't change the address any more, the parcel is with the carrier.\n\n"
        "Most carriers let you pick a pickup point near the new address in their app.\n"
    ),
)


def test_a_passage_that_speaks_for_the_status_through_its_heading_is_quoted_under_it():
    order = OrderFact("BP-3310", "shipped", "59.00", "EUR", "2026-12-01T10:00:00+00:00", items=[{"name": "Saddle"}])
    question = "can you change the address on BP-3310 to my work address?"
    found = passages(PolicyIndex([ADDRESS]), question, "en", 3, ["shipped"], [item_names([order])])
    facts = [order, *found]
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None
    assert "After the order has shipped: We can't change the address any more" in composition.text, composition.text
    # The decision stage reads the passage with its heading too: the reply says what applies to the status.
    assert supplies(composition.text, answer_key(detect_intents(question), question, facts)) == []


def test_a_passage_priced_by_its_heading_speaks_for_that_currency():
    row = PolicyFact(
        "shipping-en",
        "Shipping",
        "Service: bulky items by freight; Cost: free.",
        5,
        1.0,
        "en",
        1,
        "Mainland China (CNY)",
    )
    assert in_currency(row, {"CNY"})
    assert not in_currency(row, {"EUR"})
    # What the text names decides before the heading: "€15 per item" under a CNY heading is for EUR.
    priced = PolicyFact("shipping-en", "Shipping", "Bulky items: €15 per item.", 6, 1.0, "en", 1, "China (CNY)")
    assert in_currency(priced, {"EUR"})


@pytest.mark.parametrize(
    ("question", "intent", "aspect"),
    [
        ("can u check my order, the knife set. whens it coming", "order_status", None),
        ("my watch is losing 2 min a day, bought it in september. is this covered?", "return", "quality"),
        ("opened the earrings and tried them once, dont love them. can they go back?", "return", "change_of_mind"),
    ],
)
def test_shorthand_for_where_it_is_a_warranty_claim_and_a_change_of_mind(question, intent, aspect):
    assert detect_intents(question)[:1] == [intent], detect_intents(question)
    if aspect:
        assert aspect in detect_aspects(question), detect_aspects(question)
    # "covered" by price protection stays a price-protection question
    assert "quality" not in detect_aspects("is this covered by price protection?")
