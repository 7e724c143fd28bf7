"""Agent API: the queue of held replies and the decisions on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import CurrentUser, SessionDep
from app.review import service as review_service
from app.review.schemas import ReviewDecision

router = APIRouter(prefix="/api/v1/reviews", tags=["review"])


@router.get("")
def list_reviews(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[str | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    return {"reviews": review_service.list_reviews(session, status, limit)}


@router.post("/{review_id}")
def decide(review_id: int, body: ReviewDecision, user: CurrentUser, session: SessionDep) -> dict:
    return review_service.decide(session, user, review_id, body.action, body.text)
