"""SQL for the shop's data."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import AuditLog, Customer, Invoice, Order, OrderItem, PolicyArticle


def get_customer_by_ref(session: Session, ref: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.ref == ref))


def customers_by_ref(session: Session, refs: set[str]) -> list[Customer]:
    return list(session.scalars(select(Customer).where(Customer.ref.in_(refs)))) if refs else []


def orders_by_id(session: Session, ids: set[str]) -> list[Order]:
    """The orders with these ids, items and invoice loaded (what an upsert compares and replaces)."""
    if not ids:
        return []
    query = select(Order).where(Order.id.in_(ids)).options(selectinload(Order.items), selectinload(Order.invoice))
    return list(session.scalars(query))


def invoice_owners(session: Session, numbers: set[str]) -> dict[str, str]:
    """Invoice number -> the id of the order it belongs to, for those numbers."""
    if not numbers:
        return {}
    rows = session.execute(select(Invoice.number, Invoice.order_id).where(Invoice.number.in_(numbers)))
    return {number: order_id for number, order_id in rows}


def get_order(session: Session, order_id: str) -> Order | None:
    query = select(Order).where(Order.id == order_id).options(selectinload(Order.items), selectinload(Order.invoice))
    return session.scalar(query)


def order_id_for_invoice(session: Session, number: str) -> str | None:
    return session.scalar(select(Invoice.order_id).where(Invoice.number == number))


def count_customers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def recent_orders(session: Session, customer_id: int, limit: int) -> list[Order]:
    query = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.items), selectinload(Order.invoice))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def recent_currencies(session: Session, customer_id: int, limit: int) -> frozenset[str]:
    """The currencies of the customer's newest orders (upper case): the columns alone, no items."""
    query = select(Order.currency).where(Order.customer_id == customer_id).order_by(Order.placed_at.desc()).limit(limit)
    return frozenset(c.upper() for c in session.scalars(query) if c)


def find_customer_orders(session: Session, customer_id: int, refs: Sequence[str]) -> list[Order]:
    """The customer's orders whose id, tracking number or invoice number is among refs (upper case)."""
    query = (
        select(Order)
        .outerjoin(Invoice, Invoice.order_id == Order.id)
        .where(Order.customer_id == customer_id)
        .where(
            or_(
                func.upper(Order.id).in_(refs),
                func.upper(Order.tracking_no).in_(refs),
                func.upper(Invoice.number).in_(refs),
            )
        )
        .options(selectinload(Order.items), selectinload(Order.invoice))
        .order_by(Order.placed_at.desc())
    )
    return list(session.scalars(query).unique())


def order_for_invoice(session: Session, customer_id: int, number: str | None, total: Decimal | None) -> Order | None:
    """The customer's order an uploaded invoice belongs to: by the shop's invoice number, else by total."""
    base = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .options(selectinload(Order.items), selectinload(Order.invoice))
    )
    if number:
        found = session.scalar(base.join(Invoice, Invoice.order_id == Order.id).where(Invoice.number == number))
        if found:
            return found
    if total is not None:
        return session.scalar(base.where(Order.total == total).order_by(Order.placed_at.desc()).limit(1))
    return None


def catalogue(session: Session, limit: int = 6) -> list[tuple[str, Decimal, str]]:
    """(name, unit price, currency) of the products the shop's orders hold, each once, the latest price."""
    rows = session.execute(
        select(OrderItem.sku, OrderItem.name, OrderItem.unit_price, Order.currency)
        .join(Order, Order.id == OrderItem.order_id)
        .order_by(Order.placed_at.desc())
    )
    seen: dict[str, tuple[str, Decimal, str]] = {}
    for sku, name, price, currency in rows:
        seen.setdefault(sku, (name, price, currency))
    return list(seen.values())[:limit]


def all_articles(session: Session, retired: bool = False) -> list[PolicyArticle]:
    """The articles in force, and the retired ones too when asked."""
    query = select(PolicyArticle).order_by(PolicyArticle.id)
    if not retired:
        query = query.where(PolicyArticle.retired_at.is_(None))
    return list(session.scalars(query))


def newest_item(session: Session) -> tuple[int, str] | None:
    """The newest order item's id and name (read from the primary key): it changes whenever items are added."""
    row = session.execute(select(OrderItem.id, OrderItem.name).order_by(OrderItem.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def item_name(session: Session, item_id: int) -> str | None:
    return session.scalar(select(OrderItem.name).where(OrderItem.id == item_id))


def catalog_names(session: Session, after_id: int | None = None) -> list[str]:
    """The distinct names of the items the shop has sold (its catalog, as its orders show it); only those of
    items with an id above after_id when given."""
    query = select(OrderItem.name).distinct()
    if after_id is not None:
        query = query.where(OrderItem.id > after_id)
    return list(session.scalars(query))


def articles_fingerprint(session: Session) -> str:
    """A value that changes whenever an article is added, retired or edited."""
    rows = session.execute(
        select(PolicyArticle.id, PolicyArticle.version, PolicyArticle.content_hash)
        .where(PolicyArticle.retired_at.is_(None))
        .order_by(PolicyArticle.id)
    )
    return "|".join(f"{a}:{v}:{h}" for a, v, h in rows)


def audit(session: Session, actor: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    kind, _, who = actor.partition(":")
    session.add(
        AuditLog(
            actor_type={"user": "user", "key": "key"}.get(kind, "system"),
            actor_id=who or kind,
            action=action,
            target=target,
            detail=detail or {},
        )
    )
