"""A sentence labelled with the goods it is about ("Refurbished lights: …") speaks for those goods only, and a
warranty term is found for the one good of the order the customer names.

The article and orders are written here for the test (a cycling-lights shop), not taken from any shop the
rules were tuned on.
"""

from __future__ import annotations

from typing import Any

from app.grounding.facts import OrderFact, RuleFact
from app.grounding.intents import detect_intents
from app.grounding.policies import PolicyIndex, applies_to, item_names, passages, states_term_for
from app.grounding.rules import stated_window
from app.grounding.text import tokenize
from app.llm.composer import compose
from app.models import PolicyArticle

FAULTS = PolicyArticle(
    id="faults-en",
    title="Faulty lights and warranty",
    locale="en",
    version=1,
    body=(
        "## First 20 days: refund or replacement\n\n"
        "If a light arrives faulty or stops working, tell us within 20 days of delivery.\n\n"
        "## After 20 days: warranty\n\n"
        "After the 20 days, faults are covered by our warranty.\n\n"
        "| Product | Warranty |\n|---|---|\n| Headlights | 24 months |\n| Mounts and straps | 6 months |\n\n"
        "Refurbished lights: if a refurbished light won't switch on, tell us within 5 days of delivery.\n"
    ),
)
INDEX = PolicyIndex([FAULTS])
# The words of what the shop sells, as `catalog_words` reads them from its orders.
CATALOG = frozenset(tokenize("Beam 1200 USB Headlight; Refurbished Beam 800 rear light; Quick-release bar mount"))


def _order(*goods: str) -> OrderFact:
    items: list[dict[str, Any]] = [{"name": n, "qty": 1} for n in goods]
    return OrderFact("BL-2207", "delivered", "89.00", "EUR", "2026-09-01T10:00:00+00:00", items=items)


def _facts(question: str, order: OrderFact) -> list[Any]:
    found = passages(INDEX, question, "en", 4, [order.status], [item_names([order])], CATALOG)
    return [order, *found]


def test_a_labelled_sentence_speaks_for_its_goods_only():
    order = _order("Beam 1200 USB Headlight")
    question = "my headlight from BL-2207 won't switch on any more, what can I do?"
    facts = _facts(question, order)
    labelled = next(f for f in facts[1:] if f.text.startswith("Refurbished lights"))
    assert labelled.subject == "light refurbish", labelled.subject
    assert not applies_to(labelled, question, item_names([order]))
    assert applies_to(labelled, "the refurbished light I bought won't switch on", item_names([order]))
    # Its 5 days are not this order's limit: the fault window of everything else is.
    assert stated_window(facts, question) == (20, "delivery")


def test_a_refurbished_order_is_still_answered_by_its_own_label():
    order = _order("Refurbished Beam 800 rear light")
    question = "the rear light from BL-2207 won't switch on"
    labelled = next(f for f in _facts(question, order)[1:] if f.text.startswith("Refurbished lights"))
    assert applies_to(labelled, question, item_names([order]))


def test_the_term_for_the_good_the_customer_names():
    items = item_names([_order("Beam 1200 USB Headlight", "Quick-release bar mount")])
    row = "Product: Headlights; Warranty: 24 months."
    assert states_term_for(row, items, "the headlight stopped charging, is it still covered?")
    # One shared word and no question naming it is not enough: "light" would name every row.
    assert not states_term_for(row, items)
    assert not states_term_for("Product: Mounts and straps; Warranty: 6 months.", items, "the headlight died")


def test_a_section_chosen_by_the_open_window_is_quoted_under_its_heading():
    """The customer named no case; the window did ("First 20 days"), and the heading says what that case
    offers: the reply quotes it, where the sentence alone would leave the remedy out."""
    order = _order("Beam 1200 USB Headlight")
    question = "the headlight I got last week from BL-2207 won't switch on at all, what are you going to do?"
    window = RuleFact("quality_window_days", "BL-2207", 20, "delivery", "2026-12-01", "2026-12-21", open=True)
    composition = compose(detect_intents(question), [*_facts(question, order), window], "en", question)
    assert composition is not None
    assert "First 20 days: refund or replacement: If a light arrives faulty" in composition.text, composition.text
    assert "Refurbished lights" not in composition.text, composition.text
