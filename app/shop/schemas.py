"""The shop's records, validated one by one: one schema for the orders file (`shopdesk seed --orders`), the
sync API (`PUT /api/v1/shop/orders/{id}`) and what the webhook receivers map a platform's payload to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.schemas import ErrorDetail, IsoTime

MoneyField = Field(max_digits=12, decimal_places=2, ge=0)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerSeed(_Record):
    ref: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=200)


def _tags(values: list[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        tag = " ".join(value.split()).lower()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


class OrderItemSeed(_Record):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    qty: int = Field(ge=1)
    unit_price: Decimal = MoneyField
    # Categories the shop's policies name ("fresh food", "custom-made", "digital"), lower case.
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)

    @field_validator("tags")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        return _tags(values)


class StatusEventSeed(_Record):
    status: str = Field(min_length=1, max_length=32)
    at: datetime

    @field_validator("status")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class RefundSeed(_Record):
    amount: Decimal = MoneyField
    destination: str | None = Field(default=None, max_length=100)  # "original payment method", "store credit"


class InvoiceSeed(_Record):
    number: str = Field(min_length=1, max_length=64)
    total: Decimal = MoneyField
    issued_at: datetime
    title: str | None = Field(default=None, max_length=300)
    tax_id: str | None = Field(default=None, max_length=64)


class OrderSeed(_Record):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    customer_ref: str = Field(min_length=1, max_length=128)
    status: str = Field(min_length=1, max_length=32)
    carrier: str | None = Field(default=None, max_length=100)
    tracking_no: str | None = Field(default=None, max_length=100)
    total: Decimal = MoneyField
    currency: str = Field(min_length=3, max_length=3)
    placed_at: datetime
    items: list[OrderItemSeed] = Field(default_factory=list)
    invoice: InvoiceSeed | None = None
    # The shop's own last-change time: an update older than the stored one is ignored (out-of-order delivery).
    updated_at: datetime | None = None
    status_history: list[StatusEventSeed] = Field(default_factory=list, max_length=100)
    refund: RefundSeed | None = None

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("status")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


Days = Field(default=None, ge=0, le=3650)
Names = Field(default=None, max_length=50)


class ShopRules(BaseModel):
    """The structured policy rules (app/shop/rules.py). Every rule is optional: a shop sets the ones its
    policies have."""

    model_config = ConfigDict(extra="forbid")

    return_window_days: int | None = Days  # no-reason returns, counted from delivery
    quality_window_days: int | None = Days  # returns for a fault, counted from delivery
    price_protection_days: int | None = Days  # a price drop refunded, counted from the order date
    excluded_categories: list[str] | None = Names  # item tags that can't be returned without a fault
    address_change_statuses: list[str] | None = Names  # order statuses in which the address can change
    invoice_types: list[str] | None = Names  # "VAT general", "VAT special", "e-invoice"


class OrdersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[dict] = Field(default_factory=list)  # validated one by one, to name the bad record
    orders: list[dict] = Field(default_factory=list)


# What the sync API answers. Amounts are decimal strings ("1356.00"), times ISO 8601 as stored.

Upserted = Literal["created", "updated", "unchanged", "stale"]  # stale: older than the stored one, ignored


class OrderUpserted(BaseModel):
    id: str
    result: Upserted


class CustomerUpserted(BaseModel):
    ref: str
    result: Upserted


class OrderBatchEntry(BaseModel):
    """One record's outcome: its result or its error, never both (the one not set is left out)."""

    index: int
    id: Any = Field(description="the record's id as sent (null when it has none)")
    result: Upserted | None = None
    error: ErrorDetail | None = None


class CustomerBatchEntry(BaseModel):
    """One record's outcome: its result or its error, never both (the one not set is left out)."""

    index: int
    ref: Any = Field(description="the record's ref as sent (null when it has none)")
    result: Upserted | None = None
    error: ErrorDetail | None = None


class OrderBatchRead(BaseModel):
    results: list[OrderBatchEntry]
    counts: dict[str, int]  # per result, and "error"


class CustomerBatchRead(BaseModel):
    results: list[CustomerBatchEntry]
    counts: dict[str, int]


class OrderItemRead(BaseModel):
    sku: str
    name: str
    qty: int
    unit_price: str
    tags: list[str]


class RefundRead(BaseModel):
    amount: str
    destination: str | None


class OrderInvoiceRead(BaseModel):
    number: str
    total: str
    issued_at: IsoTime
    title: str | None
    tax_id: str | None


class OrderRead(BaseModel):
    """An order in the seed schema, as stored."""

    id: str
    customer_ref: str
    status: str  # the shop's own order status
    carrier: str | None
    tracking_no: str | None
    total: str
    currency: str
    placed_at: IsoTime
    updated_at: IsoTime | None  # the shop's own last-change time
    status_history: list[dict[str, Any]] = Field(description='each {"status", "at"}')
    refund: RefundRead | None
    items: list[OrderItemRead]
    invoice: OrderInvoiceRead | None


class ArticleRead(BaseModel):
    id: str
    title: str
    locale: str
    version: int
    updated_at: IsoTime
    retired: bool


class ArticleList(BaseModel):
    articles: list[ArticleRead]


class ArticleEdited(ArticleRead):
    result: Upserted


class PassageRead(BaseModel):
    index: int
    heading: str
    text: str


class ArticleVersionRead(BaseModel):
    version: int
    title: str
    author: str  # "user:3", "key:2", "seed"
    created_at: IsoTime


class ArticleDetail(ArticleRead):
    body: str
    versions: list[ArticleVersionRead]  # newest first
    passages: list[PassageRead]  # what retrieval quotes from it


class ArticleSaved(ArticleRead):
    body: str
    result: Upserted
    passages: list[PassageRead]


class PassagesPreview(BaseModel):
    locale: str
    passages: list[PassageRead]


class RuleConflictRead(BaseModel):
    """An article on a rule's topic that states day counts, none of them the rule's."""

    rule: str
    value: int
    article_id: str
    article_says: list[str]
    message: str


class RulesRead(BaseModel):
    rules: ShopRules  # unset ones are null
    conflicts: list[RuleConflictRead]


class PoliciesRead(BaseModel):
    articles: list[ArticleRead]  # retired ones too
    conflicts: list[RuleConflictRead]


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str  # the key's first characters, to tell keys apart
    scopes: list[str]
    created_by: str
    created_at: IsoTime
    last_used_at: IsoTime | None
    revoked_at: IsoTime | None


class ApiKeyCreated(ApiKeyRead):
    key: str  # in this answer only, never again


class ApiKeyList(BaseModel):
    keys: list[ApiKeyRead]
    scopes: list[str]  # the scopes a key can have


class WebhookStored(BaseModel):
    id: str
    result: Upserted


class WebhookIgnored(BaseModel):
    result: Literal["ignored"]
    reason: str


def describe_error(error: ValidationError) -> str:
    """A validation error as one line naming each bad field: `items.0.qty: Input should be ...`."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}" for e in error.errors()[:5])
