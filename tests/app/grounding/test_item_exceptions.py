"""Policies whose answer depends on the order's items or on a table: exceptions for some products, tables
with a yes/no column, and sections that say yes in one case and no in another.

The articles are written here for the test (a bicycle shop and a toy shop), not taken from any shop the rules
were tuned on.
"""

from __future__ import annotations

from typing import Any

from app.grounding.facts import OrderFact, PolicyFact
from app.grounding.intents import detect_intents
from app.grounding.policies import PolicyIndex, item_names, passages, split_passages
from app.grounding.text import tokenize
from app.llm.composer import compose
from app.models import PolicyArticle

CANCEL = PolicyArticle(
    id="cancel-en",
    title="Cancelling an order",
    locale="en",
    version=1,
    body=(
        "You can cancel free of charge until your order ships, i.e. while it is pending, paid or processing.\n\n"
        "## Exceptions\n\n"
        "- Frame-size bikes built to measure (e.g. the Atlas Custom range) can't be cancelled once processing,"
        " because the frame is already being welded.\n"
        "- Gift vouchers cannot be cancelled once paid.\n"
    ),
)
CANCEL_ZH = PolicyArticle(
    id="cancel-zh",
    title="取消订单",
    locale="zh",
    version=1,
    body=(
        "订单发货前（待付款、已付款、处理中）都可以免费取消。\n\n"
        "## 例外\n\n"
        "- 量身定制车架（如 Atlas 定制系列）进入处理中后无法取消，车架已开始焊接。\n"
        "- 礼品券付款后不支持取消。\n"
    ),
)
RETURNS = PolicyArticle(
    id="returns-en",
    title="Returns",
    locale="en",
    version=1,
    body="Unused items can be returned within 30 days of delivery for any reason.\n",
)
NOT_RETURNABLE = PolicyArticle(
    id="final-sale-en",
    title="Items we can't take back",
    locale="en",
    version=1,
    body=(
        "| Item | Can it be returned? |\n|---|---|\n"
        "| Tubes and tyres that have been fitted | No |\n"
        "| Personalised name plates | No, never |\n"
        "| Unused accessories | Yes, within 30 days of delivery |\n"
    ),
)
ADDRESS = PolicyArticle(
    id="address-en",
    title="Changing the delivery address",
    locale="en",
    version=1,
    body=(
        "## Domestic orders\n\n"
        "You can change the address until the order ships (status pending, paid or processing).\n\n"
        "## International orders\n\n"
        "| Order status | Can the address be changed? |\n|---|---|\n"
        "| pending / paid | Yes |\n"
        "| processing (export papers filed) | No |\n"
    ),
)
ADDRESS_ZH = PolicyArticle(
    id="address-zh",
    title="修改收货地址",
    locale="zh",
    version=1,
    body="| 订单状态 | 能否修改地址 |\n|---|---|\n| 待付款 / 已付款 | 可以 |\n| 已发货 | 不可以 |\n",
)
INDEX = PolicyIndex([CANCEL, CANCEL_ZH, RETURNS, NOT_RETURNABLE, ADDRESS, ADDRESS_ZH])


def _order(status: str, *names: str) -> OrderFact:
    items: list[dict[str, Any]] = [{"name": n, "qty": 1} for n in names]
    return OrderFact("BK-4410", status, "1299.00", "USD", "2026-11-20T10:00:00+00:00", items=items)


def _reply(question: str, order: OrderFact, lang: str = "en") -> str | None:
    facts: list[Any] = [order]
    facts += passages(INDEX, question, lang, 3, [order.status], [item_names([order])])
    composition = compose(detect_intents(question), facts, lang, question)
    return composition.text if composition else None


def test_a_table_row_reads_its_yes_no_column_and_names_its_item():
    rows = [p for p in split_passages(NOT_RETURNABLE)]
    assert [(p.verdict, p.subject) for p in rows] == [
        ("no", "Tubes and tyres that have been fitted"),
        ("no", "Personalised name plates"),
        ("yes", ""),
    ]
    by_status = split_passages(ADDRESS)[-2:]
    assert [(p.verdict, p.subject) for p in by_status] == [("yes", ""), ("no", "")]  # a status names no item
    assert [p.verdict for p in split_passages(ADDRESS_ZH)] == ["yes", "no"]


def test_an_abbreviation_does_not_end_a_sentence():
    texts = [p.text for p in split_passages(CANCEL)]
    assert any("(e.g. the Atlas Custom range) can't be cancelled" in t for t in texts), texts
    assert any("i.e. while it is pending" in t for t in texts), texts


def test_an_exception_for_the_orders_item_answers_no():
    reply = _reply("please cancel BK-4410, I changed my mind", _order("processing", "Atlas Custom Frame-size Bike"))
    assert reply is not None and "can't be cancelled" in reply and "So order BK-4410 can't be cancelled." in reply


def test_an_exception_for_other_items_is_not_quoted():
    reply = _reply("Can I still cancel order BK-4410? it says processing", _order("processing", "Trail Helmet"))
    assert reply is not None and "cancel free of charge" in reply
    assert "welded" not in reply and "can't be cancelled" not in reply, reply


def test_chinese_exceptions_under_their_heading_name_their_items():
    no = _reply("BK-4410 能取消吗", _order("processing", "Atlas 定制车架 Custom Frame"), "zh")
    assert no is not None and "无法取消" in no, no
    yes = _reply("BK-4410 能取消吗", _order("processing", "骑行头盔 Trail Helmet"), "zh")
    assert yes is not None and "焊接" not in yes and "无法取消" not in yes, yes


def test_an_item_the_policy_never_takes_back_answers_a_return_question_unnamed():
    reply = _reply("can I return order BK-4410? don't want it anymore", _order("delivered", "Personalised name plate"))
    assert reply is not None and "Personalised name plates" in reply and "can't be returned" in reply, reply


def test_a_fault_is_not_answered_by_the_items_exclusion():
    reply = _reply("the name plate from BK-4410 arrived broken", _order("delivered", "Personalised name plate"))
    assert reply is None or "can't be returned" not in reply, reply


def test_a_table_row_for_the_orders_status_gives_a_yes_or_no_in_words():
    no = _reply("can you change the address on BK-4410? it's an international order", _order("processing"))
    assert no is not None and "So the delivery address of order BK-4410 can't be changed." in no, no
    yes = _reply("BK-4410 能改地址吗", _order("paid"), "zh")
    assert yes is not None and "收货地址可以修改" in yes, yes


def test_sections_that_say_yes_and_no_for_the_status_are_held_unless_the_question_names_one():
    # Domestic: yes while processing; international: no. Which one is the order's isn't known.
    assert _reply("can I still change the address on BK-4410?", _order("processing")) is None
    named = _reply("can I change the address on BK-4410? it's a domestic order", _order("processing"))
    assert named is not None and "change the address until the order ships" in named, named


def test_policy_facts_carry_the_verdict_and_subject_of_their_passage():
    facts = passages(INDEX, "can I return the name plate?", "en", 3, ["delivered"], ["Personalised name plate"])
    top = facts[0]
    assert isinstance(top, PolicyFact) and (top.verdict, top.subject) == ("no", "Personalised name plates")


def test_not_wanting_it_any_more_is_a_cancel_question_not_a_return_one():
    """Every cancel is a change of mind: "不要了，帮我取消" is answered from the cancel article, not the returns one."""
    question = "BK-4410 不要了，帮我取消"
    facts = passages(PolicyIndex([CANCEL_ZH, RETURNS_ZH]), question, "zh", 3, ["paid"])
    assert facts and all(f.article_id == "cancel-zh" for f in facts), [f.article_id for f in facts]


RETURNS_ZH = PolicyArticle(
    id="returns-zh",
    title="七天无理由退货",
    locale="zh",
    version=1,
    body="不想要了、不喜欢的商品，签收后 7 天内可无理由退货，商品需完好。\n",
)


def test_the_row_for_the_orders_status_answers_not_a_row_that_mentions_it():
    """ "Pending … unpaid orders close" is the pending row, not the paid one ("paid" is not in "unpaid");
    and a sentence that mentions the status in passing loses to the row keyed by it."""
    table = PolicyArticle(
        id="garden-cancel-en",
        title="Cancelling an order",
        locale="en",
        version=1,
        body=(
            "| Status | Can I cancel? | How |\n|---|---|---|\n"
            "| Pending (waiting for payment) | Yes | Don't pay: unpaid orders close after 72 hours |\n"
            "| Paid | Yes | Tap Cancel; the full amount is refunded automatically |\n"
            "| Shipped | No | Refuse the parcel or return it |\n\n"
            "## Exceptions\n\n"
            "- Seed subscriptions stay in Paid until the season starts and can be cancelled any time before.\n"
        ),
    )
    index = PolicyIndex([table])
    rows = split_passages(table)[:3]
    assert [(p.row_key, p.verdict, p.subject) for p in rows] == [
        ("Pending (waiting for payment)", "yes", ""),
        ("Paid", "yes", ""),
        ("Shipped", "no", ""),
    ]
    question = "pls cancel GD-2201, found it cheaper elsewhere. it hasn't shipped right?"
    order = OrderFact("GD-2201", "paid", "39.00", "USD", "2026-12-03T10:00:00+00:00", items=[{"name": "Hose reel"}])
    facts: list[Any] = [order, *passages(index, question, "en", 3, ["paid"], [item_names([order])])]
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None and "refunded automatically" in composition.text, composition
    assert "72 hours" not in composition.text and "So order GD-2201 can be cancelled." in composition.text


