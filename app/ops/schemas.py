"""Bodies of the operations endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthRead(BaseModel):
    status: Literal["ok"]


class ReadinessRead(BaseModel):
    status: Literal["ready", "not_ready"]
    # Per part: "ok", or what is wrong ("down: …", "degraded: …", a schema mismatch); database and schema
    # decide readiness, redis and llm are reported.
    checks: dict[str, str]
