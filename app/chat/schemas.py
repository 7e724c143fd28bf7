"""Request and response bodies of the customer API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ref: str | None = Field(default=None, min_length=1, max_length=128)
    customer_sig: str | None = Field(default=None, max_length=256)
    locale: Literal["en", "zh"] | None = None


class ConversationRead(BaseModel):
    id: str
    token: str
    locale: str
    verified: bool
    expires_at: datetime


class AttachmentRead(BaseModel):
    id: int
    kind: str
    mime: str
    size: int
    filename: str


class MessageRead(BaseModel):
    id: int
    role: str
    text: str
    status: str
    reply_to_id: int | None
    created_at: datetime
    attachments: list[AttachmentRead] = []
    review: str | None = None  # a held reply's review: pending | approved | edited | rejected | resolved


class ReplyRead(BaseModel):
    id: int
    status: Literal["sent", "pending_review", "blocked"]
    text: str
    scores: dict[str, Any]


class PerceptionRead(BaseModel):
    transcripts: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []


class TurnRead(BaseModel):
    message: MessageRead
    perception: PerceptionRead
    reply: ReplyRead


class MessageList(BaseModel):
    messages: list[MessageRead]


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackRead(BaseModel):
    message_id: int
    rating: str
    comment: str | None
