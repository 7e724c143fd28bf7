"""SQL for conversations and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from app.models import Attachment, Conversation, Feedback, Message, ReplyCandidate, Review


def conversation_by_token_hash(session: Session, token_hash: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.token_hash == token_hash))


def message_by_key(session: Session, conversation_id: str, key: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.idempotency_key == key)
    )


def claim_turn(session: Session, message_id: int, now: datetime, stale_before: datetime) -> bool:
    """Mark the message's turn as running; False when another request holds a fresh claim."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id)
        .where(
            or_(
                Message.status == "received",
                (Message.status == "processing") & (Message.turn_started_at < stale_before),
            )
        )
        .values(status="processing", turn_started_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def messages_after(session: Session, conversation_id: str, after_id: int = 0, limit: int = 200) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .options(selectinload(Message.attachments))
            .order_by(Message.id)
            .limit(limit)
        )
    )


def history(session: Session, conversation_id: str, before_id: int, limit: int) -> list[tuple[str, str]]:
    """The last `limit` answered or sent messages before this one, oldest first: (role, text)."""
    rows = session.execute(
        select(Message.role, Message.text)
        .where(
            Message.conversation_id == conversation_id,
            Message.id < before_id,
            Message.status.in_(("done", "sent")),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    return [(role, text) for role, text in reversed(rows)]


def reply_to(session: Session, message_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(Message.reply_to_id == message_id, Message.role == "assistant")
        .order_by(Message.id)
        .limit(1)
    )


def get_message(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def add_candidates(session: Session, message: Message, candidates: list[ReplyCandidate]) -> None:
    for candidate in candidates:
        candidate.message_id = message.id
        session.add(candidate)


def add_review(session: Session, review: Review) -> None:
    session.add(review)


def review_statuses(session: Session, message_ids: list[int]) -> dict[int, str]:
    """The review status (pending, approved, edited, rejected, resolved) of each of these held messages that has one."""
    if not message_ids:
        return {}
    rows = session.execute(select(Review.message_id, Review.status).where(Review.message_id.in_(message_ids)))
    return {message_id: status for message_id, status in rows}


def feedback_for(session: Session, message_id: int) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.message_id == message_id))


def release_turn(session: Session, message_id: int) -> None:
    """Give a failed turn back, so a retry with the same key runs it again."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "processing")
        .values(status="received", turn_started_at=None)
        .execution_options(synchronize_session=False)
    )


def invoice_sent_before(
    session: Session, number: str | None, attachment_id: int, customer_id: int | None
) -> Literal["resent", "elsewhere"] | None:
    """Whether an earlier upload carried this invoice number: "elsewhere" when another customer (or a chat
    with no customer) sent it, a duplicate claim; "resent" when only this customer did, which is the same
    customer asking again about the same invoice, not a second claim; None when it is new."""
    if not number:
        return None
    senders = session.scalars(
        select(Conversation.customer_id)
        .join(Message, Message.conversation_id == Conversation.id)
        .join(Attachment, Attachment.message_id == Message.id)
        .where(Attachment.invoice_number == number, Attachment.id != attachment_id)
        .distinct()
    ).all()
    if not senders:
        return None
    return "resent" if customer_id is not None and set(senders) == {customer_id} else "elsewhere"
