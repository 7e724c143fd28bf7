"""Conversations, messages, attachments, reply candidates, feedback."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

Json = JSON().with_variant(JSONB(), "postgresql")


class ConversationStatus(StrEnum):
    """Who answers the conversation: the assistant (open), or a person it was handed over to."""

    OPEN = "open"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class MessageStatus(StrEnum):
    """A customer's message: received, processing, done or failed. A reply: sent, pending_review (held for an
    agent; the customer sees a holding reply) or blocked."""

    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    SENT = "sent"
    PENDING_REVIEW = "pending_review"
    BLOCKED = "blocked"


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the bearer token
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.OPEN)  # a ConversationStatus
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Message(Base):
    """One message: the customer's, the assistant's reply, or an agent's."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # customer | assistant | agent
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # a MessageStatus
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # The finished turn's API response, returned again on an idempotent retry.
    response: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # What the turn saw and did (facts, intent, timings): for replay, audit and training.
    turn: Mapped[dict[str, Any] | None] = mapped_column(Json)
    model_version: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    turn_started_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", order_by="Attachment.id", cascade="all, delete-orphan", passive_deletes=True
    )
    candidates: Mapped[list[ReplyCandidate]] = relationship(
        back_populates="message",
        order_by="ReplyCandidate.rank",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | audio
    mime: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255), default="")
    perception: Mapped[dict[str, Any] | None] = mapped_column(Json)  # OCR fields or transcript
    invoice_number: Mapped[str | None] = mapped_column(String(64), index=True)  # read by OCR: finds duplicates
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class ReplyCandidate(Base):
    __tablename__ = "reply_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))  # composer | llm
    text: Mapped[str] = mapped_column(Text)
    scores: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    rank: Mapped[int] = mapped_column(default=0)
    chosen: Mapped[bool] = mapped_column(default=False)

    message: Mapped[Message] = relationship(back_populates="candidates")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    rating: Mapped[str] = mapped_column(String(8))  # up | down
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
