"""Bodies of the review-queue API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.chat.schemas import AttachmentRead, MessageFields, NewMessageRead
from app.models import ConversationStatus, ReviewStatus
from app.schemas import IsoTime


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "edit", "reject"]
    text: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _edit_needs_text(self) -> ReviewDecision:
        if self.action == "edit" and not (self.text or "").strip():
            raise ValueError("an edit needs the text to send")
        return self


class AgentMessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _not_blank(self) -> AgentMessageCreate:
        if not self.text.strip():
            raise ValueError("the message is empty")
        return self


class ReviewRead(BaseModel):
    id: int
    status: ReviewStatus
    conversation_id: str
    message_id: int  # the held reply
    customer_text: str | None  # the message it answers
    candidate_text: str  # the proposed reply; empty when there is none
    holding_text: str  # what the customer was told meanwhile
    reasons: list[str]  # why it was held
    facts: list[dict[str, Any]]
    fact_lines: list[str]
    final_text: str | None
    claimed_by: int | None  # the agent holding a live claim
    claimed_by_name: str | None
    created_at: IsoTime
    decided_at: IsoTime | None


class ReviewList(BaseModel):
    reviews: list[ReviewRead]


class CandidateRead(BaseModel):
    source: str  # composer | llm
    text: str
    scores: dict[str, Any]
    chosen: bool


class AttachmentPerceptionRead(AttachmentRead):
    perception: dict[str, Any] | None  # what OCR or ASR read from the file


class AgentMessageRead(MessageFields):
    created_at: IsoTime
    attachments: list[AttachmentPerceptionRead]
    review: ReviewStatus | None


class AgentConversationRead(BaseModel):
    id: str
    status: ConversationStatus
    locale: str
    customer_id: int | None
    created_at: IsoTime
    messages: list[AgentMessageRead]


class SuggestionRead(BaseModel):
    review_id: int
    text: str
    refused: list[str]  # non-empty: why it may not be sent as it is


class AgentConversationDetail(AgentConversationRead):
    suggestion: SuggestionRead | None  # the assistant's latest proposal still waiting in it


class ReviewDetail(ReviewRead):
    scores: dict[str, Any]
    proposal_refused: list[str]  # non-empty: Approve is refused; edit or reject
    candidates: list[CandidateRead]
    conversation: AgentConversationRead


class ReviewDecided(BaseModel):
    review: ReviewRead
    message: NewMessageRead | None  # what was sent; none for a rejection without a text


class QueuedReviewRead(ReviewRead):
    """A conversation's latest held reply, standing for all its pending items."""

    customer_name: str | None
    items: int
    review_ids: list[int]
    checks: list[str]  # the checks that held them, a word or two each
    waiting_since: IsoTime


class HandedOverRead(BaseModel):
    id: str
    locale: str
    customer_id: int | None
    customer_name: str | None
    last_text: str | None
    items: int
    review_ids: list[int]
    checks: list[str]
    waiting_since: IsoTime | None = None  # absent when nothing is pending


class QueueRead(BaseModel):
    reviews: list[QueuedReviewRead]
    handed_over: list[HandedOverRead]  # those waiting for an answer first, longest waiting first
    me: int


class HandBackRead(BaseModel):
    id: str
    status: ConversationStatus


class CannedReply(BaseModel):
    title: str
    text: str
