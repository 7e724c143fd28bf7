"""Order references resolved among the customer's own orders, whatever the shop's id format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.db import session_scope
from app.grounding.facts import OrderChoiceFact, OrderFact, OrderNotFoundFact
from app.grounding.orders import ground_orders
from app.grounding.references import resolve, spoken_digits
from app.llm.composer import compose
from app.shop import repository
from app.shop.service import seed_orders


@dataclass
class Item:
    name: str


@dataclass
class Order:
    id: str
    total: Decimal
    placed_at: datetime
    items: list[Item] = field(default_factory=list)
    tracking_no: str | None = None
    invoice: None = None
    status: str = "delivered"
    status_history: list[dict[str, str]] = field(default_factory=list)


# Newest first, as the repository returns them; three id shapes from three kinds of shop.
ORDERS = [
    Order("HO-20261102-0113", Decimal("89.90"), datetime(2026, 11, 2, tzinfo=UTC), [Item("Desk lamp")]),
    Order("2026101800474471", Decimal("318.40"), datetime(2026, 10, 18, tzinfo=UTC), [Item("Standing desk")]),
    Order("1001", Decimal("45.00"), datetime(2026, 9, 3, tzinfo=UTC), [Item("Monitor arm")], "YT7712345678"),
    Order("HO-20260830-0047", Decimal("120.00"), datetime(2026, 8, 30, tzinfo=UTC), [Item("Office chair")]),
    Order("HO-20260712-1047", Decimal("99.00"), datetime(2026, 7, 12, tzinfo=UTC), [Item("Footrest")]),
]


def _ids(text: str) -> list[str]:
    return [o.id for o in resolve(text, ORDERS).orders]


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("where is HO-20261102-0113?", "HO-20261102-0113"),  # dashes and a date inside: one id, not two
        ("order ho20261102 0113 status", "HO-20261102-0113"),  # lower case, a separator dropped
        ("订单号 HO-20261102-0113 到哪了", "HO-20261102-0113"),
        ("my order 2026101800474471", "2026101800474471"),  # all digits, as on marketplaces
        ("what about #1001", "1001"),  # hosted shops number orders #1001
        ("tracking YT7712345678", "1001"),
        ("my order ending in 4471", "2026101800474471"),
        ("订单尾号4471什么时候发货", "2026101800474471"),
        ("last four digits are 0113", "HO-20261102-0113"),
        ("order four four seven one please", "2026101800474471"),  # the last digits read out
        ("订单尾号四四七一", "2026101800474471"),
        ("the standing desk I bought in October", "2026101800474471"),
        ("the one that came to 318.40", "2026101800474471"),
        ("my last order", "HO-20261102-0113"),
        ("最近一单到哪了", "HO-20261102-0113"),
        ("我10月买的升降桌 standing desk", "2026101800474471"),
    ],
)
def test_references_in_the_customers_words(text, order_id):
    assert _ids(text) == [order_id]


def test_several_orders_fitting_a_partial_reference_are_a_question():
    found = resolve("my order ending in 047", ORDERS)
    assert found.orders == []
    assert {o.id for o in found.ambiguous} == {"HO-20260830-0047", "HO-20260712-1047"}


@pytest.mark.parametrize(
    "text",
    [
        "call me on 13800001001",  # a phone number that ends in another order's digits
        "I paid 1001.50 for it",  # an amount
        "confirmation code 88213907, my order is fine",
        "hello, how are you",
    ],
)
def test_no_reference_is_invented(text):
    found = resolve(text, ORDERS)
    assert found.orders == [] and found.ambiguous == []


GARDEN = [
    Order(
        "GL2611A0822", Decimal("123.90"), datetime(2026, 11, 25, tzinfo=UTC), [Item("Soaker hose")], status="shipped"
    ),
    Order("GL2609A0377", Decimal("229.00"), datetime(2026, 9, 18, tzinfo=UTC), [Item("Hedge trimmer")]),
    Order("CV.26.118095", Decimal("175.95"), datetime(2026, 9, 2, tzinfo=UTC), [Item("Daily contact lenses")]),
]


def test_the_end_of_an_id_with_its_letter_and_a_bare_number_that_ends_one():
    """ "A0822" of GL2611A0822, uncued; "118095" of CV.26.118095 even in a message that says nothing of orders."""
    assert [o.id for o in resolve("where's order A0822?? still nothing", GARDEN).orders] == ["GL2611A0822"]
    assert [o.id for o in resolve("where is 118095??", GARDEN, about_orders=False).orders] == ["CV.26.118095"]
    stranger = resolve("where's order B0822?", GARDEN)
    assert stranger.orders == [] and stranger.ambiguous == [] and stranger.unmatched == ["B0822"]


def test_the_last_digits_of_an_id_that_ends_in_letters():
    """ "ending in 7725" of 20261103-7725-KC: the digits before the shop's suffix."""
    orders = [
        Order("20261103-7725-KC", Decimal("12800"), datetime(2026, 11, 3, tzinfo=UTC), [Item("Air fryer")]),
        Order("20261020-3318-KC", Decimal("599.00"), datetime(2026, 10, 20, tzinfo=UTC), [Item("Rice cooker")]),
    ]
    assert [o.id for o in resolve("my order ending in 7725, has it shipped?", orders).orders] == ["20261103-7725-KC"]
    assert [o.id for o in resolve("尾号3318的订单到哪了", orders).orders] == ["20261020-3318-KC"]
    assert resolve("my order ending in 1103", orders).orders == []  # the date inside is no ending
    # the digits inside an id written with its letters are that id's, not an ending of one of theirs
    written = resolve("订单号20261118-3318-KC 验证码883920 帮我查下物流", orders)
    assert written.orders == [] and written.ambiguous == [] and written.unmatched == ["20261118-3318-KC"]


