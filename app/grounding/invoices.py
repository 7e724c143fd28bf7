"""Invoice facts: an extracted invoice matched to the customer's orders and judged by the shop's policy.

Policy (the demo shop's, and the common Chinese rule): an invoice is reimbursable only when it shows the
buyer's title and tax id and its total matches the order's. A number another customer (or an anonymous
chat) already sent is a duplicate; the same customer sending it again is told it is the one sent earlier.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.grounding.facts import InvoiceFact, order_fact
from app.shop import repository


def ground_invoice(
    session: Session,
    customer_id: int | None,
    extracted: dict[str, Any],
    attachment_id: int,
    earlier: str | None = None,
) -> InvoiceFact:
    number, total = extracted.get("number"), extracted.get("total")
    order = None
    if customer_id is not None and (number or total):
        order = repository.order_for_invoice(session, customer_id, number, Decimal(total) if total else None)
    problems = []  # codes; the composer's phrasebooks word them in the customer's language
    if not extracted.get("buyer"):
        problems.append("no_buyer")
    if not extracted.get("buyer_tax_id"):
        problems.append("no_buyer_tax_id")
    if order is None:
        problems.append("no_order")
    elif total is None or Decimal(total) != order.total:
        problems.append("total_mismatch")
    if any(extracted.get("confidence", {}).get(k, 0) < 0.6 for k in ("number", "total")):
        problems.append("unsure_reading")
    if earlier == "elsewhere":
        problems.append("duplicate")
    return InvoiceFact(
        attachment_id=attachment_id,
        number=number,
        total=total,
        currency=extracted.get("currency"),
        date=extracted.get("date"),
        buyer=extracted.get("buyer"),
        buyer_tax_id=extracted.get("buyer_tax_id"),
        seller=extracted.get("seller"),
        order_id=order.id if order else None,
        order_total=f"{order.total:.2f}" if order else None,
        reimbursable=not problems,
        problems=problems,
        duplicate=earlier == "elsewhere",
        resent=earlier == "resent",
        order=order_fact(order) if order else None,
    )
