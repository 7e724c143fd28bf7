"""The review queue: agents claim, approve, edit or reject held replies; the customer sees the result live."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.chat import repository as chat_repository
from app.chat.events import REVIEWS_TOPIC, bus
from app.chat.service import message_read
from app.chat.turn import HANDOVER_REASON, WITH_AGENT_REASON
from app.db import after_commit, as_utc, utcnow
from app.errors import AppError
from app.models import AuditLog, Conversation, ConversationStatus, Message, MessageStatus, Review, ReviewStatus, User
from app.review import repository

STATUSES = tuple(ReviewStatus)
DECIDED = {"approve": ReviewStatus.APPROVED, "edit": ReviewStatus.EDITED, "reject": ReviewStatus.REJECTED}
# A claim the agent forgot (closed tab, went home) lapses, so the item doesn't stay stuck.
CLAIM_TTL = timedelta(minutes=10)
CANNED_PATH = Path(__file__).resolve().parent / "canned.json"
# What check held a reply, in a word or two for the queue (the review itself has the full reasons).
CHECKS = (
    (HANDOVER_REASON, "asked for a person"),
    (WITH_AGENT_REASON, "new message"),
    ("under the threshold", "score under the threshold"),
    ("no fact backs", "a claim no fact backs"),
    ("blocked content", "moderation"),
    ("terms to review", "moderation"),
    ("reads as harmful", "moderation"),
    ("tried to instruct the model", "prompt injection"),
    ("guard model", "guard model"),
    ("model was unavailable", "model unavailable"),
    ("no candidate reply", "no reply to propose"),
    ("reply repeats", "not an answer"),
    ("reply doesn't say", "not an answer"),
)


def _claim_holder(review: Review) -> int | None:
    """The agent holding a live claim on the review, if any."""
    if review.claimed_by is None or review.claimed_at is None:
        return None
    return review.claimed_by if utcnow() - as_utc(review.claimed_at) < CLAIM_TTL else None


def review_read(review: Review, held: Message, customer_text: str | None, names: dict[int, str] | None = None) -> dict:
    turn = held.turn or {}
    holder = _claim_holder(review) if review.status == ReviewStatus.PENDING else None
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
        "fact_lines": turn.get("fact_lines", []),
        "final_text": review.final_text,
        "claimed_by": holder,
        "claimed_by_name": (names or {}).get(holder) if holder else None,
        "created_at": as_utc(review.created_at).isoformat(),
        "decided_at": as_utc(review.decided_at).isoformat() if review.decided_at else None,
    }


def list_reviews(session: Session, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise AppError(422, "invalid_status", f"status must be one of {', '.join(STATUSES)}")
    rows = repository.list_reviews(session, status, limit)
    names = repository.user_names(session, {r.claimed_by for r, _, _ in rows if r.claimed_by})
    return [review_read(r, held, text, names) for r, held, text in rows]


def _get_locked(session: Session, review_id: int) -> Review:
    review = repository.get_for_update(session, review_id)
    if review is None:
        raise AppError(404, "not_found", "no such review")
    return review


def _refuse_others_claim(session: Session, review: Review, user: User) -> None:
    holder = _claim_holder(review)
    if holder is not None and holder != user.id:
        other = repository.user_names(session, {holder}).get(holder, "another agent")
        raise AppError(409, "claimed", f"{other} is working on this review")


def claim(session: Session, user: User, review_id: int) -> dict[str, Any]:
    """Take the review so no other agent answers it; a claim lapses after CLAIM_TTL."""
    review = _get_locked(session, review_id)
    if review.status != ReviewStatus.PENDING:
        raise AppError(409, "already_decided", f"this review was already {review.status}")
    _refuse_others_claim(session, review, user)
    review.claimed_by, review.claimed_at = user.id, utcnow()
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="review.claim", target=f"review:{review.id}"))
    after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))
    return detail(session, review.id)


def release(session: Session, user: User, review_id: int) -> None:
    review = _get_locked(session, review_id)
    if review.status == ReviewStatus.PENDING and _claim_holder(review) == user.id:
        review.claimed_by = review.claimed_at = None
        after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))


def decide(session: Session, user: User, review_id: int, action: str, text: str | None) -> dict[str, Any]:
    """Send the approved, edited or agent-written reply; a review is decided once, by its claimant."""
    review = _get_locked(session, review_id)
    if review.status != ReviewStatus.PENDING:
        raise AppError(409, "already_decided", f"this review was already {review.status}")
    _refuse_others_claim(session, review, user)
    held = session.get(Message, review.message_id)
    assert held is not None  # the foreign key cascades: a review never outlives its message

    final = (text or "").strip() or None
    if action == "approve":
        final = review.candidate_text.strip() or None
        if final is None:
            raise AppError(422, "nothing_to_approve", "there is no proposed reply; edit it or reject with a text")
        refused = proposal_refusals(held)
        if refused:
            # The checks found what must not reach a customer (an injection's answer, a claim no fact states):
            # a person edits it first, or rejects it; one click cannot send it as it is.
            why = "; ".join(refused)
            raise AppError(422, "not_eligible", f"the proposal failed its checks; edit it or reject it: {why}")
    sent: Message | None = None
    if final is not None:
        # An approved model reply goes out as the assistant's; an edited or written one as the agent's.
        sent = Message(
            conversation_id=review.conversation_id,
            role="assistant" if action == "approve" else "agent",
            text=final,
            status=MessageStatus.SENT,
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
    if sent is not None:
        _resolve_settled(session, user, review.conversation_id, before_message_id=held.id)
    # The wake-ups follow the commit, so the streams they wake find the new message.
    conversation_id = review.conversation_id
    after_commit(session, lambda: bus.publish(conversation_id))
    after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))
    return {"review": review_read(review, held, None), "message": message_read(sent) if sent else None}


def conversation_read(session: Session, conversation: Conversation, suggestion: bool = False) -> dict[str, Any]:
    """The whole conversation as an agent sees it: messages, what perception read from each file; with
    suggestion=True also the assistant's latest proposal still waiting in it (a handed-over conversation's
    held replies are merged into its queue entry, so the agent answering it finds the proposal here)."""
    messages = chat_repository.messages_after(session, conversation.id, 0)
    read: dict[str, Any] = {
        "id": conversation.id,
        "status": conversation.status,
        "locale": conversation.locale,
        "customer_id": conversation.customer_id,
        "created_at": as_utc(conversation.created_at).isoformat(),
        "messages": [message_read(m, perception=True) for m in messages],
    }
    if suggestion:
        latest = repository.latest_proposal(session, conversation.id)
        read["suggestion"] = (
            {"review_id": latest[0].id, "text": latest[0].candidate_text, "refused": proposal_refusals(latest[1])}
            if latest
            else None
        )
    return read


def proposal_refusals(held: Message) -> list[str]:
    """Why the proposed reply (the chosen candidate) may not be sent as it is; empty when it may."""
    chosen = next((c for c in held.candidates if c.chosen), None)
    if chosen is None or (chosen.scores or {}).get("eligible", True):
        return []
    return list((chosen.scores or {}).get("reasons") or ["it failed the reply checks"])


def detail(session: Session, review_id: int) -> dict[str, Any]:
    """One review with its conversation, the candidates and their scores."""
    row = repository.review_with_messages(session, review_id)
    if row is None:
        raise AppError(404, "not_found", "no such review")
    review, held, customer_text = row
    names = repository.user_names(session, {review.claimed_by} if review.claimed_by else set())
    conversation = session.get(Conversation, review.conversation_id)
    assert conversation is not None
    return {
        **review_read(review, held, customer_text, names),
        "scores": (held.turn or {}).get("scores") or {},
        "proposal_refused": proposal_refusals(held),  # non-empty: Approve is refused; edit or reject
        "candidates": [
            {"source": c.source, "text": c.text, "scores": c.scores, "chosen": c.chosen} for c in held.candidates
        ],
        "conversation": conversation_read(session, conversation),
    }


def _resolve_settled(session: Session, user: User, conversation_id: str, before_message_id: int | None) -> None:
    """Close the conversation's pending items an agent's answer settles: the held replies before it, and the
    customer's request for a person (before_message_id None: that request alone)."""
    settled = []
    for review, held in repository.pending_in_conversation(session, conversation_id):
        if HANDOVER_REASON in review.reasons or (before_message_id is not None and held.id < before_message_id):
            review.status, review.decided_by, review.decided_at = ReviewStatus.RESOLVED, user.id, utcnow()
            settled.append(review.id)
    if settled:
        session.add(
            AuditLog(
                actor_type="user",
                actor_id=str(user.id),
                action="review.resolve",
                target=f"conversation:{conversation_id}",
                detail={"reviews": settled},
            )
        )