def test_an_item_said_not_to_be_meant_and_a_purchase_to_come_name_no_order():
    now = datetime(2026, 12, 7, tzinfo=UTC)
    orders = [
        Order("TN_2610_03660", Decimal("189.00"), now - timedelta(days=37), [Item("Chelsea boots, tan")]),
        Order("TN_2611_03988", Decimal("159.00"), now - timedelta(days=20), [Item("Lace-up hiking boots")]),
        Order("TN_2609_02219", Decimal("80.95"), now - timedelta(days=80), [Item("Wool socks, 3-pack")]),
    ]
    not_those = resolve("tracking # for the boots I ordered (NOT the lace-up ones)", orders, now=now)
    assert [o.id for o in not_those.orders] == ["TN_2610_03660"]
    later = resolve("how much is shipping if I just order one pack of socks?", orders, now=now)
    assert later.orders == [] and later.ambiguous == []


def test_an_order_said_not_to_have_shipped_is_not_one_that_has():
    now = datetime(2026, 12, 7, tzinfo=UTC)
    orders = [
        Order("CV-117419", Decimal("478.00"), now - timedelta(days=7), [Item("Titanium frame")], status="processing"),
        Order("CV-110214", Decimal("39.95"), now - timedelta(days=90), [Item("Glasses case")]),
    ]
    # the item named is in the shipped one: either may be meant, so ask
    named = resolve("a WEEK and my glasses still haven't shipped, what are you doing with my order??", orders, now=now)
    assert named.orders == [] and {o.id for o in named.ambiguous} == {"CV-117419", "CV-110214"}
    unnamed = resolve("my order still hasn't shipped?? it's been a week", orders, now=now)
    assert [o.id for o in unnamed.orders] == ["CV-117419"]
    asked = resolve("镜盒那单到底发没发货？", [Order("CV-1", Decimal(1), now, [Item("镜盒")]), *orders], now=now)
    assert [o.id for o in asked.orders] == ["CV-1"]  # "shipped or not?" says neither


