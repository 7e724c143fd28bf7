"""Agent API: the queue of held replies, claims and decisions, handed-over conversations, uploads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from app.auth import service as auth_service
from app.chat.events import REVIEWS_TOPIC, next_tick
from app.chat.schemas import NewMessageRead
from app.db import get_sessionmaker
from app.deps import CurrentUser, SessionDep, SettingsDep, user_token
from app.errors import AppError
from app.models import Attachment
from app.perception import media
from app.review import service as review_service
from app.review.schemas import (
    AgentConversationDetail,
    AgentMessageCreate,
    CannedReply,
    HandBackRead,
    QueueRead,
    ReviewDecided,
    ReviewDecision,
    ReviewDetail,
    ReviewList,
)
from app.schemas import event_stream

router = APIRouter(prefix="/api/v1/reviews", tags=["review"])
agent_router = APIRouter(prefix="/api/v1/agent", tags=["review"])

QUEUE_POLL_S = 15.0


@router.get("", response_model=ReviewList)
def list_reviews(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[str | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    return {"reviews": review_service.list_reviews(session, status, limit)}


@router.get("/{review_id}", response_model=ReviewDetail)
def get_review(review_id: int, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.detail(session, review_id)


@router.post("/{review_id}/claim", response_model=ReviewDetail)
def claim(review_id: int, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.claim(session, user, review_id)


@router.delete("/{review_id}/claim", status_code=204, response_class=Response)
def release(review_id: int, user: CurrentUser, session: SessionDep) -> Response:
    review_service.release(session, user, review_id)
    return Response(status_code=204)


@router.post("/{review_id}", response_model=ReviewDecided)
def decide(review_id: int, body: ReviewDecision, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.decide(session, user, review_id, body.action, body.text)


# A handed-over conversation with nothing pending has no waiting_since: left out, as it always was.
@agent_router.get("/queue", response_model=QueueRead, response_model_exclude_unset=True)
def queue(user: CurrentUser, session: SessionDep) -> dict:
    return review_service.queue(session, user)


@agent_router.get(
    "/events",
    response_class=StreamingResponse,
    responses=event_stream(
        "server-sent events: a `queue` event whose data is the queue (as in QueueRead) each "
        "time it changes; `signed_out` when the session ends"
    ),
)
async def queue_events(request: Request, token: Annotated[str, Depends(user_token)]) -> StreamingResponse:
    """Server-sent events: the whole queue again whenever it changes (and every 15 s)."""
    await run_in_threadpool(_snapshot, token)  # a bad or expired session is a 401 before the stream starts
    return StreamingResponse(
        _queue_stream(request, token),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _snapshot(token: str) -> str:
    """The queue as JSON; checks the session each time, so an expired one ends the stream."""
    with get_sessionmaker()() as session:
        user = auth_service.user_for_token(session, token)
        return json.dumps(review_service.queue(session, user), ensure_ascii=False)


async def _queue_stream(request: Request, token: str) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    sent = ""
    while True:
        try:
            snapshot = await run_in_threadpool(_snapshot, token)
        except AppError:
            yield "event: signed_out\ndata: {}\n\n"
            return
        except (OperationalError, InterfaceError):
            snapshot = sent  # the database is restarting: keep the stream, read again on the next tick
        if snapshot != sent:
            sent = snapshot
            yield f"event: queue\ndata: {snapshot}\n\n"
        tick = await next_tick(request, REVIEWS_TOPIC, QUEUE_POLL_S)
        if tick is None:
            return
        if tick:
            yield tick


@agent_router.get("/conversations/{conversation_id}", response_model=AgentConversationDetail)
def get_conversation(conversation_id: str, user: CurrentUser, session: SessionDep) -> dict:
    conversation = review_service.get_conversation(session, conversation_id)
    return review_service.conversation_read(session, conversation, suggestion=True)


@agent_router.post("/conversations/{conversation_id}/messages", status_code=201, response_model=NewMessageRead)
def send_message(conversation_id: str, body: AgentMessageCreate, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.send_agent_message(session, user, conversation_id, body.text)


@agent_router.post("/conversations/{conversation_id}/hand-back", response_model=HandBackRead)
def hand_back(conversation_id: str, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.hand_back(session, user, conversation_id)


@agent_router.get("/canned", response_model=dict[str, list[CannedReply]])
def canned(user: CurrentUser) -> dict:
    return review_service.canned_responses()


@agent_router.get(
    "/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the file as uploaded, with its own image or audio type",
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}, "audio/*": {}},
        }
    },
)
def attachment(attachment_id: int, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """An uploaded image or clip, for the agent to look at; never served with an executable type."""
    item = session.get(Attachment, attachment_id)
    if item is None or not item.mime.startswith(("image/", "audio/")):
        raise AppError(404, "not_found", "no such attachment")
    path = media.stored_path(settings.data_dir, item.sha256, item.mime)
    if not path.is_file():
        raise AppError(404, "not_found", "the file is no longer stored")
    return FileResponse(
        path,
        media_type=item.mime,
        headers={
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )
