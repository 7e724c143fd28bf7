"""Grounding: intents, order references, the customer's own orders, policy retrieval in zh and en."""

from __future__ import annotations

import pytest

from app.db import session_scope
from app.grounding.facts import OrderFact, OrderNotFoundFact
from app.grounding.intents import detect_intents
from app.grounding.orders import extract_order_refs, ground_orders
from app.grounding.policies import retrieve
from app.grounding.text import detect_language, stem, tokenize
from app.shop import repository

PATTERN = r"[A-Za-z]{0,4}-?\d{3,}"


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("returns", "return"),
        ("returned", "return"),
        ("shipped", "ship"),
        ("shipping", "ship"),
        ("takes", "tak"),
        ("take", "tak"),
        ("deliveries", "delivery"),
        ("address", "address"),
    ],
)
def test_stem(word, stemmed):
    assert stem(word) == stemmed


def test_tokenize_mixes_jieba_and_english():
    tokens = tokenize("我想退货 Returns please")
    assert "退货" in tokens and "return" in tokens and "please" not in tokens


def test_detect_language():
    assert detect_language("我的订单 A1023 到哪了") == "zh"
    assert detect_language("Where is A1023?") == "en"
    assert detect_language("A1023", default="zh") == "zh"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Where is my order?", "order_status"),
        ("track my parcel", "order_status"),
        ("我的快递到哪了", "order_status"),
        ("Can I return this?", "return"),
        ("我想退货", "return"),
        ("when do I get my refund", "refund"),
        ("退款什么时候到账", "refund"),
        ("I need an invoice", "invoice"),
        ("能开发票报销吗", "invoice"),
        ("I typed the wrong address", "address_change"),
        ("怎么修改收货地址", "address_change"),
        ("how long does shipping take", "shipping"),
        ("let me talk to a human", "human"),
        ("转人工", "human"),
        ("口红拆开就是断的！！！", "return"),  # a broken item, no question mark, no listed word for "return"
        ("杯子收到就碎了", "return"),
        ("这个锅用着太重了，想退", "return"),  # "want to return", not "refund"
        ("要退掉这件吗", "return"),
    ],
)
def test_intents(text, intent):
    assert intent in detect_intents(text)


def test_a_return_said_with_not_wanting_it_is_a_return_and_a_cancel_said_stays_one():
    assert detect_intents("can I return order BK-4410? don't want it anymore")[0] == "return"
    assert detect_intents("这个不要了，能退货吗")[0] == "return"
    assert detect_intents("don't want it anymore, please cancel and I'll return the other one")[0] == "cancel"
    assert detect_intents("不要了，帮我取消")[0] == "cancel"


def test_wanting_money_back_or_to_quit_is_not_a_return():
    assert detect_intents("我想退款")[:1] == ["refund"]
    assert "return" not in detect_intents("我想退出会员")


def test_no_intent_in_small_talk():
    assert detect_intents("hello there") == []


def test_order_refs_skip_amounts_and_parts_of_words():
    assert extract_order_refs("order A1023 and #b4712, paid 1356.00", PATTERN) == ["A1023", "B4712"]
    assert extract_order_refs("订单A1023到哪了", PATTERN) == ["A1023"]
    assert extract_order_refs("ｏｒｄｅｒ Ａ１０２３", PATTERN) == ["A1023"]  # full-width
    assert extract_order_refs("call 12", PATTERN) == []


def _customer_id(ref: str) -> int:
    with session_scope() as s:
        return repository.get_customer_by_ref(s, ref).id


def test_own_order_found_by_id_tracking_or_invoice_number(demo_shop):
    cid = _customer_id("c1001")
    with session_scope() as s:
        for text in ("where is A1023", "where is SF1234567890", "invoice 26442000000123456789"):
            facts = ground_orders(s, cid, text, PATTERN, wants_orders=True, list_recent=False)
            assert [f.order_id for f in facts if isinstance(f, OrderFact)] == ["A1023"]


