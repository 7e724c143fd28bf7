"""Facts: the typed contract between perception/grounding and the reply stages.

Every fact carries its source, so a reply's claims can be traced to the row or article they came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# An order in one of these statuses has not left the shop yet.
NOT_SENT = frozenset({"pending", "paid", "processing"})


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    status: str
    total: str
    currency: str
    placed_at: str  # ISO 8601
    carrier: str | None = None
    tracking_no: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    invoice_number: str | None = None
    invoice_total: str | None = None
    invoice_issued_at: str | None = None
    invoice_title: str | None = None
    invoice_tax_id: str | None = None
    delivered_at: str | None = None  # ISO 8601, from the order's status history
    refund_amount: str | None = None
    refund_destination: str | None = None
    kind: str = "order"

    @property
    def source(self) -> str:
        return f"orders:{self.order_id}"

    def prompt_line(self) -> str:
        parts = [
            f"order {self.order_id}: status {self.status}",
            f"total {self.total} {self.currency}",
            f"placed {self.placed_at[:10]}",
        ]
        if self.carrier:
            parts.append(f"carrier {self.carrier}")
        if self.tracking_no:
            parts.append(f"tracking number {self.tracking_no}")
        if self.delivered_at:
            parts.append(f"delivered {self.delivered_at[:10]}")
        if self.refund_amount:
            refund = f"refunded {self.refund_amount} {self.currency}"
            parts.append(refund + (f" to {self.refund_destination}" if self.refund_destination else ""))
        if self.items:
            parts.append("items " + ", ".join(f"{i['qty']} x {i['name']}" for i in self.items))
        if self.invoice_number:
            invoice = f"invoice {self.invoice_number} total {self.invoice_total}"
            invoice += f" issued {(self.invoice_issued_at or '')[:10]}"
            if self.invoice_title:
                invoice += f" to {self.invoice_title}"
            if self.invoice_tax_id:
                invoice += f" tax id {self.invoice_tax_id}"
            parts.append(invoice)
        return "; ".join(parts)


@dataclass(frozen=True)
class OrderNotFoundFact:
    """The customer named an order that this conversation may not see (or that doesn't exist)."""

    order_ref: str
    anonymous: bool
    kind: str = "order_not_found"

    @property
    def source(self) -> str:
        return f"orders:?{self.order_ref}"

    def prompt_line(self) -> str:
        # The customer's text is not a fact: the unmatched reference itself is kept out of the prompt, so no
        # reply can repeat an injected "code" or a stranger's number back as if it were an order.
        return "an order the customer mentioned: not found among this customer's orders"


@dataclass(frozen=True)
class OrderChoiceFact:
    """Several of the customer's own orders fit a partial reference ("ending in 47"): ask which one."""

    options: list[OrderFact]
    confirm: bool = False  # the customer's id was one character off this order's: "did you mean …?"
    kind: str = "order_choice"

    @property
    def source(self) -> str:
        return "orders:choice:" + ",".join(o.order_id for o in self.options)

    def prompt_line(self) -> str:
        listed = "; ".join(
            f"{o.order_id} ({', '.join(i['name'] for i in o.items[:2]) or 'no items'}, placed {o.placed_at[:10]})"
            for o in self.options
        )
        if self.confirm:
            return f"the order number the customer gave is one character off this order of theirs; ask: {listed}"
        return f"the customer may mean one of these orders; ask which: {listed}"


@dataclass(frozen=True)
class PolicyFact:
    article_id: str
    title: str
    text: str  # one passage (a sentence or line) of the article
    passage: int
    score: float
    locale: str
    version: int = 0  # the article's version the passage was read from: a sent reply records what it cited
    condition: str = ""  # the section heading it sits under: the case it applies to ("Fresh food (…)")
    verdict: str = ""  # "yes" / "no": a table row's answer in its yes/no column, "no" for an exception
    subject: str = ""  # what an item-specific row or exception is about ("Custom-engraved perfume bottles")
    row_key: str = ""  # a table row's status cell ("Paid"): what the policy says for that status alone
    kind: str = "policy"

    @property
    def source(self) -> str:
        return f"policy:{self.article_id}#{self.passage}"

    def prompt_line(self) -> str:
        return f"policy [{self.article_id}] {self.title}: {self.text}"


INVOICE_PROBLEMS = {
    "no_buyer": "it doesn't show the buyer's title",
    "no_buyer_tax_id": "it doesn't show the buyer's tax id",
    "no_order": "it doesn't match an order on this account",
    "total_mismatch": "its total differs from the order's total",
    "unsure_reading": "part of it was hard to read",
    "duplicate": "this invoice number was already submitted by someone else",
}


@dataclass(frozen=True)
class InvoiceFact:
    """An invoice the customer sent (read by OCR), checked against their orders and the invoice policy."""

    attachment_id: int
    number: str | None
    total: str | None
    currency: str | None
    date: str | None
    buyer: str | None
    buyer_tax_id: str | None
    seller: str | None
    order_id: str | None
    order_total: str | None
    reimbursable: bool
    problems: list[str] = field(default_factory=list)
    duplicate: bool = False
    resent: bool = False  # this customer sent the same invoice before: said, not held against it
    order: OrderFact | None = None
    kind: str = "invoice"

    @property
    def source(self) -> str:
        return f"attachment:{self.attachment_id}"

    def prompt_line(self) -> str:
        line = (
            f"uploaded invoice {self.number or '(number unreadable)'}: total {self.total} {self.currency}, "
            f"date {self.date}, buyer {self.buyer or '(none)'}, buyer tax id {self.buyer_tax_id or '(none)'}"
        )
        if self.order_id:
            line += f"; matches order {self.order_id} (order total {self.order_total})"
        if self.reimbursable:
            return f"{line}; reimbursable: it shows the buyer's title and tax id and its total matches the order"
        return f"{line}; not reimbursable: " + "; ".join(INVOICE_PROBLEMS.get(p, p) for p in self.problems)


@dataclass(frozen=True)
class RuleFact:
    """One of the shop's structured rules applied to one of the customer's orders (app/shop/rules.py)."""

    rule: str  # return_window_days | quality_window_days | price_protection_days | invoice_window_days
    # | address_change_statuses | warranty_term | invoice_change_days
    order_id: str
    days: int | None = None
    since: str | None = None  # what the window counts from: "delivery" or "order"
    start: str | None = None  # ISO date it started; None: not yet (the order isn't delivered)
    until: str | None = None  # ISO date of its last day
    open: bool | None = None  # still open today; None before it starts
    excluded: list[dict[str, str]] = field(default_factory=list)  # [{"name", "tag"}] items it doesn't cover
    status: str | None = None
    statuses: list[str] = field(default_factory=list)  # the statuses an address may still change in
    allowed: bool | None = None
    said: bool = False  # the delivery date is the customer's own account (start … start_latest), not a record
    at_least: bool = False  # no delivery date known; counted from the order date, so open at least until `until`
    start_latest: str | None = None
    # Price protection: the customer's stated current price of an item of the order, and the difference due
    item: str | None = None
    price_now: str | None = None
    difference: str | None = None
    term: str | None = None  # warranty_term: the term as the policy writes it ("6 months"), for `item`
    kind: str = "rule"

    @property
    def source(self) -> str:
        return f"rules:{self.rule}#{self.order_id}"

    def prompt_line(self) -> str:
        if self.rule == "address_change_statuses":
            verdict = "can" if self.allowed else "can no longer"
            return (
                f"order {self.order_id}: status {self.status}; its delivery address {verdict} be changed "
                f"(changes are possible while an order is {' or '.join(self.statuses)})"
            )
        if self.rule == "invoice_change_days":
            state = "still possible" if self.open else "no longer possible"
            event = "delivered" if self.since == "delivery" else "invoice issued"
            of = "delivery" if self.since == "delivery" else "issue"
            return (
                f"order {self.order_id}: {event} {self.start}; changes to its invoice within {self.days} days of "
                f"{of}, so until {self.until} ({state})"
            )
        if self.rule == "warranty_term":
            state = "still covered" if self.open else "no longer covered"
            good = f" for {self.item}" if self.item else ""
            return (
                f"order {self.order_id}: delivered {self.start}; the warranty of {self.term}{good} runs until "
                f"{self.until} ({state})"
            )
        what = {
            "return_window_days": "returns for any reason",
            "quality_window_days": "returns for a quality problem",
            "price_protection_days": "price protection",
            "invoice_window_days": "invoice requests",
        }[self.rule]
        line = f"order {self.order_id}: {what} within {self.days} days of {self.since}"
        if self.start is None:
            line += f"; not delivered yet, so the {self.days} days have not started"
        elif self.at_least:
            line += f"; placed {self.start}, delivered later, so open at least until {self.until}"
        elif self.said:
            when = f"between {self.start} and {self.start_latest}" if self.start_latest else f"on {self.start}"
            verdict = "open until" if self.open else "closed by"
            line += f"; the customer says it arrived {when}, so {verdict} {self.until}"
        else:
            line += f"; {self.since} {self.start}, so until {self.until} ({'open' if self.open else 'closed'})"
        if self.excluded:
            items = ", ".join(f"{i['name']} ({i['tag']})" for i in self.excluded)
            line += f"; not covered: {items}"
        if self.difference:
            said = f"at the {self.price_now} the customer says {self.item} costs now"
            line += f"; {said}, the difference is {self.difference}"
        return line


Fact = OrderFact | OrderNotFoundFact | OrderChoiceFact | PolicyFact | InvoiceFact | RuleFact


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    data = asdict(fact)
    data["source"] = fact.source
    return data


def order_fact(order: Any) -> OrderFact:
    """Make an OrderFact from an Order row (with items and invoice loaded)."""
    invoice = order.invoice
    return OrderFact(
        order_id=order.id,
        status=order.status,
        total=money(order.total),
        currency=order.currency,
        placed_at=_iso(order.placed_at),
        carrier=order.carrier,
        tracking_no=order.tracking_no,
        items=[
            {"sku": i.sku, "name": i.name, "qty": i.qty, "unit_price": money(i.unit_price), "tags": i.tags or []}
            for i in order.items
        ],
        invoice_number=invoice.number if invoice else None,
        invoice_total=money(invoice.total) if invoice else None,
        invoice_issued_at=_iso(invoice.issued_at) if invoice else None,
        invoice_title=invoice.title if invoice else None,
        invoice_tax_id=invoice.tax_id if invoice else None,
        delivered_at=_delivered(order.status_history or []),
        refund_amount=money(order.refund_amount) if order.refund_amount is not None else None,
        refund_destination=order.refund_destination,
    )


def _delivered(history: list[dict[str, Any]]) -> str | None:
    return next((e["at"] for e in reversed(history) if e.get("status") == "delivered"), None)


def order_fact_from_record(order: dict[str, Any]) -> OrderFact:
    """Make an OrderFact from an orders-file record (the seed schema), for evaluation sets."""
    invoice = order.get("invoice") or {}
    return OrderFact(
        order_id=order["id"],
        status=order["status"],
        total=money(Decimal(order["total"])),
        currency=order["currency"],
        placed_at=order["placed_at"],
        carrier=order.get("carrier"),
        tracking_no=order.get("tracking_no"),
        items=[{"qty": i["qty"], "name": i["name"]} for i in order.get("items", [])],
        invoice_number=invoice.get("number"),
        invoice_total=invoice.get("total"),
        invoice_issued_at=invoice.get("issued_at"),
        invoice_title=invoice.get("title"),
        invoice_tax_id=invoice.get("tax_id"),
    )


def _iso(value: datetime) -> str:
    return value.isoformat()
