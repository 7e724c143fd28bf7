"""Load the shop's customers, orders and policy articles (`shopdesk seed`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import as_utc, iso, utcnow
from app.errors import AppError
from app.models import Customer, Invoice, Order, OrderItem, PolicyArticle, PolicyArticleVersion
from app.shop import repository, rules
from app.shop.repository import audit
from app.shop.schemas import CustomerSeed, OrderSeed, OrdersFile, describe_error

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


def _validate(model: type[BaseModel], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise SeedError(f"{where}: expected an object, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SeedError(f"{where}: {describe_error(exc)}") from None


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
        raise SeedError(f"{path}: {describe_error(exc)}") from None

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
    for person in customers:
        upsert_customer(session, person)
        report.customers += 1
    session.flush()
    for i, result in enumerate(upsert_orders(session, orders)):
        if isinstance(result, SeedError):
            raise SeedError(f"orders[{i}] (id {orders[i].id!r}): {result}")
        report.orders += 1
    return report


def upsert_customer(session: Session, seed: CustomerSeed) -> tuple[Customer, str]:
    """Create or update one customer by their ref; the result is "created", "updated" or "unchanged"."""
    customer = repository.get_customer_by_ref(session, seed.ref)
    if customer is None:
        customer = Customer(ref=seed.ref, name=seed.name)
        session.add(customer)
        return customer, "created"
    if customer.name == seed.name:
        return customer, "unchanged"
    customer.name = seed.name
    return customer, "updated"


@dataclass
class _Known:
    """What a batch of order upserts looks up, read once for the whole batch (three queries, not three an order)."""

    customers: dict[str, Customer]
    orders: dict[str, Order]
    invoice_owners: dict[str, str]  # invoice number -> order id, including claims made earlier in the batch


def _known(session: Session, seeds: list[OrderSeed]) -> _Known:
    refs = {s.customer_ref for s in seeds}
    numbers = {s.invoice.number for s in seeds if s.invoice}
    return _Known(
        customers={c.ref: c for c in repository.customers_by_ref(session, refs)},
        orders={o.id: o for o in repository.orders_by_id(session, {s.id for s in seeds})},
        invoice_owners=repository.invoice_owners(session, numbers),
    )


def upsert_order(session: Session, seed: OrderSeed) -> str:
    """Create or update one order (see upsert_orders); SeedError says why it was refused."""
    (result,) = upsert_orders(session, [seed])
    if isinstance(result, SeedError):
        raise result
    return result


def upsert_orders(session: Session, seeds: list[OrderSeed]) -> list[str | SeedError]:
    """Create or update each order: "created", "updated", "unchanged", or "stale" when the stored order is
    newer; a SeedError for a refused one, which leaves nothing of it behind (every check runs first).

    An order's own `updated_at` orders its updates: a webhook or sync call delivered late never overwrites a
    newer state. Without it, the last write wins. A status change with no history given is added to the
    history with the time of the update.
    """
    known = _known(session, seeds)
    results: list[str | SeedError] = []
    with session.no_autoflush:  # one flush for the batch, not one before each lookup
        for seed in seeds:
            try:
                results.append(_upsert(session, seed, known))
            except SeedError as exc:
                results.append(exc)
    session.flush()
    return results


def _upsert(session: Session, seed: OrderSeed, known: _Known) -> str:
    customer = known.customers.get(seed.customer_ref)
    if customer is None:
        raise SeedError(f"unknown customer_ref {seed.customer_ref!r}")
    if seed.invoice is not None:
        owner = known.invoice_owners.get(seed.invoice.number)
        if owner and owner != seed.id:
            raise SeedError(f"invoice {seed.invoice.number!r} already belongs to order {owner!r}")
    order = known.orders.get(seed.id)
    incoming = as_utc(seed.updated_at) if seed.updated_at else None
    if order is not None and incoming and order.source_updated_at:
        stored = as_utc(order.source_updated_at)
        if incoming < stored:
            return "stale"
        if incoming == stored:
            return "unchanged"  # the same update delivered twice
    # Checked: from here on the order is written.
    if seed.invoice is not None:
        known.invoice_owners[seed.invoice.number] = seed.id
    result = "updated"
    if order is None:
        order = known.orders[seed.id] = Order(id=seed.id, status_history=[], items=[])
        session.add(order)
        result = "created"
    history = [{"status": e.status, "at": as_utc(e.at).isoformat()} for e in seed.status_history]
    if not history and result == "updated" and order.status != seed.status:
        history = [*order.status_history, {"status": seed.status, "at": (incoming or utcnow()).isoformat()}]
    order.status_history = history or list(order.status_history or [])
    order.customer = customer
    order.status = seed.status
    order.carrier = seed.carrier
    order.tracking_no = seed.tracking_no
    order.total = seed.total
    order.currency = seed.currency
    order.placed_at = seed.placed_at
    order.source_updated_at = incoming
    order.refund_amount = seed.refund.amount if seed.refund else None
    order.refund_destination = seed.refund.destination if seed.refund else None
    items = [(it.sku, it.name, it.qty, it.unit_price, it.tags) for it in seed.items]
    if items != [(i.sku, i.name, i.qty, i.unit_price, i.tags or []) for i in order.items]:
        order.items = [OrderItem(sku=sku, name=n, qty=q, unit_price=p, tags=t) for sku, n, q, p, t in items]
    if seed.invoice is None:
        order.invoice = None
        return result
    if order.invoice is None:
        order.invoice = Invoice(number=seed.invoice.number, total=seed.invoice.total, issued_at=seed.invoice.issued_at)
    inv = order.invoice
    inv.number, inv.total, inv.issued_at = seed.invoice.number, seed.invoice.total, seed.invoice.issued_at
    inv.title, inv.tax_id = seed.invoice.title, seed.invoice.tax_id
    return result


def delete_order(session: Session, order_id: str) -> bool:
    """Erase one order with its items and invoice; False when there is none."""
    order = session.get(Order, order_id)
    if order is None:
        return False
    session.delete(order)
    return True


def delete_customer(session: Session, ref: str) -> bool:
    """Erase a customer and their orders; their conversations stay, no longer linked to anyone."""
    customer = repository.get_customer_by_ref(session, ref)
    if customer is None:
        return False
    for order in list(customer.orders):
        session.delete(order)
    session.delete(customer)
    return True


ARTICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_ARTICLE_CHARS = 100_000


@dataclass(frozen=True)
class ArticleText:
    """An article as written: what a file, the console or the sync API gives."""

    id: str
    title: str
    body: str
    locale: str


def detect_locale(text: str) -> str:
    return "zh" if len(_CJK.findall(text)) > len(text) * 0.1 else "en"


def article_text(article_id: str, title: str, body: str, locale: str | None = None) -> ArticleText:
    """Check an article's parts; SeedError names what is wrong."""
    title, body = " ".join(title.split()), body.strip()
    if not ARTICLE_ID.match(article_id):
        raise SeedError(f"article id {article_id!r}: letters, digits, '-', '_' and '.' only, up to 128")
    if not title or len(title) > 300:
        raise SeedError(f"{article_id}: the title must have 1 to 300 characters")
    if not body:
        raise SeedError(f"{article_id}: the article has no body")
    if len(body) > MAX_ARTICLE_CHARS:
        raise SeedError(f"{article_id}: the body is over {MAX_ARTICLE_CHARS} characters")
    if locale not in (None, "", "en", "zh"):
        raise SeedError(f"{article_id}: locale must be en or zh")
    return ArticleText(article_id, title, body, locale or detect_locale(title + body))