def checks(reasons: list[str]) -> list[str]:
    """The checks that held these replies, each named once, in a word or two."""
    named = [next((name for part, name in CHECKS if part in reason), reason) for reason in reasons]
    return list(dict.fromkeys(named))


def _merged(rows: list[tuple[Review, Message, str | None, Conversation, str | None]]) -> dict[str, Any]:
    """What a conversation's pending items add up to in its one queue entry."""
    return {
        "customer_name": rows[0][4],
        "items": len(rows),
        "review_ids": [review.id for review, *_ in rows],
        "checks": checks([reason for review, *_ in rows for reason in review.reasons]),
        "waiting_since": as_utc(rows[0][0].created_at).isoformat(),
    }


def queue(session: Session, user: User) -> dict[str, Any]:
    """What the agent console shows, one entry per conversation: conversations with held replies (the latest
    is the one to open; answering it settles the earlier ones), and conversations handed to a person with
    their pending items. A conversation is in one list only."""
    pending: dict[str, list[tuple[Review, Message, str | None, Conversation, str | None]]] = {}
    for row in repository.pending_items(session, 500):
        pending.setdefault(row[0].conversation_id, []).append(row)
    held = {cid: rows for cid, rows in pending.items() if rows[0][3].status != ConversationStatus.HANDED_OVER}
    latest = [rows[-1] for rows in held.values()]
    names = repository.user_names(session, {r.claimed_by for r, *_ in latest if r.claimed_by})
    handed_over = [
        {
            "id": c.id,
            "locale": c.locale,
            "customer_id": c.customer_id,
            "customer_name": name,
            "last_text": text,
            **(_merged(pending[c.id]) if c.id in pending else {"items": 0, "review_ids": [], "checks": []}),
        }
        for c, text, name in repository.handed_over(session)
    ]
    return {
        "reviews": [
            {**review_read(review, message, text, names), **_merged(held[review.conversation_id])}
            for review, message, text, _, _ in latest
        ],
        # The ones waiting for an answer first, longest waiting first.
        "handed_over": sorted(handed_over, key=lambda c: (not c["items"], c.get("waiting_since") or "")),
        "me": user.id,
    }