def test_a_bare_number_finds_the_customers_one_order_with_those_digits(demo_shop):
    """Speech drops letters ("order A one zero two four" is heard as "order 1024")."""
    cid = _customer_id("c1001")
    with session_scope() as s:
        found = ground_orders(s, cid, "where is my order 1024", PATTERN, True, False)
        assert [f.order_id for f in found if isinstance(f, OrderFact)] == ["A1024"]
        other = ground_orders(s, cid, "where is my order B1024", PATTERN, True, False)
        # Letters are taken as written: B1024 is never answered as A1024, only asked about ("did you mean").
        assert not any(isinstance(f, OrderFact) for f in other)
        assert [(type(f).__name__, f.confirm) for f in other] == [("OrderChoiceFact", True)]
        theirs = ground_orders(s, _customer_id("c1002"), "where is my order 1024", PATTERN, True, False)
        assert all(isinstance(f, OrderNotFoundFact) for f in theirs)


def test_other_customers_order_yields_only_not_found(demo_shop):
    cid = _customer_id("c1001")
    with session_scope() as s:
        facts = ground_orders(s, cid, "where is B4712 / 1Z999AA10123456784", PATTERN, True, False)
    assert [type(f) for f in facts] == [OrderNotFoundFact]  # one "couldn't find that order", nothing of theirs
    assert "B4712" not in facts[0].prompt_line() and "1Z999" not in facts[0].prompt_line()


def test_anonymous_sees_no_order(demo_shop):
    with session_scope() as s:
        facts = ground_orders(s, None, "where is A1023", PATTERN, True, True)
    assert facts == [OrderNotFoundFact(order_ref="A1023", anonymous=True)]


def test_orders_found_by_item_name(demo_shop):
    cid = _customer_id("c1002")
    with session_scope() as s:
        facts = ground_orders(s, cid, "Can I return the headphones?", PATTERN, True, False)
    assert [f.order_id for f in facts] == ["B4712"]


def test_recent_orders_when_asked_in_general(demo_shop):
    cid = _customer_id("c1001")
    with session_scope() as s:
        facts = ground_orders(s, cid, "where are my orders", PATTERN, True, True)
    assert [f.order_id for f in facts] == ["A1024", "A1023"]


@pytest.mark.parametrize(
    ("query", "locale", "article"),
    [
        ("How many days do I have to return an item?", "en", "returns-en"),
        ("When will my refund arrive on my card?", "en", "refunds-en"),
        ("Is shipping free?", "en", "shipping-en"),
        ("Can I change my delivery address?", "en", "address-en"),
        ("发票可以报销吗", "zh", "invoices-zh"),
        ("退货要几天内申请", "zh", "returns-zh"),
        ("退款多久到账", "zh", "refunds-zh"),
        ("包邮吗", "zh", "shipping-zh"),
    ],
)
def test_policy_retrieval(demo_shop, query, locale, article):
    with session_scope() as s:
        facts = retrieve(s, query, locale)
    assert facts and facts[0].article_id == article
    assert facts[0].source.startswith(f"policy:{article}#")


def test_the_catalog_words_follow_the_items_the_shop_sells(demo_shop):
    from decimal import Decimal

    from app.db import utcnow
    from app.grounding.policies import catalog_words
    from app.models import Order, OrderItem

    with session_scope() as s:
        words = catalog_words(s)
        assert {"keyboard", "手机"} <= words and "kettl" not in words
        customer = repository.get_customer_by_ref(s, "c1001")
        assert customer is not None
        order = Order(
            id="KT-1", customer_id=customer.id, status="paid", total=Decimal("30"), currency="USD", placed_at=utcnow()
        )
        order.items = [OrderItem(sku="K1", name="Gooseneck kettle", qty=1, unit_price=Decimal("30"))]
        s.add(order)
    with session_scope() as s:
        assert "kettl" in catalog_words(s) and "keyboard" in catalog_words(s)
    # The item last seen is gone (a database emptied and filled again): everything is read again.
    with session_scope() as s:
        s.delete(s.get(Order, "KT-1"))
        s.flush()
        order = Order(id="MG-1", customer_id=customer.id, status="paid", total=Decimal("9"), currency="USD",
                      placed_at=utcnow())  # fmt: skip
        order.items = [OrderItem(sku="M1", name="Enamel mug", qty=1, unit_price=Decimal("9"))]
        s.add(order)
    with session_scope() as s:
        words = catalog_words(s)
        assert "enamel" in words and "keyboard" in words and "kettl" not in words
