"""A shipping question is answered by the ordinary service unless it asks for a fast one.

The articles are written here for the test (a houseware shop with a service table, en and zh), not taken
from any shop the rules were tuned on. Retrieval is a pure function of its inputs: no database.
"""

from __future__ import annotations

import pytest

from app.grounding.policies import PolicyIndex, expedited_only, passages
from app.models import PolicyArticle

SHIPPING = PolicyArticle(
    id="shipping-en",
    title="Delivery",
    locale="en",
    version=1,
    body=(
        "We deliver across the country from our depot.\n\n## Services\n\n"
        "| Service | Fee | Free over | Arrives |\n|---|---|---|---|\n"
        "| Overnight Express | $24 | — | next business day, order by noon |\n"
        "| Two-day Express | $12 | — | 2 business days, order by noon |\n"
        "| Standard Post | $5.50 | $80 | 4–7 business days |\n"
    ),
)
SHIPPING_ZH = PolicyArticle(
    id="shipping-zh",
    title="配送说明",
    locale="zh",
    version=1,
    body=(
        "## 配送方式\n\n"
        "- 加急件：次日达，运费 25 元，订单满多少都单独收取。\n"
        "- 标准快递：运费 8 元，订单满 129 元包邮，下单后 3-5 天送达。\n"
    ),
)


@pytest.fixture(scope="module")
def index() -> PolicyIndex:
    return PolicyIndex([SHIPPING, SHIPPING_ZH])


def _services(index: PolicyIndex, question: str, locale: str) -> list[str]:
    """The service rows among the passages retrieved, best first."""
    return [p.text for p in passages(index, question, locale, 5) if "Service" in p.text or "：" in p.text]


@pytest.mark.parametrize(
    ("question", "locale", "ordinary"),
    [
        ("how much is delivery for one mug, and how much do I need to spend for free delivery?", "en", "$5.50"),
        ("what does shipping cost on a small order?", "en", "$5.50"),
        ("满多少包邮？运费多少", "zh", "129"),
    ],
)
def test_a_question_about_the_fee_is_answered_by_the_ordinary_service(index, question, locale, ordinary):
    rows = _services(index, question, locale)
    assert len(rows) >= 2 and ordinary in rows[0], rows


@pytest.mark.parametrize(
    ("question", "locale", "fast"),
    [
        ("how much is overnight express, and can I still get it by tomorrow?", "en", "Overnight"),
        ("加急件运费多少？次日达吗", "zh", "次日达"),
    ],
)
def test_a_question_about_speed_finds_the_fast_service(index, question, locale, fast):
    assert fast in _services(index, question, locale)[0]


def test_a_couriers_name_is_not_a_fast_service():
    assert not expedited_only("Parcels go with SF Express or JD Express, 2–4 days")
    assert expedited_only("Express (DHL Express, 1–2 business days) costs 14.90 EUR")
    assert not expedited_only("Standard: 3–5 days; Express: 1 day")  # both services in one passage
