"""Customer API: conversations, messages, live events, feedback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from app.chat import service as chat_service
from app.chat.events import next_tick
from app.chat.schemas import (
    ConversationCreate,
    ConversationRead,
    FeedbackCreate,
    FeedbackRead,
    FilesRejectedRead,
    HandoverRead,
    MessageList,
    TurnRead,
)
from app.db import get_sessionmaker
from app.deps import (
    ChatModelDep,
    CurrentConversation,
    SessionDep,
    SettingsDep,
    TokenConversation,
    bearer_token,
)
from app.errors import AppError
from app.models import Conversation
from app.ops import ratelimit
from app.schemas import event_stream

router = APIRouter(prefix="/api/v1", tags=["customer"])

SSE_POLL_S = 15.0  # streams look for new messages at least this often, even without a wake-up


@router.post("/conversations", status_code=201, response_model=ConversationRead)
def create_conversation(body: ConversationCreate, request: Request, session: SessionDep, settings: SettingsDep) -> dict:
    ratelimit.check(settings, "ip", _client_ip(request), settings.rate_limit_ip)
    conversation, token = chat_service.create_conversation(
        session, settings, body.customer_ref, body.customer_sig, body.locale
    )
    return {
        "id": conversation.id,
        "token": token,
        "locale": conversation.locale,
        "verified": conversation.customer_id is not None or body.customer_ref is not None,
        "expires_at": conversation.expires_at,
    }


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=TurnRead,
    responses={
        201: {
            "description": "the turn; a retry with the same Idempotency-Key gets the first response again, "
            "with the header Idempotent-Replayed: true, and nothing is stored twice"
        },
        413: {"description": "the text, a file or the whole request is over its limit"},
        422: {
            "model": FilesRejectedRead,
            "description": "some files were refused (`file_rejected`, with the turn that answered the rest), or "
            "the request is invalid (an error body alone)",
        },
        429: {"description": "rate limited (per conversation or per client address); see Retry-After"},
        503: {"description": "the database is briefly unavailable; retry with the same Idempotency-Key"},
    },
)
def post_message(
    request: Request,
    conversation: CurrentConversation,
    session: SessionDep,
    settings: SettingsDep,
    model: ChatModelDep,
    text: Annotated[str | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    ratelimit.check(settings, "ip", _client_ip(request), settings.rate_limit_ip)
    ratelimit.check(settings, "conversation", conversation.id, settings.rate_limit_conversation)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise AppError(415, "unsupported_media_type", "send the message as multipart/form-data")
    uploads = [(f.filename, _read_limited(f, settings.max_upload_bytes)) for f in files or []]
    response, replayed, rejected = chat_service.post_message(
        session, settings, conversation, text or "", idempotency_key, model, uploads
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if rejected:
        # Some files were refused: say which and why; the text and the other files were stored and answered.
        names = "; ".join(f"{r['filename']}: {r['reason']}" for r in rejected)
        error = {"code": "file_rejected", "message": f"some files were not accepted ({names})", "files": rejected}
        return JSONResponse({"error": error, **response}, status_code=422, headers=headers)
    return JSONResponse(response, status_code=201, headers=headers)


def _client_ip(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, set FORWARDED_ALLOW_IPS to its address)."""
    return request.client.host if request.client else ""


def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read at most limit + 1 bytes: enough to tell a file is too large without reading all of it."""
    return upload.file.read(limit + 1)


@router.get("/conversations/{conversation_id}/messages", response_model=MessageList)
def list_messages(conversation: CurrentConversation, session: SessionDep, after: int = 0) -> dict:
    return {"messages": chat_service.list_messages(session, conversation.id, after)}


@router.get(
    "/conversations/{conversation_id}/events",
    response_class=StreamingResponse,
    responses=event_stream(
        "server-sent events: a `message` event for each new message, its data the message's "
        "fields as in MessageRead and its id the message's id"
    ),
)
async def events(
    request: Request,
    conversation_id: str,
    token: Annotated[str, Depends(bearer_token)],
    last_event_id: Annotated[str | None, Header()] = None,
    after: int = 0,
) -> StreamingResponse:
    """Server-sent events: each new message once, in order; resumes after Last-Event-ID."""
    # A short session of its own: a stream lives for hours and must not hold a connection or a
    # transaction (SessionDep would, until the response ends).
    conversation = await run_in_threadpool(_authenticate, token, conversation_id)
    cursor = after
    if last_event_id and last_event_id.isdigit():
        cursor = max(cursor, int(last_event_id))
    return StreamingResponse(
        _stream(request, conversation.id, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _authenticate(token: str, conversation_id: str) -> Conversation:
    with get_sessionmaker()() as session:
        return chat_service.authenticate(session, token, conversation_id)


def _load_after(conversation_id: str, cursor: int) -> list[dict]:
    with get_sessionmaker()() as session:
        return chat_service.list_messages(session, conversation_id, cursor)


async def _stream(request: Request, conversation_id: str, cursor: int) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    while True:
        try:
            messages = await run_in_threadpool(_load_after, conversation_id, cursor)
        except (OperationalError, InterfaceError):
            messages = []  # the database is restarting: the stream stays open and reads again on the next tick
        for message in messages:
            cursor = message["id"]
            yield f"id: {cursor}\nevent: message\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
        tick = await next_tick(request, conversation_id, SSE_POLL_S)
        if tick is None:
            return
        if tick:
            yield tick


@router.post("/conversations/{conversation_id}/hand-over", response_model=HandoverRead)
# The old path (spelt unlike hand-back), kept for one release for widgets already loaded.
@router.post("/conversations/{conversation_id}/handover", response_model=HandoverRead, include_in_schema=False)
def hand_over(conversation: CurrentConversation, session: SessionDep) -> dict:
    """ "Talk to a human": the conversation goes to the agents' queue; replies are held for them from now."""
    return chat_service.hand_over(session, conversation)


@router.post("/messages/{message_id}/feedback", status_code=201, response_model=FeedbackRead)
def feedback(message_id: int, body: FeedbackCreate, conversation: TokenConversation, session: SessionDep) -> dict:
    item = chat_service.leave_feedback(session, conversation, message_id, body.rating, body.comment)
    return {"message_id": item.message_id, "rating": item.rating, "comment": item.comment}
