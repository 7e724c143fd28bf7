"""Request and response bodies of the customer API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import ConversationStatus, MessageStatus, ReviewStatus
from app.schemas import ErrorDetail, IsoTime

# What a turn's reply came to; the other message statuses are the customer's own message's.
ReplyStatus = Literal[MessageStatus.SENT, MessageStatus.PENDING_REVIEW, MessageStatus.BLOCKED]


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


class MessageFields(BaseModel):
    id: int
    role: str  # customer | assistant | agent
    text: str
    status: MessageStatus
    reply_to_id: int | None


class MessageRead(MessageFields):
    created_at: datetime
    attachments: list[AttachmentRead] = []
    review: ReviewStatus | None = None  # a held reply's review


class NewMessageRead(MessageFields):
    """A message just written (the hand-over's note, an agent's message, a decided review's reply), its time
    with the offset it was stored with."""

    created_at: IsoTime
    attachments: list[AttachmentRead]
    review: ReviewStatus | None


class ReplyRead(BaseModel):
    id: int
    status: ReplyStatus
    text: str
    scores: dict[str, Any]


class TranscriptRead(BaseModel):
    attachment_id: int
    text: str


class PerceivedInvoiceRead(BaseModel):
    """What OCR read from an invoice image; a field it could not read is null. Amounts are decimal strings."""

    attachment_id: int
    number: str | None
    code: str | None
    date: str | None  # ISO 8601 date
    seller: str | None
    seller_tax_id: str | None
    buyer: str | None
    buyer_tax_id: str | None
    total: str | None
    tax: str | None
    currency: str | None
    confidence: dict[str, float]  # per field read


class PerceptionRead(BaseModel):
    transcripts: list[TranscriptRead] = []
    invoices: list[PerceivedInvoiceRead] = []


class TurnRead(BaseModel):
    message: MessageRead
    perception: PerceptionRead
    reply: ReplyRead


class RejectedFileRead(BaseModel):
    filename: str | None
    reason: str
    code: str


class FilesRejectedDetail(ErrorDetail):
    files: list[RejectedFileRead]


class FilesRejectedRead(BaseModel):
    """Some files were refused: which and why, beside the turn that answered the text and the other files."""

    error: FilesRejectedDetail
    message: MessageRead
    perception: PerceptionRead
    reply: ReplyRead


class MessageList(BaseModel):
    messages: list[MessageRead]


class HandoverRead(BaseModel):
    status: ConversationStatus
    message: NewMessageRead | None  # the note telling the customer; none when it was handed over already


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackRead(BaseModel):
    message_id: int
    rating: str
    comment: str | None
