"""The shop's structured rules applied to the customer's own orders: is the return window still open for
this order, which of its items the rule doesn't cover, can its address still change.

Only to orders the turn already resolved as the customer's own. A window the shop set is applied; one it
did not set is read from the policy article that answers the question, when that article states exactly one
limit counted from an event ("within 7 days of payment", "签收后 15 天内"): a shop's articles are its rules
too, and a customer asking "can I still…" is owed the date, not only the rule. Day counts run from the
delivery date in the order's status history or from the order date; a window's last day is start + days. An
order delivered on a date nobody recorded gets no verdict (never "not delivered yet").
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.grounding.dates import delivered_said
from app.grounding.facts import NOT_SENT, Fact, OrderFact, PolicyFact, RuleFact
from app.grounding.intents import detect_aspects
from app.grounding.numbers import amounts_as_numbers
from app.grounding.policies import (
    applies_to,
    asks_invoice_change,
    change_window,
    change_window_after_delivery,
    excludes_outright,
    in_currency,
    is_charge,
    is_exclusion,
    item_names,
    item_overlap,
    named_conditions,
    names_items,
    names_part,
    states_term,
    states_term_for,
)
from app.shop import rules as shop_rules
from app.shop.rules import ShopRules

# Which window a question about each intent asks about; "quality" (an aspect) picks the fault window.
_WINDOWS = {
    "return": "return_window_days",
    "price_protection": "price_protection_days",
    "invoice": "invoice_window_days",  # no structured rule: the invoice article's own "request within …"
}
# An order that gets no invoice whatever the date: nothing to request.
NO_INVOICE = frozenset({"pending", "cancelled", "canceled", "refunded"})
# Statuses before delivery: a window counted from delivery has not started.
_BEFORE_DELIVERY = NOT_SENT | {"shipped"}
# "Within 7 days of receiving the label" counts from the label's arrival, not the order's.
_NOT_GOODS = (
    r"(?:the\s+|your\s+|our\s+|a\s+)?(?:return\s+)?(?:label|e-?mail|code|refund|confirmation|approval|instructions)"
)
# A limit counted from an event, as articles state it (calendar days only: business days can't be counted
# without the shop's calendar).
_STATED = re.compile(
    r"(\d+)\s*(?:calendar\s+)?(days?|weeks?|months?)\s+(?:of|after|from)\s+(?:the\s+|your\s+|you\s+)?"
    r"(delivery|receipt|receiving|arrival|payment|purchase|order|paying|buying|paid|ordered|bought|received)\b"
    r"(?!\s+(?:of\s+)?" + _NOT_GOODS + ")"
    r"|(付款|支付|签收|收货|下单|购买|到货)(?:之日)?(?:后|起)\s*(\d+)\s*(?:个)?(天|日|周|月)",
    re.IGNORECASE,
)
_FROM_DELIVERY = frozenset({"delivery", "receipt", "receiving", "arrival", "received", "签收", "收货", "到货"})
MIN_STATED_SCORE = 1.0  # the composer's bar for quoting a passage (app/llm/composer.py MIN_POLICY_SCORE)


def _day(value: str) -> date:
    return datetime.fromisoformat(value).date()


def _limits(text: str) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for match in _STATED.finditer(text):
        if match.group(1):
            count, unit, event = int(match.group(1)), match.group(2).lower(), match.group(3).lower()
        else:
            event, count, unit = match.group(4), int(match.group(5)), match.group(6)
        if unit.startswith(("month", "月")):
            days = round(count * 365 / 12)  # "within 12 months of the order date": 365 days
        else:
            days = count * 7 if unit.startswith(("week", "周")) else count
        found.add((days, "delivery" if event in _FROM_DELIVERY else "order"))
    return found


def stated_window(facts: list[Fact], question: str = "") -> tuple[int, str] | None:
    """(days, "delivery" | "order"): the limit that the best-matching article's retrieved passages state for
    this question. The best passage's own limit when it states one ("within 7 days of delivery for any
    reason", ranked over the 30 days for defects); else the one limit the others state. None when they state
    several and the best states none, when the article's sections give different limits and the question
    names none of them (the composer lists each), or when the best passage is an exclusion (a window would
    contradict "can't be returned")."""
    policies = [f for f in facts if isinstance(f, PolicyFact) and f.score >= MIN_STATED_SCORE]
    orders = [f for f in facts if isinstance(f, OrderFact)]
    if orders:
        # "Refurbished items: … within 7 days" is not the limit of an order of new chargers.
        items = item_names(orders)
        policies = [p for p in policies if applies_to(p, question, items)]
    if question:
        # "Used items can't be returned for any reason" does not answer "it's still sealed, can I return it?"
        policies = [p for p in policies if not is_exclusion(p) or excludes_outright(p, question)]
    if not policies or is_exclusion(policies[0]):
        return None
    article = [p for p in policies if p.article_id == policies[0].article_id]
    by_section: dict[str, set[tuple[int, str]]] = {}
    for passage in article:
        if passage.condition and (limits := _limits(passage.text)):
            by_section.setdefault(passage.condition, set()).update(limits)
    if len({frozenset(limits) for limits in by_section.values()}) > 1:
        named = [c for c in named_conditions(question, article)[1] if c in by_section]
        if len(named) != 1:
            return None
        article = [p for p in article if p.condition in (named[0], "")]
    best = _limits(article[0].text)
    if len(best) == 1:
        return best.pop()
    if best:
        return None  # the best passage itself states several
    found = set().union(*(_limits(p.text) for p in article))
    return found.pop() if len(found) == 1 else None


def excluded_items(rule: str, order: OrderFact, excluded: set[str]) -> list[dict[str, str]]:
    return [
        {"name": str(item["name"]), "tag": tag}
        for item in order.items
        for tag in item.get("tags", [])[:1]
        if rule == "return_window_days" and tag in excluded
    ]


def _said_window(
    rule: str, days: int, order: OrderFact, items: list[dict[str, str]], said: tuple[date, date], today: date
) -> RuleFact | None:
    earliest, latest = said
    if latest + timedelta(days=days) < today:
        is_open, until = False, latest + timedelta(days=days)  # closed whichever day it came
    elif earliest + timedelta(days=days) >= today:
        is_open, until = True, earliest + timedelta(days=days)  # open whichever day: until the earliest end
    else:
        return None  # open or closed depending on the day: a person asks
    return RuleFact(
        rule,
        order.order_id,
        days=days,
        since="delivery",
        start=earliest.isoformat(),
        start_latest=latest.isoformat() if latest != earliest else None,
        until=until.isoformat(),
        open=is_open,
        excluded=items,
        said=True,
    )


def _window(
    rule: str,
    days: int,
    order: OrderFact,
    excluded: set[str],
    today: date,
    since: str | None = None,
    said: tuple[date, date] | None = None,
) -> RuleFact | None:
    since = since or ("order" if rule == "price_protection_days" else "delivery")
    started = order.placed_at if since == "order" else order.delivered_at
    if started is None and order.status not in _BEFORE_DELIVERY:
        # Delivered (or returned…) on a date nobody recorded: the customer's own account, when they give one
        # and every day it allows gives the same verdict; else no verdict (never "not delivered yet").
        items = excluded_items(rule, order, excluded)
        if said:
            return _said_window(rule, days, order, items, said, today)
        # It came after it was ordered: a window that is open counted from the order date is open now.
        until = _day(order.placed_at) + timedelta(days=days)
        if until < today:
            return None
        return RuleFact(
            rule,
            order.order_id,
            days=days,
            since="delivery",
            start=_day(order.placed_at).isoformat(),
            until=until.isoformat(),
            open=True,
            excluded=items,
            at_least=True,
        )
    items = excluded_items(rule, order, excluded)
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
    return apply_rules(shop_rules.current(session), intents, detect_aspects(question), facts, today, question)


def apply_rules(
    rules: ShopRules, intents: list[str], aspects: list[str], facts: list[Fact], today: date, question: str = ""
) -> list[Fact]:
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
    change = invoice_change(facts, orders, today) if intent == "invoice" and asks_invoice_change(question) else None
    if change is not None:
        return [change]  # "Can you redo it with my company's name?" of an issued invoice: until when it can
    rule = _WINDOWS.get(intent)
    if rule == "return_window_days" and "quality" in aspects:
        # A fault's window: the shop's rule for it, else the limit its article states; never "a return for
        # any reason".
        rule = "quality_window_days"
    if rule is None:
        return []
    if rule == "invoice_window_days":
        # A window to request an invoice only for orders that have none yet and can get one.
        orders = [o for o in orders if not o.invoice_number and o.status not in NO_INVOICE]
        if not orders:
            return []
    days, since = getattr(rules, rule, None), None
    if days is None and (stated := stated_window(facts, question)) is not None:
        days, since = stated  # the shop set no such rule: the article's own limit
    windows: list[RuleFact] = []
    if days is not None:
        excluded = set(rules.excluded_categories or [])
        said = delivered_said(question, today) if len(orders) == 1 else None  # about the one order asked about
        windows = [w for w in (_window(rule, days, order, excluded, today, since, said) for order in orders) if w]
    if rule == "price_protection_days" and len(windows) == 1 and windows[0].open:
        drop = price_drop(question, orders[0])
        if drop is not None:
            windows[0] = replace(windows[0], item=drop[0], price_now=drop[1], difference=drop[2])
    if rule == "quality_window_days" and len(orders) == 1 and not any(w.open for w in windows):
        # Past the fault window (or none stated): the warranty term for the order's goods, from its delivery.
        term = warranty_term(facts, question, orders[0], today)
        windows += [term] if term else []
    return list(windows)


_FAPIAO = re.compile(r"\bfapiao\b", re.IGNORECASE)  # China's invoice, by its English name


def invoice_change(facts: list[Fact], orders: list[OrderFact], today: date) -> RuleFact | None:
    """The window to change the one order's issued invoice, counted from its issue date, as the retrieved
    passages state it ("within 30 days of the invoice date"); None without an issued invoice or a stated window."""
    issued = [o for o in orders if o.invoice_number and o.invoice_issued_at]
    if len(issued) != 1:
        return None
    order = issued[0]
    # (a passage for another currency's invoices, "eu (EUR): VAT invoices", or for a Chinese fapiao of an order
    # not paid in CNY, is not this invoice's rule)
    paid_in = {order.currency.upper()}
    policies = [
        f
        for f in facts
        if isinstance(f, PolicyFact)
        and in_currency(f, paid_in)
        and not (paid_in != {"CNY"} and _FAPIAO.search(f"{f.condition} {f.text}"))
    ]
    days = next((d for f in policies if (d := change_window(f.text)) is not None), None)
    since, started = "invoice", order.invoice_issued_at
    if days is None:
        # Or counted from delivery ("up to 60 days after delivery"), when the order was delivered.
        days = next((d for f in policies if (d := change_window_after_delivery(f.text)) is not None), None)
        since, started = "delivery", order.delivered_at
    if days is None or not started:
        return None
    start = date.fromisoformat(str(started)[:10])
    until = start + timedelta(days=days)
    return RuleFact(
        "invoice_change_days",
        order.order_id,
        days=days,
        since=since,
        start=start.isoformat(),
        until=until.isoformat(),
        open=until >= today,
    )


# A warranty's term as policies write it ("6 months", "2 years", "12个月", "两年"), and its number and unit.
_TERM_PARTS = re.compile(r"(\d+)\s*(years?|months?|年|个月)", re.IGNORECASE)


def warranty_term(facts: list[Fact], question: str, order: OrderFact, today: date) -> RuleFact | None:
    """The warranty term the retrieved passages state for the order's goods ("Watch battery … Covered for: 6
    months"; "my 65W charger": the row for chargers), counted from the order's delivery: until when it runs,
    and whether it still does. None when the order has no delivery date, or no passage states one term for
    its goods."""
    if not order.delivered_at:
        return None
    items = item_names([order])
    policies = [f for f in facts if isinstance(f, PolicyFact)]
    if any(f.subject and applies_to(f, question, items) for f in policies):
        return None  # a passage for some goods only ("Refurbished items: …") speaks for these: not the table
    # The row that names the goods best ("眼镜盒…: 无" over "眼镜架…: 6 个月" for a glasses case), if it states a term.
    fact = max(
        (f for f in policies if names_items(f.text, items)), key=lambda f: item_overlap(f.text, items), default=None
    )
    if fact is None or not states_term_for(fact.text, items, question):
        return None
    # Another row for a part the customer names ("is a new battery covered?": "Watch battery … 6 months"
    # beside the watch's 24 months): which term applies is for a person to say.
    if any(f is not fact and states_term(f.text) and names_part(f.text, question, items, fact.text) for f in policies):
        return None
    written = amounts_as_numbers(fact.text)
    terms = {(int(n), unit.lower()) for n, unit in _TERM_PARTS.findall(written)}
    if len(terms) != 1:
        return None  # the row states several ("2 years, 1 year on the battery"): a person reads it
    count, unit = terms.pop()
    months = count * 12 if unit.startswith(("year", "年")) else count
    start = date.fromisoformat(order.delivered_at[:10])
    until = _add_months(start, months)
    term = _TERM_PARTS.search(written)
    return RuleFact(
        "warranty_term",
        order.order_id,
        days=(until - start).days,
        since="delivery",
        start=start.isoformat(),
        until=until.isoformat(),
        open=until >= today,
        item=_item_said(order, question),
        term=term.group(0) if term else None,
    )


def _add_months(start: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has no such day: 31 Aug + 6 → 28 Feb)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(start.day, last))


def _item_said(order: OrderFact, question: str) -> str | None:
    """The order's good the question names, else its only one (None when neither)."""
    goods = [str(i.get("name", "")) for i in order.items if not is_charge(i)]
    named = [g for g in goods if names_items(question, g)]
    return named[0] if len(named) == 1 else goods[0] if len(goods) == 1 else None


