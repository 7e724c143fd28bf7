"""Bodies of the review-queue API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
