"""Conversations and the customer's turn: identity, idempotency, storage; the pipeline is in turn.py."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.admin import runtime as runtime_settings
from app.auth import service as auth_service
from app.chat import repository
from app.chat.events import REVIEWS_TOPIC, bus
from app.chat.leases import leases
from app.chat.turn import HANDOVER_REASON, run_turn
from app.config import Settings
from app.db import after_commit, as_utc, utcnow
from app.errors import AppError
from app.grounding import orders as order_grounding
from app.llm import registry as llm_registry
from app.llm.base import ChatModel
from app.llm.composer import hand_over_reply
from app.llm.prompts import HISTORY_MESSAGES
from app.models import Attachment, AuditLog, Conversation, Feedback, Message, ReplyCandidate, Review
from app.ops import logs, metrics
from app.perception import invoice as invoice_ocr
from app.perception import media
from app.perception import pool as perception_pool
from app.perception import service as perception
from app.shop import repository as shop_repository

log = logging.getLogger(__name__)

WAIT_FOR_OTHER_TURN_S = 120
# Control characters carry nothing a customer means (and PostgreSQL can't store NUL); tab and newlines stay.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sign_customer_ref(secret: str, customer_ref: str) -> str:
    """The widget signature: hex HMAC-SHA256 of the customer ref with the widget secret."""
    return hmac.new(secret.encode(), customer_ref.encode(), hashlib.sha256).hexdigest()


def create_conversation(
    session: Session,
    settings: Settings,
    customer_ref: str | None,
    customer_sig: str | None,
    locale: str | None,
) -> tuple[Conversation, str]:
    """Open a conversation; a customer ref counts only with a valid signature."""
    customer_id = None
    if customer_ref is not None or customer_sig is not None:
        if not customer_ref or not customer_sig:
            raise AppError(403, "bad_signature", "customer_ref and customer_sig go together")
        expected = sign_customer_ref(settings.widget_secret, customer_ref)
        if not hmac.compare_digest(expected, customer_sig.strip().lower()):
            raise AppError(403, "bad_signature", "customer_sig does not match customer_ref")
        customer = shop_repository.get_customer_by_ref(session, customer_ref)
        # A verified ref the shop doesn't know yet is a customer without orders.
        customer_id = customer.id if customer else None
    token = secrets.token_urlsafe(32)
    conversation = Conversation(
        id=secrets.token_hex(16),
        token_hash=auth_service.hash_token(token),
        customer_id=customer_id,
        locale=locale or "en",
        expires_at=utcnow() + timedelta(seconds=settings.conversation_token_ttl_s),
    )
    session.add(conversation)
    session.flush()
    return conversation, token


def open_for_customer(session: Session, settings: Settings, customer_id: int | None, locale: str) -> Conversation:
    """A conversation for a customer the operator vouches for (the CLI, benchmarks): no signature needed."""
    conversation, _ = create_conversation(session, settings, None, None, locale)
    conversation.customer_id = customer_id
    return conversation


def authenticate(session: Session, token: str, conversation_id: str | None = None) -> Conversation:
    """The conversation this bearer token opens; 401 for a bad or expired token, 404 for another id."""
    conversation = repository.conversation_by_token_hash(session, auth_service.hash_token(token)) if token else None
    if conversation is None:
        raise AppError(
            401,
            "invalid_token",
            "the conversation token is missing or invalid",
            {"WWW-Authenticate": "Bearer"},
        )
    if as_utc(conversation.expires_at) <= utcnow():
        raise AppError(
            401,
            "token_expired",
            "the conversation token has expired; start a new conversation",
            {"WWW-Authenticate": "Bearer"},
        )
    if conversation_id is not None and conversation.id != conversation_id:
        raise AppError(404, "not_found", "no such conversation")  # a token opens its own conversation only
    return conversation


def request_hash(text: str, file_hashes: list[str]) -> str:
    digest = hashlib.sha256(text.encode())
    for file_hash in file_hashes:
        digest.update(b"\0" + file_hash.encode())
    return digest.hexdigest()


def post_message(
    session: Session,
    settings: Settings,
    conversation: Conversation,
    text: str,
    idempotency_key: str | None,
    model: ChatModel | None,
    files: list[tuple[str | None, bytes]] | None = None,
) -> tuple[dict[str, Any], bool, list[dict[str, str]]]:
    """Store the message and its accepted files, run its turn once; return (response, replayed, rejected)."""
    settings = runtime_settings.effective(session, settings)
    text = CONTROL_CHARS.sub("", text).strip()
    if len(text) > settings.max_text_chars:
        raise AppError(413, "text_too_long", f"the text is longer than {settings.max_text_chars} characters")
    decoding = time.perf_counter()
    accepted, refused = perception.check_files(files or [], settings)
    media_ms = round((time.perf_counter() - decoding) * 1000, 2)
    rejected = [{"filename": r.filename, "reason": r.reason, "code": r.code} for r in refused]
    if not text and not accepted:
        if rejected:
            raise FileRejected(rejected)
        raise AppError(422, "empty_message", "the message has no text and no files")
    fingerprint = request_hash(text, [c.upload.sha256 for c in accepted])

    message = repository.message_by_key(session, conversation.id, idempotency_key) if idempotency_key else None
    claimed = False
    if message is None:
        # Stored already claimed for this request's turn: one transaction, not two, before the turn runs.
        message = Message(
            conversation_id=conversation.id,
            role="customer",
            text=text,
            status="processing",
            turn_started_at=utcnow(),
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        for checked in accepted:
            media.store(settings.data_dir, checked.upload)
            message.attachments.append(
                Attachment(
                    kind=checked.upload.kind,
                    mime=checked.upload.mime,
                    sha256=checked.upload.sha256,
                    size=len(checked.upload.data),
                    filename=checked.upload.filename,
                )
            )
        session.add(message)
        try:
            session.commit()  # the customer's message is durable before any model runs
            claimed = True
        except IntegrityError:
            session.rollback()  # a concurrent retry with the same key stored it first
            message = repository.message_by_key(session, conversation.id, idempotency_key or "")
            if message is None:
                raise
    if message.request_hash != fingerprint:
        raise AppError(409, "idempotency_key_reused", "this Idempotency-Key was already used for a different message")
    if message.response is not None:
        return message.response, True, rejected

    answered = None if claimed else _claim_or_wait(session, message.id, timedelta(seconds=settings.turn_lease_s))
    if answered is not None:
        return answered, True, rejected  # a concurrent request with the same key answered it
    leases.hold(message.id, settings.turn_lease_s)
    try:
        response = _complete_turn(session, settings, conversation, message, model, accepted, media_ms)
    except Exception:
        session.rollback()
        try:
            repository.release_turn(session, message.id)
            session.commit()
        except Exception:  # noqa: BLE001 - the database itself failed: the lease lapses and a retry takes over
            log.warning("could not release the turn of message %s", message.id)
        raise
    finally:
        leases.release(message.id)
    bus.publish(conversation.id)
    if response["reply"]["status"] == "pending_review":
        bus.publish(REVIEWS_TOPIC)
    return response, False, rejected


class FileRejected(AppError):
    """Every file of a message without text was refused."""

    def __init__(self, files: list[dict[str, str]]) -> None:
        names = "; ".join(f"{f['filename']}: {f['reason']}" for f in files)
        super().__init__(422, "file_rejected", f"no file could be accepted ({names})")
        self.files = files


def _claim_or_wait(session: Session, message_id: int, lease: timedelta) -> dict[str, Any] | None:
    """Claim the message's turn (None), or wait while another live request runs it and return its answer.

    A claim whose lease stopped being renewed (its process died mid-turn) is taken over.
    """
    deadline = time.monotonic() + WAIT_FOR_OTHER_TURN_S
    while True:
        now = utcnow()
        if repository.claim_turn(session, message_id, now, now - lease):
            session.commit()
            return None
        session.rollback()  # also expires the message, so the next read sees the other request's answer
        message = repository.get_message(session, message_id)
        if message is not None and message.response is not None:
            return message.response
        if time.monotonic() > deadline:
            raise AppError(
                409,
                "turn_in_progress",
                "this message is still being answered; retry with the same key",
                {"Retry-After": "5"},
            )
        time.sleep(0.25)


def _history(session: Session, conversation: Conversation, before_id: int) -> list[tuple[str, str]]:
    return repository.history(session, conversation.id, before_id, HISTORY_MESSAGES)


def _perceive(
    session: Session,
    settings: Settings,
    conversation: Conversation,
    message: Message,
    accepted: list[perception.Checked],
) -> tuple[list[dict[str, Any]], list[perception.PerceivedInvoice]]:
    """OCR the images and transcribe the clips; the results are stored on their attachments."""
    transcripts: list[dict[str, Any]] = []
    invoices: list[perception.PerceivedInvoice] = []
    hints: order_grounding.SpeechHints | None = None
    for attachment, checked in zip(message.attachments, accepted, strict=False):
        try:
            if checked.image is not None:
                extracted = perception_pool.run(settings, perception.read_invoice, checked.image)
                attachment.perception = extracted
                attachment.invoice_number = (extracted.get("number") or None) and extracted["number"][:64]
                earlier = repository.invoice_sent_before(
                    session, attachment.invoice_number, attachment.id, conversation.customer_id
                )
                invoices.append(perception.PerceivedInvoice(attachment.id, extracted, earlier))
            elif checked.samples is not None:
                if hints is None:
                    hints = order_grounding.speech_hints(session, conversation.customer_id)
                heard = perception_pool.run(
                    settings,
                    perception.transcribe,
                    checked.samples,
                    settings,
                    conversation.locale,
                    hints.words,
                    hints.ids,
                    hints.totals,
                )
                heard["marks"] = order_grounding.heard_marks(session, conversation.customer_id, heard["text"])
                attachment.perception = heard
                transcripts.append({"attachment_id": attachment.id, "text": heard["text"]})
        except Exception as exc:  # noqa: BLE001 - a perception failure must not lose the message
            log.exception("perception failed for attachment %s", attachment.id)
            attachment.perception = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return transcripts, invoices


def _complete_turn(
    session: Session,
    settings: Settings,
    conversation: Conversation,
    message: Message,
    model: ChatModel | None,
    accepted: list[perception.Checked],
    media_ms: float = 0.0,
) -> dict[str, Any]:
    started = time.perf_counter()
    transcripts, invoices = _perceive(session, settings, conversation, message, accepted)
    perceive_ms = round((time.perf_counter() - started) * 1000, 2)
    heard = " ".join(t["text"] for t in transcripts if t["text"])
    if model is not None and settings.llm_samples > 0:
        llm_registry.sync_active(session, model)
    outcome = run_turn(
        session,
        settings,
        text=" ".join(p for p in (message.text, heard) if p),
        locale=conversation.locale,
        customer_id=conversation.customer_id,
        model=model,
        history=_history(session, conversation, message.id),
        invoices=invoices,
        media=[(c.upload, c.samples) for c in accepted],
        heard=heard,
        with_agent=conversation.status == "handed_over",
    )
    outcome.record["timings"]["perceive_ms"] = perceive_ms
    outcome.record["timings"]["media_ms"] = media_ms  # checking and decoding the uploads
    outcome.record["request_id"] = logs.request_id.get()  # the turn's log lines carry the same id
    reply = Message(
        conversation_id=conversation.id,
        role="assistant",
        text=outcome.text,
        status=outcome.status,
        reply_to_id=message.id,
        turn=outcome.record,
        model_version=model.name if model is not None else None,
    )
    session.add(reply)
    session.flush()
    repository.add_candidates(
        session,
        reply,
        [
            ReplyCandidate(source=c.source, text=c.text, scores=c.scores, rank=i, chosen=i == outcome.chosen)
            for i, c in enumerate(outcome.candidates)
        ],
    )
    if outcome.status == "pending_review":
        held = outcome.candidates[outcome.chosen].text if outcome.chosen is not None else ""
        repository.add_review(
            session,
            Review(message_id=reply.id, conversation_id=conversation.id, reasons=outcome.reasons, candidate_text=held),
        )
    if outcome.hands_over:
        conversation.status = "handed_over"
    response = {
        "message": message_read(message, status="done"),
        "perception": {
            "transcripts": transcripts,
            "invoices": [
                {
                    "attachment_id": invoice.attachment_id,
                    **{k: invoice.fields.get(k) for k in (*invoice_ocr.FIELDS, "confidence")},
                }
                for invoice in invoices
            ],
        },
        "reply": {"id": reply.id, "status": outcome.status, "text": outcome.text, "scores": outcome.scores},
    }
    message.status = "done"
    message.response = response
    session.commit()
    metrics.record_turn(outcome.status, outcome.record.get("timings", {}))
    return response


def hand_over(session: Session, conversation: Conversation) -> dict[str, Any]:
    """The customer asks for a person: queue the conversation for an agent and tell the customer so."""
    if conversation.status == "handed_over":
        return {"status": conversation.status, "message": None}
    note = Message(
        conversation_id=conversation.id,
        role="assistant",
        text=hand_over_reply(conversation.locale),
        status="pending_review",
    )
    session.add(note)
    session.flush()
    repository.add_review(
        session,
        Review(message_id=note.id, conversation_id=conversation.id, reasons=[HANDOVER_REASON]),
    )
    conversation.status = "handed_over"
    session.add(AuditLog(actor_type="customer", actor_id=conversation.id, action="conversation.hand_over"))
    conversation_id = conversation.id
    after_commit(session, lambda: bus.publish(conversation_id))
    after_commit(session, lambda: bus.publish(REVIEWS_TOPIC))
    return {"status": conversation.status, "message": message_read(note, review="pending")}


def message_read(
    message: Message, status: str | None = None, perception: bool = False, review: str | None = None
) -> dict[str, Any]:
    """A message as the API shows it; perception=True adds what OCR/ASR read from each file (agents only).
    `review` is a held reply's review status (pending, approved, edited, rejected, resolved): whether a person
    is still looking at it, so the widget's "an agent is checking" note follows the review."""
    attachments = []
    for a in message.attachments:
        item: dict[str, Any] = {"id": a.id, "kind": a.kind, "mime": a.mime, "size": a.size, "filename": a.filename}
        if perception:
            item["perception"] = a.perception
        attachments.append(item)
    return {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "status": status or message.status,
        "reply_to_id": message.reply_to_id,
        "created_at": as_utc(message.created_at).isoformat(),
        "attachments": attachments,
        "review": review,
    }


def list_messages(session: Session, conversation_id: str, after_id: int = 0) -> list[dict[str, Any]]:
    """The conversation's messages after an id, each held reply with its review's status."""
    messages = repository.messages_after(session, conversation_id, after_id)
    reviews = repository.review_statuses(session, [m.id for m in messages if m.status == "pending_review"])
    return [message_read(m, review=reviews.get(m.id)) for m in messages]


def leave_feedback(
    session: Session, conversation: Conversation, message_id: int, rating: str, comment: str | None
) -> Feedback:
    """Thumbs up or down on one of the conversation's replies; a second rating replaces the first."""
    message = repository.get_message(session, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise AppError(404, "not_found", "no such message in this conversation")
    if message.role == "customer":
        raise AppError(422, "not_a_reply", "feedback goes on replies, not on the customer's own messages")
    feedback = repository.feedback_for(session, message_id)
    if feedback is None:
        feedback = Feedback(message_id=message_id, rating=rating, comment=comment)
        session.add(feedback)
    else:
        feedback.rating, feedback.comment = rating, comment
    session.flush()
    return feedback