def get_conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise AppError(404, "not_found", "no such conversation")
    return conversation


def send_agent_message(session: Session, user: User, conversation_id: str, text: str) -> dict[str, Any]:
    """An agent writes to the customer directly (a handed-over conversation, or a follow-up)."""
    conversation = get_conversation(session, conversation_id)
    message = Message(conversation_id=conversation.id, role="agent", text=text.strip(), status=MessageStatus.SENT)
    session.add(message)
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="conversation.reply", target=conversation.id))
    session.flush()
    _resolve_settled(session, user, conversation.id, before_message_id=message.id)
    after_commit(session, lambda: bus.publish(conversation_id))
    after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))
    return message_read(message)


def hand_back(session: Session, user: User, conversation_id: str) -> dict[str, Any]:
    """Give the conversation back to the assistant: its next replies may go out on their own again."""
    conversation = get_conversation(session, conversation_id)
    if conversation.status != ConversationStatus.HANDED_OVER:
        raise AppError(409, "not_handed_over", "the conversation is not with an agent")
    conversation.status = ConversationStatus.OPEN
    _resolve_settled(session, user, conversation.id, before_message_id=None)  # the request for a person
    session.add(
        AuditLog(actor_type="user", actor_id=str(user.id), action="conversation.hand_back", target=conversation.id)
    )
    after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))
    return {"id": conversation.id, "status": conversation.status}


@lru_cache
def canned_responses() -> dict[str, list[dict[str, str]]]:
    """Ready-made answers the agent can start from, per language (edit app/review/canned.json)."""
    data: dict[str, list[dict[str, str]]] = json.loads(CANNED_PATH.read_text(encoding="utf-8"))
    return data