def parse_article(path: Path) -> ArticleText:
    """Read one Markdown policy article: `# Title` on the first line, the body after."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise SeedError(f"{path}: not UTF-8 text") from None
    first, _, body = text.partition("\n")
    if not first.startswith("# ") or not first[2:].strip():
        raise SeedError(f"{path}: the first line must be '# Title'")
    if not body.strip():
        raise SeedError(f"{path}: the article has no body")
    return article_text(path.stem[:128], first[2:], body)


def _digest(text: ArticleText) -> str:
    return hashlib.sha256(f"# {text.title}\n\n{text.body}\n{text.locale}".encode()).hexdigest()


def save_article(session: Session, text: ArticleText, author: str) -> tuple[PolicyArticle, str]:
    """Add or edit an article; every change is a new version. "created", "updated" or "unchanged".

    Saving a retired article brings it back. The policy index sees the change at the next turn.
    """
    digest = _digest(text)
    article = session.get(PolicyArticle, text.id)
    if article is not None and article.content_hash == digest and article.retired_at is None:
        return article, "unchanged"
    if article is None:
        article = PolicyArticle(id=text.id, version=0)
        session.add(article)
        result = "created"
    else:
        result = "updated"
    article.title, article.body, article.locale, article.content_hash = text.title, text.body, text.locale, digest
    article.version = (article.version or 0) + 1
    article.retired_at = None
    session.add(
        PolicyArticleVersion(
            article_id=text.id,
            version=article.version,
            title=text.title,
            body=text.body,
            locale=text.locale,
            author=author,
        )
    )
    session.flush()
    return article, result


def retire_article(session: Session, article_id: str) -> PolicyArticle | None:
    """Stop retrieving an article; its versions stay, since sent replies cite them."""
    article = session.get(PolicyArticle, article_id)
    if article is None:
        return None
    if article.retired_at is None:
        article.retired_at = utcnow()
        session.flush()
    return article


def edit_article(
    session: Session, article_id: str, title: str, body: str, locale: str | None, actor: str
) -> tuple[PolicyArticle, str]:
    """An admin's or a key's change of one article, checked (422 naming what is wrong) and audit-logged."""
    try:
        text = article_text(article_id, title, body, locale)
    except SeedError as exc:
        raise AppError(422, "invalid_article", str(exc)) from None
    article, result = save_article(session, text, author=actor)
    if result != "unchanged":
        action = "policy.create" if result == "created" else "policy.update"
        audit(session, actor, action, f"policy:{article_id}", {"version": article.version})
    return article, result


def retire(session: Session, article_id: str, actor: str) -> PolicyArticle:
    article = retire_article(session, article_id)
    if article is None:
        raise AppError(404, "not_found", "no such article")
    audit(session, actor, "policy.retire", f"policy:{article_id}", {"version": article.version})
    return article


def seed_articles(session: Session, kb_dir: Path) -> SeedReport:
    """Upsert every `*.md` article in the folder (the file stem is the article id)."""
    if not kb_dir.is_dir():
        raise SeedError(f"{kb_dir}: not a folder")
    files = sorted(kb_dir.glob("*.md"))
    if not files:
        raise SeedError(f"{kb_dir}: no .md articles in it")
    parsed = [parse_article(f) for f in files]  # all parse before anything is written
    report = SeedReport()
    for text in parsed:
        _, result = save_article(session, text, author="seed")
        if result != "unchanged":
            report.changed.append(text.id)
        report.articles += 1
    session.flush()
    return report


def seed_demo(session: Session) -> SeedReport:
    """Seed the demo shop that `shopdesk run` starts with."""
    report = seed_orders(session, DEMO_DIR / "orders.json")
    report.articles = seed_articles(session, DEMO_DIR / "kb").articles
    rules.load_file(session, DEMO_DIR / "rules.json")
    return report


def order_read(order: Order) -> dict[str, Any]:
    """An order in the seed schema, as stored (what `GET /api/v1/shop/orders/{id}` returns)."""
    return {
        "id": order.id,
        "customer_ref": order.customer.ref,
        "status": order.status,
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "total": f"{order.total:.2f}",
        "currency": order.currency,
        "placed_at": iso(order.placed_at),
        "updated_at": iso(order.source_updated_at),
        "status_history": order.status_history or [],
        "refund": (
            {"amount": f"{order.refund_amount:.2f}", "destination": order.refund_destination}
            if order.refund_amount is not None
            else None
        ),
        "items": [
            {"sku": i.sku, "name": i.name, "qty": i.qty, "unit_price": f"{i.unit_price:.2f}", "tags": i.tags or []}
            for i in order.items
        ],
        "invoice": (
            {
                "number": order.invoice.number,
                "total": f"{order.invoice.total:.2f}",
                "issued_at": iso(order.invoice.issued_at),
                "title": order.invoice.title,
                "tax_id": order.invoice.tax_id,
            }
            if order.invoice
            else None
        ),
    }


def article_read(article: PolicyArticle, body: bool = False) -> dict[str, Any]:
    read: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "locale": article.locale,
        "version": article.version,
        "updated_at": iso(article.updated_at),
        "retired": article.retired_at is not None,
    }
    if body:
        read["body"] = article.body
    return read


def article_versions(session: Session, article_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PolicyArticleVersion)
        .where(PolicyArticleVersion.article_id == article_id)
        .order_by(PolicyArticleVersion.version.desc())
    )
    return [{"version": v.version, "title": v.title, "author": v.author, "created_at": iso(v.created_at)} for v in rows]