def test_received_yesterday_is_when_it_came_not_when_it_was_ordered():
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    delivered = [{"status": "delivered", "at": "2026-12-06T10:00:00+08:00"}]
    orders = [
        Order("GL-0276", Decimal("248.00"), now - timedelta(hours=3), [Item("龟背竹（中号）")], status="pending"),
        Order("GL-0317", Decimal("117.00"), now - timedelta(days=5), [Item("绿萝吊盆（15cm）")], "SF1", None,
              "delivered", delivered),
    ]  # fmt: skip
    assert [o.id for o in resolve("昨天收到的绿萝 叶子黄了一大半，怎么处理？", orders, now=now).orders] == ["GL-0317"]
    assert [o.id for o in resolve("the plant that arrived yesterday is dying", orders[1:], now=now).orders] == [
        "GL-0317"
    ]


def test_spoken_digits_in_english_and_chinese():
    assert spoken_digits("A nine three zero five") == "A 9305"
    assert spoken_digits("double oh seven one") == "0071"
    assert spoken_digits("零零一六 幺三八") == "0016 138"
    assert spoken_digits("I have one question about two things") == "I have one question about two things"


SHOP = {
    "customers": [{"ref": "u-1", "name": "Ada"}, {"ref": "u-2", "name": "Bo"}],
    "orders": [
        {
            "id": "HO-20261014-0047",
            "customer_ref": "u-1",
            "status": "shipped",
            "carrier": "YTO",
            "tracking_no": "YT5550001112",
            "total": "318.40",
            "currency": "CNY",
            "placed_at": "2026-10-14T09:00:00+08:00",
            "items": [{"sku": "SD", "name": "Standing desk", "qty": 1, "unit_price": "318.40"}],
        },
        {
            "id": "HO-20261020-0047",
            "customer_ref": "u-1",
            "status": "processing",
            "total": "59.00",
            "currency": "CNY",
            "placed_at": "2026-10-20T09:00:00+08:00",
            "items": [{"sku": "CL", "name": "Cable tray", "qty": 1, "unit_price": "59.00"}],
        },
        {
            "id": "HO-20261021-9999",
            "customer_ref": "u-2",
            "status": "shipped",
            "carrier": "SF",
            "tracking_no": "SF0009998887",
            "total": "77.00",
            "currency": "CNY",
            "placed_at": "2026-10-21T09:00:00+08:00",
            "items": [{"sku": "MA", "name": "Monitor arm", "qty": 1, "unit_price": "77.00"}],
        },
    ],
}


@pytest.fixture
def dashed_shop(tmp_path) -> dict[str, int]:
    """A shop whose ids the default id pattern would cut in two, seeded with no setting changed."""
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(SHOP))
    with session_scope() as s:
        seed_orders(s, path)
        return {ref: repository.get_customer_by_ref(s, ref).id for ref in ("u-1", "u-2")}


def _ground(customer_id: int, text: str) -> list:
    from app.config import get_settings
    from app.grounding.intents import detect_intents

    with session_scope() as s:
        return ground_orders(
            s, customer_id, text, get_settings().order_id_pattern, True, "order_status" in detect_intents(text)
        )


def test_a_dashed_date_coded_id_is_one_order(dashed_shop):
    facts = _ground(dashed_shop["u-1"], "where is my order HO-20261014-0047?")
    assert [f.order_id for f in facts if isinstance(f, OrderFact)] == ["HO-20261014-0047"]
    assert not any(isinstance(f, OrderNotFoundFact) for f in facts)


def test_another_customers_id_is_not_found_and_not_repeated(dashed_shop):
    facts = _ground(dashed_shop["u-1"], "where is order HO-20261021-9999")
    assert [type(f) for f in facts] == [OrderNotFoundFact]
    reply = compose(["order_status"], facts, "en")
    assert reply is not None and "9999" not in reply.text and "SF000" not in reply.text
    assert "couldn't find that order" in reply.text


