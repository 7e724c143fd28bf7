"""Response types the domains' schemas share: stored times as the services write them, the error body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, WithJsonSchema

# A stored time as the service already wrote it (ISO 8601 with its offset, app.db.iso), passed through as text:
# parsing it again would re-serialise it ("Z" for "+00:00") and change what clients get today.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorRead(BaseModel):
    """Every error: a stable code and a sentence (app/errors.py)."""

    error: ErrorDetail


def event_stream(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a server-sent events route (its 200 is a text/event-stream)."""
    return {200: {"description": description, "content": {"text/event-stream": {"schema": {"type": "string"}}}}}
