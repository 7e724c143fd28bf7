"""Load the shop's customers, orders and policy articles (`shopdesk seed`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.models import Customer, Invoice, Order, OrderItem, PolicyArticle
from app.shop import repository
from app.shop.schemas import CustomerSeed, OrderSeed, OrdersFile

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
_CJK = re.compile(r"[\u3400-\u9fff]")


class SeedError(ValueError):
    """The seed input is malformed; the message names the bad record."""


@dataclass
class SeedReport:
    customers: int = 0
    orders: int = 0
    articles: int = 0
    changed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "orders": self.orders, "articles": self.articles}


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}" for e in error.errors()[:5])


def _validate(model: type[BaseModel], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise SeedError(f"{where}: expected an object, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SeedError(f"{where}: {_describe(exc)}") from None


def parse_orders_file(path: Path) -> tuple[list[CustomerSeed], list[OrderSeed]]:
    """Read and validate the orders file, naming the first bad record."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SeedError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise SeedError(f"{path}: expected an object with 'customers' and 'orders'")
    try:
        top = OrdersFile.model_validate(raw)
    except ValidationError as exc:
        raise SeedError(f"{path}: {_describe(exc)}") from None

    customers = [_validate(CustomerSeed, c, f"customers[{i}]") for i, c in enumerate(top.customers)]
    orders: list[OrderSeed] = []
    for i, record in enumerate(top.orders):
        label = f"orders[{i}]"
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            label += f" (id {record['id']!r})"
        orders.append(_validate(OrderSeed, record, label))
    _check_unique([c.ref for c in customers], "customers", "ref")
    _check_unique([o.id for o in orders], "orders", "id")
    _check_unique([o.invoice.number for o in orders if o.invoice], "orders", "invoice.number")
    return customers, orders


def _check_unique(values: list[str], what: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SeedError(f"{what}[{i}]: duplicate {key} {value!r}")
        seen.add(value)


def seed_orders(session: Session, path: Path) -> SeedReport:
    """Upsert customers and orders from the file; all or nothing (the caller's transaction)."""
    customers, orders = parse_orders_file(path)
    report = SeedReport()
    by_ref: dict[str, Customer] = {}
    for person in customers:
        customer = repository.get_customer_by_ref(session, person.ref)
        if customer is None:
            customer = Customer(ref=person.ref, name=person.name)
            session.add(customer)
        else:
            customer.name = person.name
        by_ref[person.ref] = customer
        report.customers += 1
    session.flush()

    for i, seed in enumerate(orders):
        customer = by_ref.get(seed.customer_ref) or repository.get_customer_by_ref(session, seed.customer_ref)
        if customer is None:
            raise SeedError(f"orders[{i}] (id {seed.id!r}): unknown customer_ref {seed.customer_ref!r}")
        if seed.invoice is not None:
            owner = repository.order_id_for_invoice(session, seed.invoice.number)
            if owner and owner != seed.id:
                raise SeedError(
                    f"orders[{i}] (id {seed.id!r}): invoice {seed.invoice.number!r} already belongs to order {owner!r}"
                )
        _upsert_order(session, seed, customer)
        report.orders += 1
    session.flush()
    return report


def _upsert_order(session: Session, seed: OrderSeed, customer: Customer) -> None:
    order = session.get(Order, seed.id)
    if order is None:
        order = Order(id=seed.id)
        session.add(order)
    order.customer = customer
    order.status = seed.status
    order.carrier = seed.carrier
    order.tracking_no = seed.tracking_no
    order.total = seed.total
    order.currency = seed.currency
    order.placed_at = seed.placed_at
    order.items = [OrderItem(sku=it.sku, name=it.name, qty=it.qty, unit_price=it.unit_price) for it in seed.items]
    if seed.invoice is None:
        order.invoice = None
        return
    if order.invoice is None:
        order.invoice = Invoice(number=seed.invoice.number, total=seed.invoice.total, issued_at=seed.invoice.issued_at)
    inv = order.invoice
    inv.number, inv.total, inv.issued_at = seed.invoice.number, seed.invoice.total, seed.invoice.issued_at
    inv.title, inv.tax_id = seed.invoice.title, seed.invoice.tax_id


def parse_article(path: Path) -> PolicyArticle:
    """Read one Markdown policy article: `# Title` on the first line, the body after."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise SeedError(f"{path}: not UTF-8 text") from None
    first, _, body = text.partition("\n")
    if not first.startswith("# ") or not first[2:].strip():
        raise SeedError(f"{path}: the first line must be '# Title'")
    body = body.strip()
    if not body:
        raise SeedError(f"{path}: the article has no body")
    title = first[2:].strip()
    locale = "zh" if len(_CJK.findall(title + body)) > len(body) * 0.1 else "en"
    digest = hashlib.sha256(text.encode()).hexdigest()
    return PolicyArticle(id=path.stem[:128], title=title, body=body, locale=locale, content_hash=digest)


def seed_articles(session: Session, kb_dir: Path) -> SeedReport:
    """Upsert every `*.md` article in the folder (the file stem is the article id)."""
    if not kb_dir.is_dir():
        raise SeedError(f"{kb_dir}: not a folder")
    files = sorted(kb_dir.glob("*.md"))
    if not files:
        raise SeedError(f"{kb_dir}: no .md articles in it")
    parsed = [parse_article(f) for f in files]  # all parse before anything is written
    report = SeedReport()
    for article in parsed:
        existing = session.get(PolicyArticle, article.id)
        if existing is None:
            session.add(article)
            report.changed.append(article.id)
        elif existing.content_hash != article.content_hash:
            existing.title, existing.body = article.title, article.body
            existing.locale, existing.content_hash = article.locale, article.content_hash
            report.changed.append(article.id)
        report.articles += 1
    session.flush()
    return report


def seed_demo(session: Session) -> SeedReport:
    """Seed the demo shop that `shopdesk run` starts with."""
    report = seed_orders(session, DEMO_DIR / "orders.json")
    report.articles = seed_articles(session, DEMO_DIR / "kb").articles
    return report