def test_an_injected_code_is_never_echoed(dashed_shop):
    text = "My order confirmation code is ZX-99231-K, please confirm order ZX-99231-K shipped"
    facts = _ground(dashed_shop["u-1"], text)
    reply = compose(["order_status"], facts, "en")
    assert reply is not None and "ZX" not in reply.text and "99231" not in reply.text
    zh = compose(["order_status"], _ground(dashed_shop["u-1"], "订单 ZX-99231-K 发货了吗"), "zh")
    assert zh is not None and "99231" not in zh.text


def test_an_ambiguous_suffix_asks_which_with_only_the_customers_orders(dashed_shop):
    facts = _ground(dashed_shop["u-1"], "where is my order ending in 0047")
    choices = [f for f in facts if isinstance(f, OrderChoiceFact)]
    assert len(choices) == 1
    reply = compose(["order_status"], facts, "en")
    assert reply is not None
    assert "HO-20261014-0047" in reply.text and "HO-20261020-0047" in reply.text
    assert "9999" not in reply.text and "Monitor arm" not in reply.text
    zh = compose(["order_status"], _ground(dashed_shop["u-1"], "尾号0047的订单到哪了"), "zh")
    assert zh is not None and "哪一个订单" in zh.text


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("the desk lamp I bought last week", "HO-20261102-0113"),  # placed 2026-11-02, asked on 2026-11-10
        ("上周买的台灯到哪了", "HO-20261102-0113"),
        ("the thing I ordered last month", "2026101800474471"),
    ],
)
def test_a_relative_time_narrows_to_the_order_placed_then(text, order_id):
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)
    assert [o.id for o in resolve(text, ORDERS, now=now).orders] == [order_id]
    assert resolve("the order I placed yesterday", ORDERS, now=now).orders == []  # none was placed then


@pytest.mark.parametrize(
    "text",
    [
        "where is the standing desk I ordered last week",  # placed 23 days before: the time is loose
        "上周买的升降桌 standing desk 到哪了",
        "the standing desk from september",  # placed in October
    ],
)
def test_the_item_named_decides_when_the_time_given_fits_none_of_its_orders(text):
    now = datetime(2026, 11, 10, 12, tzinfo=UTC)  # the desk lamp was placed last week
    assert [o.id for o in resolve(text, ORDERS, now=now).orders] == ["2026101800474471"]


@pytest.mark.parametrize(
    "text",
    ["where is HO-20261102-0131?", "order 2026101800474417 status", "订单HO-20261102-013 到哪了"],
)  # a swap, a swap at the end, a dropped digit
def test_an_id_one_character_off_one_of_theirs_is_asked_about(text):
    found = resolve(text, ORDERS)
    assert found.orders == [] and len(found.suggested) == 1


def test_a_near_miss_asks_did_you_mean_and_never_assumes(dashed_shop):
    facts = _ground(dashed_shop["u-1"], "where is my order HO-20261014-0074?")
    assert not any(isinstance(f, OrderFact) for f in facts)
    reply = compose(["order_status"], facts, "en")
    assert reply is not None and reply.text.startswith("Did you mean order HO-20261014-0047")
    assert "YT5550001112" not in reply.text  # nothing of the order is told before the customer says yes
    zh = compose(["order_status"], _ground(dashed_shop["u-1"], "订单 HO-20261014-0074 到哪了"), "zh")
    assert zh is not None and "请问您指的是订单 HO-20261014-0047" in zh.text


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("the order that came to three hundred eighteen dollars forty", "2026101800474471"),
        ("I paid eighty-nine dollars and ninety cents", "HO-20261102-0113"),
        ("a hundred and twenty dollars, has it shipped", "HO-20260830-0047"),
        ("那个三百一十八块四的订单到哪了", "2026101800474471"),
        ("付了一百二十元的那单", "HO-20260830-0047"),
        ("八十九块九毛那单", "HO-20261102-0113"),
    ],
)
def test_an_amount_said_in_words_finds_the_order(text, order_id):
    assert _ids(text) == [order_id]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eighty-nine dollars fifty", "$89.50"),
        ("$89 and 50 cents", "$89.50"),
        ("two hundred and five dollars", "$205"),
        ("两百零五块五", "205.50元"),
        ("一千二百元", "1200元"),
        # Not amounts: left as they are.
        ("one of them is broken", "one of them is broken"),
        ("十分满意，等一下", "十分满意，等一下"),
        ("one two three dollars", "one two three dollars"),
    ],
)
def test_amounts_in_words_become_numbers_and_nothing_else_does(text, expected):
    from app.grounding.numbers import amounts_as_numbers

    assert amounts_as_numbers(text) == expected


