"""Bodies of the sign-in API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    # The console signs in with a cookie (HttpOnly, SameSite=Strict) instead of keeping the token in JS.
    session_cookie: bool = False


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    role: str


class LoginRead(BaseModel):
    token: str | None
    expires_at: datetime
    user: UserRead
    csrf_token: str | None = None