# An amount as customers write it: "259", "259.00", "¥259", "259元"; not part of an id, a date or a longer number.
_AMOUNT = re.compile(
    r"(?<![A-Za-z0-9_.\-/])(?:[¥$€£]\s?)?(\d{1,6}(?:\.\d{1,2})?)(?![A-Za-z0-9_.\-/:]|\s?(?:号|日|月|年|点|%|个|件|天))"
)


# What a price came down by, as customers say it: "便宜了300", "降了50元", "$40 cheaper", "dropped by 20".
_CHEAPER_BY = re.compile(
    r"(?:便宜了|降了|少了|低了|便宜)\s*[¥$€£]?\s?(\d+(?:\.\d{1,2})?)"
    r"|[¥$€£]?\s?(\d+(?:\.\d{1,2})?)\s*(?:元|块|dollars?|euros?|pounds?|bucks|eur|usd)?\s*(?:cheaper|less)\b"
    r"|\b(?:dropped|went down|reduced|fell|came down) by\s*[¥$€£]?\s?(\d+(?:\.\d{1,2})?)",
    re.IGNORECASE,
)


def price_drop(question: str, order: OrderFact) -> tuple[str, str, str] | None:
    """(item, the price now, the difference for the quantity bought) when the customer says what an item of
    the order costs now and it is less than they paid ("bought the carrier at 289, now it's 259"): the item
    whose price they also state, else the order's only item. None when they state no lower price, or when
    it isn't clear which item, or the drop is implausible (to under a fifth of the price)."""
    said = amounts_as_numbers(question)
    stated = [Decimal(m.group(1)) for m in _AMOUNT.finditer(said)]
    priced = [i for i in order.items if i.get("unit_price")]
    paid_said = [i for i in priced if Decimal(str(i["unit_price"])) in stated]
    # Or the item the question names ("the tennis bracelet … is $89 now"), or the order's only one.
    named = [i for i in priced if names_items(question, str(i.get("name", "")))]
    candidates = paid_said or (named if len(named) == 1 else []) or (priced if len(priced) == 1 else [])
    if len(candidates) != 1:
        return None
    item = candidates[0]
    paid = Decimal(str(item["unit_price"]))
    # "官网便宜了300", "it's $40 cheaper now": what it came down by, not what it costs now
    by = [Decimal(next(g for g in m.groups() if g)) for m in _CHEAPER_BY.finditer(said)]
    lower = [a for a in stated if paid / 5 <= a < paid and a not in by]
    if not lower and by and 0 < by[-1] < paid:
        lower = [paid - by[-1]]
    if not lower:
        return None
    now = lower[-1]  # "289, 今天降到259": the price it came down to is said last
    difference = (paid - now) * int(item.get("qty") or 1)
    return str(item["name"]), f"{now:.2f}", f"{difference:.2f}"
