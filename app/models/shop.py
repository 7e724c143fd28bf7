"""The shop's own data: customers, orders, invoices, policy articles."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models.chat import Json

Money = Numeric(12, 2)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the shop's own order id
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_no: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The shop's own last-change time of the order: an update older than this one is ignored.
    source_updated_at: Mapped[datetime | None]
    # [{"status", "at"}] oldest first: when it was paid, shipped, delivered, refunded, cancelled.
    status_history: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    refund_amount: Mapped[Decimal | None] = mapped_column(Money)
    refund_destination: Mapped[str | None] = mapped_column(String(100))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    invoice: Mapped[Invoice | None] = relationship(back_populates="order", cascade="all, delete-orphan")


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    qty: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    tags: Mapped[list[str]] = mapped_column(Json, default=list)  # categories policies name: fresh, custom-made

    order: Mapped[Order] = relationship(back_populates="items")


class Invoice(Base):
    """An invoice the shop issued for an order."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    total: Mapped[Decimal] = mapped_column(Money)
    issued_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(String(300))  # buyer title (抬头)
    tax_id: Mapped[str | None] = mapped_column(String(64))  # buyer tax id

    order: Mapped[Order] = relationship(back_populates="invoice")


class PolicyArticle(Base):
    __tablename__ = "policy_articles"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # file stem, e.g. "returns-en"
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # raised by every change of title, body or locale
    retired_at: Mapped[datetime | None]  # a retired article is kept (replies cite it) but never retrieved


class PolicyArticleVersion(Base):
    """Every text an article has had: a reply records the versions it cited."""

    __tablename__ = "policy_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("policy_articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(128), default="seed")  # "user:3", "key:2", "seed"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShopRule(Base):
    """One structured policy rule the answers compute with (a return window in days, excluded categories)."""

    __tablename__ = "shop_rules"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
