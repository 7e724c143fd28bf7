"""Order facts: only the verified customer's own orders, found by how the customer refers to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from app.grounding import references
from app.grounding.facts import Fact, OrderChoiceFact, OrderNotFoundFact, order_fact
from app.grounding.intents import mentions_own_order
from app.grounding.references import compact
from app.grounding.text import normalize
from app.shop import repository
from moderation.pii import find_pii

RECENT_ORDERS = 3
MAX_ORDERS = 3
MAX_CHOICES = 4
# "where are my orders", "all my orders", "我的订单都": the customer asks about all of them, not one.
_PLURAL = re.compile(
    # 都 only of orders ("我的订单都到了吗"): "你们客服都是…" is about the staff, not several orders.
    r"\b(?:orders|parcels|packages|purchases|all (?:of )?my)\b|所有|全部|(?:订单|单子|包裹|快递|东西)都|哪些|几个订单",
    re.IGNORECASE,
)
CANDIDATE_ORDERS = 200  # the customer's newest orders that references are resolved against


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


def _said_as_id(ref: str, text: str) -> bool:
    """Id-like text the customer gives as an id: with letters, four digits or more, or after "order", "#",
    "订单号" ("#101"); "想换成100的" (the 100 one) names no order."""
    if re.search(r"[A-Za-z]", ref) or len(ref) >= _MIN_ID_DIGITS:
        return True
    cue = r"(?:order|ord|no|nr|number|#|订单号?|单号|编号)\s*(?:no\.?|nr\.?|number|id)?\s*[:：#]?\s*"
    return bool(re.search(cue + re.escape(ref) + r"(?!\d)", normalize(text), re.IGNORECASE))


def _covered(ref: str, orders: list[Any]) -> bool:
    """The id-like text is part of one of these orders' ids, tracking or invoice numbers."""
    wanted = compact(ref)
    return any(wanted in key or re.sub(r"\D", "", key) == wanted for o in orders for key in references.keys(o))


def ground_orders(
    session: Session,
    customer_id: int | None,
    text: str,
    pattern: str,
    wants_orders: bool,
    list_recent: bool,
    heard: str = "",
) -> list[Fact]:
    """Facts about the orders the customer refers to, found among their own orders only.

    Id-like text that is none of their orders yields "not found" (the text itself is never repeated back);
    several orders that fit a partial reference yield a choice to ask about; with no reference at all,
    the most recent orders when the customer asks about their orders in general (list_recent). `heard` is
    what a voice message said: an id heard nearly right is offered for confirmation, never answered.
    """
    refs = extract_order_refs(text, pattern)
    if customer_id is None:
        # Without a verified customer no order is visible; say so only when the customer means one of theirs
        # (a policy question from an anonymous visitor is answered from the policy alone).
        if refs or (wants_orders and mentions_own_order(text)):
            return [OrderNotFoundFact(order_ref=refs[0] if refs else "", anonymous=True)]
        return []
    orders = repository.recent_orders(session, customer_id, CANDIDATE_ORDERS)
    found = references.resolve(text, orders, about_orders=wants_orders, heard=heard)
    facts: list[Fact] = [order_fact(o) for o in found.orders[:MAX_ORDERS]]
    if found.ambiguous:
        facts.append(OrderChoiceFact(options=[order_fact(o) for o in found.ambiguous[:MAX_CHOICES]]))
    if found.suggested:
        facts.append(OrderChoiceFact(options=[order_fact(o) for o in found.suggested], confirm=True))
    seen = found.orders + found.ambiguous + found.suggested
    letters = re.compile(r"[A-Z]")
    unknown = [
        r for r in refs if not _covered(r, seen) and (wants_orders or letters.search(r)) and _said_as_id(r, text)
    ]
    unknown += [r for r in found.unmatched if r not in unknown]
    if unknown and not seen:
        facts.append(OrderNotFoundFact(order_ref=unknown[0], anonymous=False))
    elif not seen and wants_orders and (list_recent or mentions_own_order(text)) and orders:
        if len(orders) == 1 or _PLURAL.search(text):
            facts += [order_fact(o) for o in orders[:RECENT_ORDERS]]  # "where are my orders": all of them
        else:
            facts.append(OrderChoiceFact(options=[order_fact(o) for o in orders[:MAX_CHOICES]]))  # which one?
    return facts


SPEECH_HINT_ORDERS = 8


def heard_marks(session: Session, customer_id: int | None, transcript: str) -> list[dict[str, Any]]:
    """The customer's own ids, amounts and near-miss ids in a voice message's transcript (references.heard_marks),
    for agents to see what the answer rests on; nobody else's orders are looked at."""
    if customer_id is None or not transcript:
        return []
    orders = repository.recent_orders(session, customer_id, CANDIDATE_ORDERS)
    return references.heard_marks(transcript, orders)


@dataclass
class SpeechHints:
    """What a voice message from this customer is likely to name (their own orders, nobody else's)."""

    ids: list[str] = field(default_factory=list)  # their recent order ids, matched against what was heard
    totals: list[Decimal] = field(default_factory=list)  # those orders' totals, the same
    words: list[str] = field(default_factory=list)  # ids, products and amounts: the recogniser's hotwords


def speech_hints(session: Session, customer_id: int | None) -> SpeechHints:
    """The customer's own recent order ids, products and amounts, to bias speech recognition before the
    audio is decoded and to match the ids it heard against."""
    if customer_id is None:
        return SpeechHints()
    orders = repository.recent_orders(session, customer_id, SPEECH_HINT_ORDERS)
    ids = [o.id for o in orders]
    products = [i.name for o in orders for i in o.items]
    amounts = [f"{o.total:.2f}" for o in orders]
    return SpeechHints(ids, [o.total for o in orders], [*ids, *products, *amounts])
