"""SQL for the review queue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Conversation, ConversationStatus, Customer, Message, Review, ReviewStatus, User


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


def pending_items(session: Session, limit: int) -> list[tuple[Review, Message, str | None, Conversation, str | None]]:
    """Pending reviews with their held reply, the customer message it answers, the conversation and the
    customer's name, oldest first."""
    customer_message = Message.__table__.alias("customer_message")
    query = (
        select(Review, Message, customer_message.c.text, Conversation, Customer.name)
        .join(Message, Message.id == Review.message_id)
        .outerjoin(customer_message, customer_message.c.id == Message.reply_to_id)
        .join(Conversation, Conversation.id == Review.conversation_id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Review.status == ReviewStatus.PENDING)
        .order_by(Review.created_at, Review.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2], row[3], row[4]) for row in session.execute(query)]


def pending_in_conversation(session: Session, conversation_id: str) -> list[tuple[Review, Message]]:
    """The conversation's pending reviews with their held replies, locked until the transaction ends."""
    query = (
        select(Review, Message)
        .join(Message, Message.id == Review.message_id)
        .where(Review.conversation_id == conversation_id, Review.status == ReviewStatus.PENDING)
        .order_by(Review.message_id)
        .with_for_update(of=Review)
    )
    return [(review, held) for review, held in session.execute(query)]


def latest_proposal(session: Session, conversation_id: str) -> tuple[Review, Message] | None:
    """The conversation's latest pending review that has a proposed reply, with its held reply."""
    query = (
        select(Review, Message)
        .join(Message, Message.id == Review.message_id)
        .where(
            Review.conversation_id == conversation_id,
            Review.status == ReviewStatus.PENDING,
            Review.candidate_text != "",
        )
        .order_by(Review.message_id.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def handed_over(session: Session, limit: int = 100) -> list[tuple[Conversation, str | None, str | None]]:
    """Conversations with a human agent, with the customer's last message and name, most recent first."""
    last = (
        select(Message.text)
        .where(Message.conversation_id == Conversation.id, Message.role == "customer")
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Conversation, last, Customer.name)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.status == ConversationStatus.HANDED_OVER)
        .order_by(Conversation.created_at.desc())
        .limit(limit)
    )
    return [(c, text, name) for c, text, name in session.execute(query)]