HOSTED = [Order(str(n), Decimal("10.00"), datetime(2026, 11, 1, tzinfo=UTC)) for n in (1073, 1029, 1453, 1712)]


@pytest.mark.parametrize(
    ("heard", "orders", "order_id"),
    [
        ("Can you check order 10734 me please?", HOSTED, "1073"),  # "one zero seven three for me"
        ("Can you check order H02026101960304 me please", ORDERS[3:] + ORDERS[:1], None),  # none is that close
        ("My order H0202611020131, when will it ship?", ORDERS, "HO-20261102-0113"),  # swapped, O heard as 0
        ("my order H 0 2026 1102 0 1 1 4", ORDERS, "HO-20261102-0113"),
    ],
)
def test_an_id_heard_nearly_right_is_offered_for_confirmation_never_answered(heard, orders, order_id):
    found = resolve(heard, orders, heard=heard)
    assert found.orders == []
    assert [o.id for o in found.suggested] == ([order_id] if order_id else [])
    typed = resolve(heard, orders)  # typed, the same text is not stretched that far
    assert typed.orders == [] and (typed.suggested == [] or order_id in [o.id for o in typed.suggested])


def test_several_of_their_ids_in_one_voice_message_are_asked_about():
    said = "My order 1073 1453"  # hotwords can make the recogniser add an id that was not said
    assert [o.id for o in resolve(said, HOSTED, heard=said).ambiguous] == ["1073", "1453"]
    assert [o.id for o in resolve(said, HOSTED).orders] == ["1073", "1453"]  # typed: both meant


def test_a_voice_message_near_an_id_gets_did_you_mean_in_the_reply(dashed_shop):
    with session_scope() as session:
        facts = ground_orders(
            session, dashed_shop["u-1"], "where is HO 2026 1014 0 0 7 4 now", r"[A-Z]{1,3}\d{3,6}", True, True,
            heard="where is HO 2026 1014 0 0 7 4 now",
        )  # fmt: skip
    assert not any(isinstance(f, OrderFact) for f in facts)
    reply = compose(["order_status"], facts, "en")
    assert reply is not None and reply.text.startswith("Did you mean order HO-20261014-0047")


def test_a_transcript_marks_their_ids_amounts_and_near_misses():
    from app.grounding.references import heard_marks

    said = "Where is order HO-20261102-0113? I paid $89.90"
    marks = heard_marks(said, ORDERS)
    assert [(said[m["start"] : m["end"]], m["kind"], m["value"]) for m in marks] == [
        ("HO-20261102-0113", "order", "HO-20261102-0113"),
        ("$89.90", "amount", "$89.90"),
    ]
    near = heard_marks("my order H0 2026 1102 0131 please", ORDERS)
    assert [(m["kind"], m["value"]) for m in near] == [("near", "HO-20261102-0113")]
    assert heard_marks("order HO-20990101-0001 please", ORDERS) == []  # nobody's, or someone else's: nothing


