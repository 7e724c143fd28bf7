"""SQL for the review queue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Conversation, Message, Review, User


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


def review_with_messages(session: Session, review_id: int) -> tuple[Review, Message, str | None] | None:
    customer = Message.__table__.alias("customer_message")
    query = (
        select(Review, Message, customer.c.text)
        .join(Message, Message.id == Review.message_id)
        .outerjoin(customer, customer.c.id == Message.reply_to_id)
        .where(Review.id == review_id)
    )
    row = session.execute(query).first()
    return (row[0], row[1], row[2]) if row else None


def user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        i: name or email
        for i, name, email in session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    }


def handed_over(session: Session, limit: int = 100) -> list[tuple[Conversation, str | None]]:
    """Conversations with a human agent, with the customer's last message, most recent first."""
    last = (
        select(Message.text)
        .where(Message.conversation_id == Conversation.id, Message.role == "customer")
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Conversation, last)
        .where(Conversation.status == "handed_over")
        .order_by(Conversation.created_at.desc())
        .limit(limit)
    )
    return [(c, text) for c, text in session.execute(query)]
