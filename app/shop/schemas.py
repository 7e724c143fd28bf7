"""The shop's records, validated one by one: one schema for the orders file (`shopdesk seed --orders`), the
sync API (`PUT /api/v1/shop/orders/{id}`) and what the webhook receivers map a platform's payload to."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
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


class OrdersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: list[dict] = Field(default_factory=list)  # validated one by one, to name the bad record
    orders: list[dict] = Field(default_factory=list)