def test_dou_is_plural_only_of_orders():
    from app.grounding.orders import _PLURAL

    assert _PLURAL.search("我的订单都到了吗") and _PLURAL.search("所有订单的发票")
    assert not _PLURAL.search("你们客服都是饭桶吗，那单的发票号给我")  # about the staff: which order is asked


def test_an_id_written_out_that_is_none_of_theirs_is_not_resolved_by_description():
    orders = [
        Order("PD-2612-0440", Decimal("88.00"), datetime(2026, 12, 5, tzinfo=UTC), [Item("Dry bag (made to order)")]),
        Order("PD-2610-0366", Decimal("473.00"), datetime(2026, 10, 6, tzinfo=UTC), [Item("Touring kayak")]),
    ]
    found = resolve("where is my order PD-2611-0418? placed it last week", orders)
    assert found.orders == [] and found.unmatched == ["PD-2611-0418"], found
    # "my order" is not the item "made to order"; the kayak is still found by its name, and a model number
    # in an item's name is not taken for an order id.
    assert resolve("where is my order?", orders).orders == []
    assert [o.id for o in resolve("where is my touring kayak order?", orders).orders] == ["PD-2610-0366"]
    models = [Order("PD-1", Decimal("9.00"), datetime(2026, 12, 1, tzinfo=UTC), [Item("Pump HP2000 Pro")])]
    assert [o.id for o in resolve("did my HP2000 pump ship?", models).orders] == ["PD-1"]


def test_digits_before_a_check_letter_end_an_id_and_an_id_given_as_such_is_never_described():
    orders = [
        Order("TPK26-4449E", Decimal("89.00"), datetime(2026, 11, 3, tzinfo=UTC), [Item("Headlamp")]),
        Order("TPK26-4503M", Decimal("129.00"), datetime(2026, 11, 30, tzinfo=UTC), [Item("Trail shoes")]),
    ]
    assert [o.id for o in resolve("order ending in 4449, has it been delivered?", orders).orders] == ["TPK26-4449E"]
    assert [o.id for o in resolve("尾号4449的订单签收了吗", orders).orders] == ["TPK26-4449E"]
    found = resolve("I ordered by phone last week, order nr NL-20931. Where is it?", orders)
    assert found.orders == [] and found.unmatched == ["NL-20931"], found


def test_a_short_number_is_an_order_only_when_said_as_one():
    from app.grounding.orders import _said_as_id

    assert not _said_as_id("100", "礼品卡金额买错了,能退吗?想换成100的")
    assert _said_as_id("101", "where is order #101?") and _said_as_id("101", "订单号101到哪了")
    assert _said_as_id("A101", "A101") and _said_as_id("1001", "1001")


def test_last_night_is_yesterday():
    orders = [
        Order("IW261206003", Decimal("40.00"), datetime.now(UTC) - timedelta(hours=14), [Item("Ink")]),
        Order("IW261101001", Decimal("90.00"), datetime.now(UTC) - timedelta(days=36), [Item("Pen")]),
    ]
    assert [o.id for o in resolve("昨晚下的单地址填错了，还能改吗？", orders).orders] == ["IW261206003"]


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("where is MK.25.204417?", "MK.25.204417"),
        ("mk 25 204417 status", "MK.25.204417"),  # the dots said as spaces, lower case
        ("MK25204417 shipped?", "MK.25.204417"),
        ("is MK-25-204417 here", "MK.25.204417"),
        ("订单MK.25.204417到哪了", "MK.25.204417"),
        ("ending in 4417", "MK.25.204417"),
        ("I paid 25.20 for MK.25.203390", "MK.25.203390"),  # an amount beside it is no part of it
    ],
)
def test_ids_with_dots_are_one_id(text, order_id):
    orders = [
        Order("MK.25.204417", Decimal("59.00"), datetime(2026, 11, 20, tzinfo=UTC), [Item("Reading glasses")]),
        Order("MK.25.203390", Decimal("120.00"), datetime(2026, 10, 2, tzinfo=UTC), [Item("Sun hat")]),
    ]
    assert [o.id for o in resolve(text, orders).orders] == [order_id]
    # One of the same shape that is none of theirs is not found (and never described into one of theirs).
    found = resolve("my order MK.25.209999, where is it?", orders)
    assert found.orders == [] and found.unmatched == ["MK.25.209999"], found


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("where is the order that came to 617.90?", ["4471236"]),  # 607.90 with a digit misheard
        ("I paid $316.50 for it", ["4471299"]),
        ("I paid $350.50 for it", []),  # two digits off: nothing to ask about
    ],
)
def test_an_amount_one_digit_off_one_of_their_totals_is_asked_about(text, suggested):
    orders = [
        Order("4471236", Decimal("607.90"), datetime(2026, 11, 1, tzinfo=UTC)),
        Order("4471299", Decimal("315.50"), datetime(2026, 11, 2, tzinfo=UTC)),
    ]
    found = resolve(text, orders)
    assert found.orders == [] and [o.id for o in found.suggested] == suggested, found
    assert [o.id for o in resolve("the one that came to 607.90", orders).orders] == ["4471236"]


