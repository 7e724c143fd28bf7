"""The orders file (`shopdesk seed --orders`): its records, validated one by one."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MoneyField = Field(max_digits=12, decimal_places=2, ge=0)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerSeed(_Record):
    ref: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=200)


class OrderItemSeed(_Record):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    qty: int = Field(ge=1)
    unit_price: Decimal = MoneyField


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