PET_EXCLUSIONS = PolicyArticle(
    id="pets-final-en",
    title="What can't be returned",
    locale="en",
    version=1,
    body=(
        "| Product | Change-of-mind return? |\n|---|---|\n"
        "| Fresh (chilled) dog and cat food | Never, opened or unopened |\n"
        "| Engraved name tags | Never |\n"
    ),
)
PET_CANCEL = PolicyArticle(
    id="pets-cancel-en",
    title="Cancelling an order",
    locale="en",
    version=1,
    body=(
        "You can cancel any order before it ships.\n\n## Exceptions\n\n"
        "- Engraved name tags go into production as soon as the order is processing. From then on they can't be"
        " cancelled. Other items of the order still can.\n"
    ),
)


def test_one_shared_word_does_not_make_the_question_about_an_items_row():
    """ "my cat won't drink from it" of a fountain names one word of "Fresh dog and cat food": not that row."""
    index = PolicyIndex([PET_EXCLUSIONS])
    question = "the fountain from PT-1001 is still sealed, my cat won't drink from it. can I return it?"
    order = OrderFact("PT-1001", "delivered", "59.00", "USD", "2026-11-20T10:00:00+00:00", items=[{"name": "Fountain"}])
    facts: list[Any] = [order, *passages(index, question, "en", 3, ["delivered"], [item_names([order])])]
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is None or "cat food" not in composition.text, composition


def test_an_exception_item_of_several_sentences_is_one_exception_with_its_verdict():
    exception = split_passages(PET_CANCEL)[-1]
    assert exception.text.startswith("Exceptions: Engraved name tags") and exception.text.endswith("still can.")
    assert exception.verdict == "no" and exception.subject.startswith("Engraved name tags")
    index = PolicyIndex([PET_CANCEL])
    question = "can I still cancel PT-1002? it's the engraved name tag"
    order = OrderFact("PT-1002", "processing", "19.00", "USD", "2026-12-01T10:00:00+00:00", items=[
        {"name": "Engraved Name Tag, Bone"}])  # fmt: skip
    facts: list[Any] = [order, *passages(index, question, "en", 3, ["processing"], [item_names([order])])]
    composition = compose(detect_intents(question), facts, "en", question)
    assert composition is not None and "So order PT-1002 can't be cancelled." in composition.text, composition


KNIFE_EXCLUSIONS = PolicyArticle(
    id="no-return-zh",
    title="不支持无理由退货的商品",
    locale="zh",
    version=1,
    body=("| 商品 | 不支持退货的情况 |\n|---|---|\n| 磨刀石 | 已经泡水使用过 |\n| 刻字菜刀 | 一律不支持 |\n"),
)
KNIFE_CANCEL = PolicyArticle(
    id="cancel-knife-zh",
    title="取消订单",
    locale="zh",
    version=1,
    body=(
        "发货前都可以在「我的订单」里取消。\n\n"
        "## 刻字菜刀可以取消吗？\n\n"
        "刻字菜刀付款后 2 小时内可以取消，超过 2 小时已开始刻字，不能取消。\n"
    ),
)
KNIFE_CATALOG = frozenset(w for name in ("刻字菜刀 七寸", "磨刀石 1000目", "砧板 竹制") for w in tokenize(name))


def test_a_row_under_a_column_that_excludes_names_its_item_and_speaks_for_it_alone():
    """ "磨刀石 | 已经泡水使用过" under "不支持退货的情况": the row is about whetstones, so not quoted for a board."""
    rows = split_passages(KNIFE_EXCLUSIONS)
    assert [p.subject for p in rows] == ["磨刀石", "刻字菜刀"]
    index = PolicyIndex([KNIFE_EXCLUSIONS])
    question = "KB-2001 的砧板颜色不喜欢，能退吗"
    order = OrderFact(
        "KB-2001", "delivered", "89.00", "CNY", "2026-11-30T10:00:00+08:00", items=[{"name": "砧板 竹制"}]
    )
    facts: list[Any] = [order, *passages(index, question, "zh", 3, ["delivered"], [item_names([order])])]
    composition = compose(detect_intents(question), facts, "zh", question)
    assert composition is None or "磨刀石" not in composition.text, composition


def test_a_section_whose_heading_and_text_name_what_the_shop_sells_speaks_for_those_items():
    index = PolicyIndex([KNIFE_CANCEL])
    question = "昨天下的单 KB-2002 能取消吗"

    def reply(*names: str) -> str:
        order = OrderFact("KB-2002", "paid", "89.00", "CNY", "2026-12-06T10:00:00+08:00", items=[
            {"name": n} for n in names])  # fmt: skip
        found = passages(index, question, "zh", 3, ["paid"], [item_names([order])], KNIFE_CATALOG)
        composition = compose(detect_intents(question), [order, *found], "zh", question)
        assert composition is not None
        return composition.text

    assert "刻字" not in reply("砧板 竹制"), "a board's cancel quotes the engraved knives' section"
    assert "2 小时内" in reply("刻字菜刀 七寸")
    # Without the catalog the heading names nothing: the section is quoted as before.
    assert passages(index, question, "zh", 3, ["paid"], [""])[0].subject == ""
