"""The review queue: agents approve, edit or reject held replies; the customer sees the result live."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.chat.events import bus
from app.chat.service import message_read
from app.db import utcnow
from app.errors import AppError
from app.models import AuditLog, Message, Review, User
from app.review import repository

STATUSES = ("pending", "approved", "edited", "rejected")
DECIDED = {"approve": "approved", "edit": "edited", "reject": "rejected"}


def review_read(review: Review, held: Message, customer_text: str | None) -> dict[str, Any]:
    turn = held.turn or {}
    return {
        "id": review.id,
        "status": review.status,
        "conversation_id": review.conversation_id,
        "message_id": review.message_id,
        "customer_text": customer_text,
        "candidate_text": review.candidate_text,
        "holding_text": held.text,
        "reasons": review.reasons,
        "facts": turn.get("facts", []),
        "final_text": review.final_text,
        "created_at": review.created_at.isoformat(),
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
    }


def list_reviews(session: Session, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise AppError(422, "invalid_status", f"status must be one of {', '.join(STATUSES)}")
    return [review_read(r, held, text) for r, held, text in repository.list_reviews(session, status, limit)]


def decide(session: Session, user: User, review_id: int, action: str, text: str | None) -> dict[str, Any]:
    """Send the approved, edited or agent-written reply; a review is decided once."""
    review = repository.get_for_update(session, review_id)
    if review is None:
        raise AppError(404, "not_found", "no such review")
    if review.status != "pending":
        raise AppError(409, "already_decided", f"this review was already {review.status}")
    held = session.get(Message, review.message_id)
    assert held is not None  # the foreign key cascades: a review never outlives its message

    final = (text or "").strip() or None
    if action == "approve":
        final = review.candidate_text.strip() or None
        if final is None:
            raise AppError(422, "nothing_to_approve", "there is no proposed reply; edit it or reject with a text")
    sent: Message | None = None
    if final is not None:
        # An approved model reply goes out as the assistant's; an edited or written one as the agent's.
        sent = Message(
            conversation_id=review.conversation_id,
            role="assistant" if action == "approve" else "agent",
            text=final,
            status="sent",
            reply_to_id=held.reply_to_id,
        )
        session.add(sent)
    review.status = DECIDED[action]
    review.final_text = final
    review.decided_by = user.id
    review.decided_at = utcnow()
    session.add(
        AuditLog(
            actor_type="user",
            actor_id=str(user.id),
            action=f"review.{action}",
            target=f"review:{review.id}",
            detail={"final_text": final},
        )
    )
    session.flush()
    session.commit()  # before the wake-up, so the stream finds the new message
    bus.publish(review.conversation_id)
    return {"review": review_read(review, held, None), "message": message_read(sent) if sent else None}
