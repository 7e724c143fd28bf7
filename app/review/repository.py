"""SQL for the review queue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Message, Review


def list_reviews(session: Session, status: str | None, limit: int) -> list[tuple[Review, Message, str | None]]:
    """Reviews with their held reply and the customer message it answers, oldest first."""
    customer = Message.__table__.alias("customer_message")
    query = (
        select(Review, Message, customer.c.text)
        .join(Message, Message.id == Review.message_id)
        .outerjoin(customer, customer.c.id == Message.reply_to_id)
        .order_by(Review.created_at, Review.id)
        .limit(limit)
    )
    if status:
        query = query.where(Review.status == status)
    return [(review, held, text) for review, held, text in session.execute(query)]


def get_for_update(session: Session, review_id: int) -> Review | None:
    """The review, locked until the transaction ends so two agents can't decide it at once."""
    return session.scalar(select(Review).where(Review.id == review_id).with_for_update())
