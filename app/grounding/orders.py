"""Order facts: only the verified customer's own orders, found by the ids they mention."""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy.orm import Session

from app.grounding.facts import Fact, OrderNotFoundFact, order_fact
from app.grounding.text import normalize, tokenize
from app.shop import repository
from moderation.pii import find_pii

RECENT_ORDERS = 3
ITEM_SEARCH_ORDERS = 20
DIGIT_MATCH_ORDERS = 200


# Tracking and invoice numbers come in many shapes ("1Z999AA10123456784", "26442000000123456789").
_LONG_ID = r"[A-Za-z0-9][A-Za-z0-9-]{4,}[A-Za-z0-9]"
_MIN_ID_DIGITS = 4


@lru_cache(maxsize=8)
def _ref_pattern(pattern: str) -> re.Pattern[str]:
    # Not inside a longer word or number, and not the integer part of an amount ("1356.00").
    return re.compile(rf"(?<![A-Za-z0-9])(?:{pattern}|{_LONG_ID})(?![A-Za-z0-9]|[.,]\d)", re.IGNORECASE)


def extract_order_refs(text: str, pattern: str) -> list[str]:
    """Strings shaped like the shop's order ids, or like tracking/invoice numbers, in order."""
    refs: list[str] = []
    order_id = re.compile(pattern, re.IGNORECASE)
    folded = normalize(text)
    personal = [(h.start, h.end) for h in find_pii(folded)]  # a phone or card number is not an order number
    for match in _ref_pattern(pattern).finditer(folded):
        if any(start <= match.start() < end for start, end in personal):
            continue
        ref = match.group(0).upper()
        is_id = order_id.fullmatch(ref) or sum(c.isdigit() for c in ref) >= _MIN_ID_DIGITS
        if is_id and ref not in refs:
            refs.append(ref)
    return refs


def _by_digits(session: Session, customer_id: int, refs: list[str], found: set[str], matched: set[str]) -> list[Fact]:
    """Bare numbers that are the digits of exactly one of the customer's own orders ("order 1024": A1024).

    Speech recognition often drops an id's letter ("A one zero two four" is heard as "1024"); a person
    at the desk would still know which of this customer's orders is meant. A ref with letters is taken
    as written: "B1023" is never answered with the customer's A1023.
    """
    wanted = {ref: ref for ref in refs if ref.isdigit() and len(ref) >= 3}
    if not wanted:
        return []
    orders = repository.recent_orders(session, customer_id, DIGIT_MATCH_ORDERS)
    facts: list[Fact] = []
    for ref, digits in wanted.items():
        same = [o for o in orders if re.sub(r"\D", "", o.id) == digits]
        if len(same) == 1 and same[0].id not in found:
            found.add(same[0].id)
            matched.add(ref)
            facts.append(order_fact(same[0]))
    return facts


def ground_orders(
    session: Session, customer_id: int | None, text: str, pattern: str, wants_orders: bool, list_recent: bool
) -> list[Fact]:
    """Facts about the orders the customer asks about; others' orders yield only 'not found'.

    Without an order number, orders whose items the text names are used ("return my keyboard"), and
    the most recent ones when the customer asks about their orders in general (list_recent).
    """
    refs = extract_order_refs(text, pattern)
    if customer_id is None:
        if refs or wants_orders:
            return [OrderNotFoundFact(order_ref=r, anonymous=True) for r in refs] or [
                OrderNotFoundFact(order_ref="", anonymous=True)
            ]
        return []
    if not refs:
        if not wants_orders:
            return []
        recent = repository.recent_orders(session, customer_id, ITEM_SEARCH_ORDERS)
        words = set(tokenize(text))
        named = [o for o in recent if any(words & set(tokenize(i.name)) for i in o.items)]
        chosen = named or (recent[:RECENT_ORDERS] if list_recent else [])
        return [order_fact(o) for o in chosen]

    orders = repository.find_customer_orders(session, customer_id, refs)
    facts: list[Fact] = []
    matched: set[str] = set()
    for order in orders:
        keys = {
            order.id.upper(),
            (order.tracking_no or "").upper(),
            (order.invoice.number.upper() if order.invoice else ""),
        }
        matched |= keys & set(refs)
        facts.append(order_fact(order))
    facts += _by_digits(session, customer_id, [r for r in refs if r not in matched], {o.id for o in orders}, matched)
    # A bare number that matches nothing is only "an order we can't find" when orders are the topic.
    letters = re.compile(r"[A-Z]")
    for ref in refs:
        if ref not in matched and (wants_orders or letters.search(ref)):
            facts.append(OrderNotFoundFact(order_ref=ref, anonymous=False))
    return facts