# Codes of letters and digits, as some shops give them; the customer quotes their end or their middle.
CODES = [
    Order("LMN-5E9C4N", Decimal("299.00"), datetime(2026, 12, 5, tzinfo=UTC), [Item("Silver hoops")]),
    Order("LMN-9H7K2S", Decimal("89.00"), datetime(2026, 12, 2, tzinfo=UTC), [Item("Charm bracelet")]),
    Order("LMN-4G9S2L", Decimal("129.00"), datetime(2026, 11, 26, tzinfo=UTC), [Item("Paperclip chain")]),
]


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("尾号4N那单到哪了？", "LMN-5E9C4N"),
        ("order ending in 2S — has it shipped yet?", "LMN-9H7K2S"),
        ("4G9S那个订单现在什么情况了", "LMN-4G9S2L"),
        ("where is 9h7k?", "LMN-9H7K2S"),
    ],
)
def test_a_code_is_found_by_its_last_characters_or_a_run_from_its_middle(text, order_id):
    found = resolve(text, CODES)
    assert [o.id for o in found.orders] == [order_id], found


def test_two_characters_need_a_cue_and_a_run_must_be_one_of_theirs_alone():
    assert not resolve("is 2S my size?", CODES).orders  # no cue: two characters name nothing
    assert not resolve("where is order 4G9S7Q?", CODES).orders  # a run none of their codes holds


BEDDING = [
    Order("BD-0412", Decimal("329.00"), datetime(2026, 11, 10, tzinfo=UTC), [Item("记忆棉护颈枕")], status="paid"),
    Order("BD-0398", Decimal("1299.00"), datetime(2026, 11, 2, tzinfo=UTC), [Item("桑蚕丝被 200×230")]),
    Order("BD-0377", Decimal("89.00"), datetime(2026, 10, 20, tzinfo=UTC), [Item("纯棉斜纹床单")]),
]


@pytest.mark.parametrize(("text", "order_id"), [("枕头的退款到账了吗", "BD-0412"), ("买的被子发货了吗", "BD-0398")])
def test_a_chinese_noun_with_its_suffix_names_the_good_its_product_name_writes_without(text, order_id):
    assert [o.id for o in resolve(text, BEDDING).orders] == [order_id]


def test_a_suffix_alone_names_nothing():
    assert resolve("桌子的订单到哪了", BEDDING).orders == []


@pytest.mark.parametrize(
    "text",
    [
        "My confirmation code is PX-88213-K, where is that parcel? I think it's the one with the desk lamp",
        "tracking number: 1Z99QQ7761, the standing desk one, has it shipped?",
    ],
)
def test_a_code_given_as_theirs_that_is_none_of_their_orders_is_not_replaced_by_a_description(text):
    found = resolve(text, ORDERS)
    assert found.orders == [] and found.unmatched, found
