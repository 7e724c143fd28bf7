"""Bodies of the admin API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    role: Literal["agent", "admin"] = "agent"
    name: str = Field(default="", max_length=200)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["agent", "admin"] | None = None
    is_active: bool | None = None


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, float | int | None]
