"""The shop's structured rules applied to the customer's own orders: is the return window still open for
this order, which of its items the rule doesn't cover, can its address still change.

Only what the shop set is applied (an unset rule gives no fact), and only to orders the turn already
resolved as the customer's own. Day counts run from the delivery date in the order's status history
(returns) or from the order date (price protection); a window's last day is start + days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.grounding.facts import Fact, OrderFact, RuleFact
from app.grounding.intents import detect_aspects
from app.shop import rules as shop_rules
from app.shop.rules import ShopRules

# Which window a question about each intent asks about; "quality" (an aspect) picks the fault window.
_WINDOWS = {"return": "return_window_days", "price_protection": "price_protection_days"}


def _day(value: str) -> date:
    return datetime.fromisoformat(value).date()


def _window(rule: str, days: int, order: OrderFact, excluded: set[str], today: date) -> RuleFact:
    since = "order" if rule == "price_protection_days" else "delivery"
    started = order.placed_at if since == "order" else order.delivered_at
    items = [
        {"name": str(item["name"]), "tag": tag}
        for item in order.items
        for tag in item.get("tags", [])[:1]
        if rule == "return_window_days" and tag in excluded
    ]
    if started is None:
        return RuleFact(rule, order.order_id, days=days, since=since, excluded=items)
    start = _day(started)
    until = start + timedelta(days=days)
    return RuleFact(
        rule,
        order.order_id,
        days=days,
        since=since,
        start=start.isoformat(),
        until=until.isoformat(),
        open=today <= until,
        excluded=items,
    )


def ground_rules(session: Session, intents: list[str], question: str, facts: list[Fact], today: date) -> list[Fact]:
    """The shop's rules applied to the turn's orders; read from the database only when one could apply."""
    if not intents or not any(isinstance(f, OrderFact) for f in facts):
        return []
    return apply_rules(shop_rules.current(session), intents, detect_aspects(question), facts, today)


def apply_rules(rules: ShopRules, intents: list[str], aspects: list[str], facts: list[Fact], today: date) -> list[Fact]:
    """Rule facts for the question's leading intent and the orders among the facts."""
    orders = [f for f in facts if isinstance(f, OrderFact)]
    if not orders or not intents:
        return []
    intent = intents[0]
    found: list[Fact] = []
    if intent == "address_change" and rules.address_change_statuses:
        allowed = rules.address_change_statuses
        for order in orders:
            found.append(
                RuleFact(
                    "address_change_statuses",
                    order.order_id,
                    status=order.status,
                    statuses=allowed,
                    allowed=order.status in allowed,
                )
            )
        return found
    rule = _WINDOWS.get(intent)
    if rule == "return_window_days" and "quality" in aspects and rules.quality_window_days is not None:
        rule = "quality_window_days"
    days = getattr(rules, rule) if rule else None
    if rule is None or days is None:
        return []
    excluded = set(rules.excluded_categories or [])
    return [_window(rule, days, order, excluded, today) for order in orders]
