"""The question that was asked, read from its words: which intent leads, which aspect narrows the policy, which
passage answers, and the verdict said in words.

The articles are written here for the test (a paddle-sports shop), not taken from any shop the rules were
tuned on. Nothing here touches the database: intents, retrieval, rules and the composer are pure functions.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.grounding.facts import OrderFact, PolicyFact
from app.grounding.intents import ASKS_YES_NO, detect_aspects, detect_intents
from app.grounding.policies import (
    PolicyIndex,
    amount_ranges,
    asks_deadline,
    cell_verdict,
    excludes_outright,
    in_currency,
    issuing_distance,
    passages,
    says_used,
    split_passages,
    states_deadline,
    states_money,
    title_topics,
)
from app.grounding.rules import _limits, apply_rules
from app.llm.composer import compose
from app.models import PolicyArticle
from app.shop.rules import ShopRules

TODAY = date(2026, 12, 6)


def _article(article_id: str, title: str, body: str, locale: str = "en") -> PolicyArticle:
    return PolicyArticle(id=article_id, title=title, locale=locale, version=1, body=body)


FAULTS = _article(
    "faults-en",
    "Faulty gear",
    "If something stops working, we sort it out.\n\n"
    "## Within 45 days of delivery\n\n"
    "Tell us within 45 days of delivery and choose a replacement or your money back.\n\n"
    "## After 45 days: warranty\n\nAfter the first 45 days, faults covered by the 3-year warranty are repaired "
    "free of charge; we collect the item and send it back fixed.\n",
)
PRICES = _article(
    "prices-en",
    "Price protection",
    "If the price of the same item drops within 10 days of your order, we refund the difference.\n\n"
    "## Exceptions\n\nPrice protection does not apply to:\n\n- Boxing Day deals and clearance prices\n"
    "- Bundles\n",
)
SHIPPING = _article(
    "shipping-en",
    "Shipping",
    "## Fees\n\n| Order value | Standard shipping |\n|---|---|\n| EUR orders over 60 EUR | Free |\n"
    "| EUR orders up to 60 EUR | 5 EUR |\n| CNY orders over 399 CNY | Free |\n| CNY orders up to 399 CNY | 20 CNY |\n\n"
    "Paddles ship in their own long box.\n",
)
RETURNS = _article(
    "returns-en",
    "Returns for any reason",
    "You can send unused gear back within 30 days of delivery.\n\n"
    "## How to return\n\nPrint the label and drop the parcel off within 5 days of receiving the label.\n",
)


def _order(delivered: str | None = None, currency: str = "EUR") -> OrderFact:
    return OrderFact("PD-4412", "delivered", "249.00", currency, "2026-09-01T09:00:00+00:00", delivered_at=delivered)


def _facts(question: str, *articles: PolicyArticle) -> list:
    return passages(PolicyIndex(list(articles)), question, "en")


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("the kayak came 5 days ago, never used it. Can I still send it back for a refund?", "return"),
        ("I want to return it and get a refund", "return"),
        ("I returned the paddle last week, how much will the refund be?", "refund"),
        ("I sent it back on Monday and still no refund", "refund"),
        ("桨我已经寄回去了，能退我多少钱？", "refund"),
        ("Why was I charged 5 EUR shipping? What's the minimum for free shipping?", "shipping"),
        ("I was charged twice for one order", "refund"),
        # What is asked for decides, not the reason given: the tracking number, "for my company's expenses".
        ("尾号3301那单的快递单号能发我吗？报销要用", "order_status"),
        ("can you send me the tracking number? need it to get reimbursed", "order_status"),
        ("发票开了吗？顺便把快递单号发我", "invoice"),
        # A cancel already made and the money asked after: the refund's progress.
        ("I cancelled the tent last month. Did the money actually go back to my card?", "refund"),
        ("cancel it please, will I get the money back?", "cancel"),
    ],
)
def test_which_intent_leads(text, lead):
    assert detect_intents(text)[:1] == [lead], detect_intents(text)


@pytest.mark.parametrize(
    ("text", "has", "lacks"),
    [
        ("I haven't even opened the box, can I return it?", "change_of_mind", "exclusion"),
        ("it's still in its box, never used", "change_of_mind", "exclusion"),
        ("包装还没拆封，一次都没用过，能退吗", "change_of_mind", "exclusion"),
        ("I opened the dry bag and the seam leaks", "quality", "change_of_mind"),
        ("can I return an opened tube of sealant?", "exclusion", "change_of_mind"),
        ("气泵用到一半就自己停了", "quality", "change_of_mind"),
        ("充气以后压力一直上不去", "quality", "change_of_mind"),
        ("the pump keeps cutting out", "quality", "change_of_mind"),
        ("what's the minimum order for free delivery?", "free_shipping", "quality"),
    ],
)
def test_aspects_read_negations_and_faults(text, has, lacks):
    aspects = detect_aspects(text)
    assert has in aspects and lacks not in aspects, aspects


def test_a_fault_said_without_a_listed_word_is_a_return_claim():
    assert detect_intents("PD-4412 的气泵,10月5号签收的,最近充气压力一直上不去,怎么处理?")[0] == "return"
    assert "return" not in detect_intents("物流停了好几天了，到哪了")  # the tracking stopped, not the item


def test_still_within_asks_yes_or_no():
    assert ASKS_YES_NO.search("Am I still within the return period?")
    assert ASKS_YES_NO.search("is the board still returnable?")
    assert not ASKS_YES_NO.search("how do I send back something this heavy")


def test_a_table_cell_that_answers_per_case_has_the_verdict_its_cases_share():
    assert cell_verdict("Custom paddles: no. Other items: no, but you can return them after delivery") == "no"
    assert cell_verdict("定制桨：不可以；其他商品：不可以") == "no"
    assert cell_verdict("Custom paddles: no. Other items: yes") == ""
    assert cell_verdict("No — use a return instead") == "no"


def test_a_limit_counted_from_receiving_a_label_is_not_a_return_window():
    text = "Print the label and drop the parcel off within 5 days of receiving the label."
    assert _limits(text) == set() and not states_deadline(text)
    assert _limits("Send it back within 30 days of receiving your order.") == {(30, "delivery")}
    question = "PD-4412 arrived Nov 20, never used it. Can I still send it back?"
    rules = apply_rules(
        ShopRules(),
        detect_intents(question),
        detect_aspects(question),
        [_order(), *_facts(question, RETURNS)],
        TODAY,
        question,
    )
    assert [(r.days, r.open) for r in rules] == [(30, True)]


def test_a_fault_after_its_window_is_answered_with_what_the_policy_offers_after_it():
    question = "PD-4412: the pump arrived Oct 1 and now it won't turn on. What can you do?"
    order = _order()
    facts = [order, *_facts(question, FAULTS, RETURNS)]
    rules = apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, TODAY, question)
    assert [(r.rule, r.days, r.open) for r in rules] == [("quality_window_days", 45, False)]
    reply = compose(detect_intents(question), [*facts, *rules], "en", question)
    assert reply is not None and "warranty" in reply.text and "repaired" in reply.text, reply


def test_an_excluded_circumstance_the_question_names_is_a_no_in_words():
    question = "PD-4412 was bought in the Boxing Day deals and is cheaper now. Can I get the difference back?"
    facts = [_order(), *_facts(question, PRICES)]
    reply = compose(detect_intents(question), facts, "en", question)
    assert reply is not None and "Boxing Day" in reply.text and "can't refund the difference" in reply.text, reply
    plain = "PD-4412 is cheaper now. Can I get the difference back?"
    reply = compose(detect_intents(plain), [_order(), *_facts(plain, PRICES)], "en", plain)
    assert reply is None or "can't refund the difference" not in reply.text, reply


def test_the_topics_own_name_is_no_excluded_circumstance():
    """ "可以价保吗" names price protection itself, which every line of "什么情况不能价保？" says too."""
    article = _article(
        "pp-zh",
        "价格保护",
        "下单之日起10天内降价可以申请退还差价。\n\n**什么情况不能价保？**\n\n- 大促活动期间的降价\n- 秒杀商品\n",
        "zh",
    )
    rows = [
        PolicyFact("pp-zh", "价格保护", p.text, p.index, 1.0, "zh", condition=p.heading)
        for p in split_passages(article)
    ]
    assert not any(excludes_outright(f, "11月26号买的，今天降到239了，可以价保吗？") for f in rows)
    assert any(excludes_outright(f, "秒杀买的也可以价保吗？") for f in rows)


def test_fee_rows_in_the_customers_currency_are_quoted():
    question = "PD-4412: why was I charged 5 EUR shipping? What's the minimum for free shipping?"
    facts = _facts(question, SHIPPING, RETURNS)
    assert facts and facts[0].article_id == "shipping-en", facts
    reply = compose(detect_intents(question), [_order(), *facts], "en", question)
    assert reply is not None and "60 EUR" in reply.text and "CNY" not in reply.text, reply


def test_dollars_of_other_countries_are_their_own_currencies():
    rows = _article(
        "ship-au",
        "Delivery",
        "We ship to Australia, New Zealand and Hong Kong from our warehouse in Sydney.\n\n"
        "| Region | Free shipping from | Fee below that |\n|---|---|---|\n"
        "| Australia | A$79 | A$9.95 |\n| New Zealand | NZ$99 | NZ$12.00 |\n| Hong Kong | HKD 350 | HKD 35 |\n\n"
        "## Delivery times\n\nHong Kong: 3–6 business days by Hongkong Post.\n",
    )
    facts = _facts("How much do I need to spend to get free shipping to Hong Kong?", rows)
    # "How much": the row with the amounts answers first, before the sentence that names the place.
    assert facts and "HKD 350" in facts[0].text, facts
    by_row = {f.text.split(";")[0]: f for f in facts}
    assert in_currency(by_row["Region: Hong Kong"], {"HKD"}) and not in_currency(by_row["Region: Hong Kong"], {"USD"})
    assert states_money(by_row["Region: Hong Kong"].text)
    assert not states_money("We ship to Australia, New Zealand and Hong Kong from our warehouse in Sydney.")
    au = PolicyFact("ship-au", "Delivery", "Region: Australia; Free shipping from: A$79", 1, 1.0, "en")
    assert in_currency(au, {"AUD"}) and not in_currency(au, {"USD"}) and not in_currency(au, {"NZD"})


def test_passages_split_from_a_per_case_table_keep_the_shared_no():
    article = _article(
        "cancel-en",
        "Cancelling",
        "| Order status | Can I cancel? |\n|---|---|\n| Paid | Yes |\n"
        "| Processing | Custom paddles: no. Other items: no, but you can return them |\n",
    )
    rows = {p.row_key: p.verdict for p in split_passages(article) if p.row_key}
    assert rows == {"Paid": "yes", "Processing": "no"}, rows


def test_an_amount_the_question_states_picks_the_row_whose_range_covers_it():
    assert amount_ranges("商品金额：¥199 – ¥500；运费：包邮") == [(Decimal(199), Decimal(500))]
    assert amount_ranges("Standard: 3–5 business days") == []  # a time, not an amount
    zh = _article(
        "shipping-zh",
        "配送",
        "| 订单金额 | 运费 |\n|---|---|\n| ¥399 以上 | 包邮 |\n| ¥399 以下 | 20 元 |\n\n桨单独装长箱发货。\n",
        "zh",
    )
    rows = [f.text for f in passages(PolicyIndex([zh]), "买一支139块的桨要运费吗", "zh") if "¥399" in f.text]
    assert rows and "¥399 以下" in rows[0], rows  # the row for 139, over the row for orders above 399


def test_the_issuing_time_is_the_limit_said_of_the_issuing():
    contact = "抬头填错了,在同样的 90 天内联系我们,我们会作废原发票并重新开具。"
    issuing = "收到申请后 2 个工作日内开出,电子发票会发到您的邮箱。"
    assert issuing_distance(issuing) < issuing_distance(contact)


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("our trek got cancelled so I'd like to return the sealed meals. Can I send them back?", "return"),
        ("活动改期了，臂章那单能不能取消？", "cancel"),  # the order's cancel is still asked in so many words
        ("定制臂章一般要做多久才能发货？", "shipping"),
        ("退货寄回去以后，一般几天能收到退款？", "refund"),
        ("The igniter on my stove has stopped clicking. Can I get my money back for it?", "return"),
    ],
)
def test_what_was_cancelled_or_stopped_is_read_from_its_subject(text, lead):
    assert detect_intents(text)[:1] == [lead], detect_intents(text)


def test_a_tracking_link_that_stopped_working_is_no_fault_of_the_item():
    assert "quality" not in detect_aspects("Order ending in 4449 - has it arrived? My tracking link stopped working")
    assert "quality" in detect_aspects("the headlamp stopped working after a week")


def test_an_exclusion_list_introduced_by_a_sentence_reads_each_item_with_it():
    article = _article(
        "exclusions-en",
        "Items that can't be returned",
        "The following can't be returned for change of mind, even within the return period. Faulty items are "
        "different.\n\n- **Fuel canisters** (gas cartridges of any size), opened or unopened.\n"
        "- **Freeze-dried meals**, even when sealed.\n",
    )
    items = [p for p in split_passages(article) if "canisters" in p.text or "meals" in p.text]
    assert items and all(p.text.startswith("The following can't be returned") for p in items), items
    order = _order()
    question = "PD-4412: can I send back the two gas canisters? still sealed"
    facts = passages(PolicyIndex([article, RETURNS]), question, "en", items=["Gas canister 450g"])
    reply = compose(detect_intents(question), [order, *facts], "en", question)
    assert reply is not None and "can't be returned" in reply.text and reply.text.count("The following") == 1, reply


def test_a_fault_claim_retrieves_what_applies_after_its_window():
    question = "PD-4412 的气泵坏了，充不进气，九月收到的，能退款吗？"
    faults_zh = _article(
        "faults-zh",
        "质量问题",
        "质量问题请在 **签收后 45 天内** 联系我们，可退款或换新。\n\n## 运输破损\n\n签收后 48 小时内拍照反馈。\n\n"
        "## 超过 45 天怎么办\n\n超过 45 天不再退款，保修期内可以免费维修。\n",
        "zh",
    )
    texts = [f.text for f in passages(PolicyIndex([faults_zh]), question, "zh", items=["电动气泵"])]
    assert any("免费维修" in t for t in texts), texts


def test_fee_rows_follow_the_customers_currency_when_no_order_is_asked_about():
    question = "how much do I have to spend to get free shipping?"
    facts = _facts(question, SHIPPING)
    reply = compose(detect_intents(question), facts, "en", question, frozenset({"EUR"}))
    assert reply is not None and "60 EUR" in reply.text and "CNY" not in reply.text, reply
    usd = PolicyFact("s", "配送", "加急运费 24.95 美元，升降桌不支持加急。", 0, 5.0, "zh")
    assert in_currency(usd, {"USD"}) and not in_currency(usd, {"CNY"})


def test_how_long_do_i_have_is_answered_by_the_deadline():
    question = "thinking about buying a kayak: if it doesn't fit my car, how long do I have to send it back?"
    assert asks_deadline(question) and not asks_deadline("how long does the refund take?")
    reply = compose(detect_intents(question), _facts(question, RETURNS), "en", question)
    assert reply is not None and "30 days of delivery" in reply.text, reply


def test_how_long_something_takes_is_not_a_deadline_question():
    assert not asks_deadline("it got marked refunded but I don't see the money. How long is this supposed to take??")
    assert not asks_deadline("多久能到账？")


def test_words_that_look_like_an_aspect_but_are_not():
    assert "quality" not in detect_aspects("way too big, my fault, ordered the wrong size. never worn")
    assert "exclusion" not in detect_aspects("your customer service is awful. how long does a refund take?")
    assert "return_cost" in detect_aspects("can I still send them back, and does it cost me anything?")
    assert not asks_deadline("do you do next day delivery? how much")


def test_an_article_titled_only_for_delivery_is_about_shipping():
    assert title_topics("Delivery (UK)") == {"shipping"}
    assert "shipping" not in title_topics("Changing the delivery address")


def test_rows_of_a_table_about_what_cant_be_returned_name_their_items():
    article = _article(
        "exclusions-zh",
        "不支持无理由退换的商品",
        "| 商品 | 规定 |\n|---|---|\n| 吸奶器配件（喇叭罩、鸭嘴阀）、奶嘴 | 拆开独立密封包装后不退 |\n"
        "| 玩具 | 未拆封可退 |\n",
        "zh",
    )
    rows = split_passages(article)
    assert [(p.subject, p.verdict) for p in rows] == [("吸奶器配件（喇叭罩、鸭嘴阀）、奶嘴", ""), ("", "")], rows


def test_a_restriction_for_the_orders_item_is_quoted_without_a_verdict_of_ours():
    article = _article(
        "cancel-zh",
        "取消订单",
        "发货前的订单都可以免费取消。\n\n定制名字毯付款后 2 小时内可以取消，超过 2 小时不能取消。\n",
        "zh",
    )
    order = OrderFact(
        "PD-4412", "processing", "199.00", "CNY", "2026-12-05T09:00:00+08:00", items=[{"name": "定制名字毯"}]
    )
    question = "定制名字毯那单能取消吗，前天下的单"
    reply = compose(
        detect_intents(question), [order, *passages(PolicyIndex([article]), question, "zh")], "zh", question
    )
    assert reply is not None and "2 小时" in reply.text and "可以取消" not in reply.text.split("》：")[0], reply
    assert "因此" not in reply.text, reply  # no yes or no of ours: it turns on a time we don't count


def test_an_exclusion_named_in_more_words_outranks_one_named_in_fewer():
    question = "PD-4412 bought in your Black Friday sale for 42, now it's 35. Can you refund the difference?"
    texts = [f.text for f in _facts(question, PRICES_BF)]
    assert "Black Friday" in texts[0], texts


PRICES_BF = _article(
    "prices-bf-en",
    "Price promise",
    "If the price goes down within 12 days of your order date, we refund the difference.\n\n"
    "The price promise does not apply to:\n\n- flash sales, clearance and final sale items;\n"
    "- items bought at a Black Friday Week deal price (20-30 November).\n",
)


def test_an_exclusion_of_used_things_does_not_cover_what_the_customer_says_is_unused():
    title = "Items that can't be returned"
    used = PolicyFact("x", title, "Notebooks that have been written in.", 0, 5.0, "en")
    either = PolicyFact("x", title, "Fuel canisters, opened or unopened.", 1, 5.0, "en")
    assert excludes_outright(used, "can I return the notebooks? I wrote in one")
    assert not excludes_outright(used, "the notebooks are still sealed, never used. can I return them?")
    assert excludes_outright(either, "the fuel canisters are still sealed, can I return them?")
    assert "exclusion" not in detect_aspects("Returned the Custom 74 a week ago, when does the refund show up?")


def test_a_question_heading_is_answered_by_the_first_sentence_under_it():
    article = _article(
        "address-en",
        "Changing the delivery address",
        "## Can I change my address?\n\nYes, free of charge, while the order is pending, paid or processing. "
        "After that, ask the carrier.\n",
    )
    assert [p.verdict for p in split_passages(article)] == ["yes", ""]


def test_a_status_the_status_alone_does_not_answer_quotes_the_policy():
    status = _article(
        "status-en",
        "Order status and tracking",
        "## It says delivered, but I don't have it\n\nCheck with neighbours and your safe place first. "
        "If it hasn't turned up within 2 days, tell us and we open a claim with the carrier.\n\n"
        "## Pre-orders\n\nThe 2027 planners ship from 8 January 2027.\n",
    )
    delivered = OrderFact(
        "PD-4412", "delivered", "89.00", "EUR", "2026-11-01T09:00:00+00:00", delivered_at="2026-11-05"
    )
    question = "PD-4412 says delivered but nothing here, not with the neighbours either. What now?"
    reply = compose(detect_intents(question), [delivered, *_facts(question, status)], "en", question)
    assert reply is not None and "was delivered on 2026-11-05" in reply.text and "claim" in reply.text, reply
    paid = OrderFact("PD-4413", "paid", "25.00", "EUR", "2026-11-20T09:00:00+00:00")
    question = "when will my 2027 planner PD-4413 ship?"
    reply = compose(detect_intents(question), [paid, *_facts(question, status)], "en", question)
    assert reply is not None and "8 January 2027" in reply.text, reply
    plain = "where is PD-4412?"
    reply = compose(detect_intents(plain), [delivered, *_facts(plain, status)], "en", plain)
    assert reply is not None and "Check with neighbours" not in reply.text, reply


@pytest.mark.parametrize(("lang", "said"), [("en", "has not shipped yet"), ("zh", "尚未发货")])
def test_an_order_not_yet_sent_says_so_in_its_status(lang, said):
    """ "Has it shipped?" of a paid order: the status line answers it in words, not only "waiting to be packed"."""
    order = OrderFact("KY-1", "paid", "89.00", "EUR", "2026-12-06T10:00:00+00:00")
    composition = compose(["order_status"], [order], lang, "has KY-1 shipped?")
    assert composition is not None and said in composition.text, composition


@pytest.mark.parametrize(
    ("text", "used"),
    [
        ("the board is the wrong colour, I opened it and tried it once. can I return it?", True),
        ("we put both of the KY-2 deck pads from PD-4412 on and don't like the grip", True),
        ("桨我用了两次，感觉太重了，能退吗", True),
        ("买了两包，拆了一包，另一包还没拆，能退吗", True),  # one of them was opened
        ("never opened, can I return it?", False),
        ("I haven't even used it", False),
        ("还没拆封，能退吗", False),
    ],
)
def test_the_customer_saying_it_was_used_is_read(text, used):
    assert says_used(text) is used


def test_a_return_of_something_used_is_held_unless_the_policy_quoted_speaks_of_use():
    """The window's dates don't settle "I've used it, can I still return it?": what the policy says of used
    items does, and when the passage quoted doesn't say it, a person answers."""
    question = "PD-4412: I used the paddle twice, it's too heavy for me. Can I still return it?"
    delivered = (TODAY - timedelta(days=5)).isoformat()

    def reply(*articles: PolicyArticle):  # type: ignore[no-untyped-def]
        facts = [_order(delivered), *_facts(question, *articles)]
        rules = apply_rules(ShopRules(), detect_intents(question), detect_aspects(question), facts, TODAY, question)
        assert [r.open for r in rules] == [True]
        return compose(detect_intents(question), [*facts, *rules], "en", question)

    assert reply(RETURNS) is None
    worn = _article(
        "returns-en",
        "Returns for any reason",
        "You can send gear back within 30 days of delivery, even if it has been used on the water once.\n",
    )
    answered = reply(worn)
    assert answered is not None and "used on the water once" in answered.text, answered
    plain = "PD-4412: it's too heavy for me. Can I still return it?"
    facts = [_order(delivered), *_facts(plain, RETURNS)]
    rules = apply_rules(ShopRules(), detect_intents(plain), detect_aspects(plain), facts, TODAY, plain)
    assert compose(detect_intents(plain), [*facts, *rules], "en", plain) is not None
