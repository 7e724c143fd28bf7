"""Bodies of the admin API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.models import ModelVersionStatus, TrainingRunStatus
from app.schemas import IsoTime


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


class TrainingRunStarted(BaseModel):
    id: int
    status: TrainingRunStatus
    queued: bool  # false: the job queue is down; the run waits in the database and is sent when it is back


class TrainingRunRead(BaseModel):
    id: int
    status: TrainingRunStatus
    stage: str
    trigger: str  # admin | schedule
    progress: dict[str, Any]
    metrics: dict[str, Any]
    error: str | None
    log: str
    model_version_id: int | None
    created_at: IsoTime
    started_at: IsoTime | None
    finished_at: IsoTime | None


class TrainingRunList(BaseModel):
    runs: list[TrainingRunRead]  # the latest 50, newest first


class ModelVersionRead(BaseModel):
    id: int
    name: str
    status: ModelVersionStatus
    backend: str  # local | openai
    base: str
    metrics: dict[str, Any]
    lineage: dict[str, Any]
    created_at: IsoTime
    activated_at: IsoTime | None


class AnsweringModelRead(BaseModel):
    """The model that writes the replies now, and where that choice comes from."""

    name: str
    backend: str
    source: Literal["active version", "settings", "embedded default"]


class ModelList(BaseModel):
    models: list[ModelVersionRead]
    answering: AnsweringModelRead


class LexiconRead(RootModel[dict[str, Any]]):
    """The moderation lexicon as stored, passed through as it is (moderation/lexicon.py reads it; unknown keys
    are kept)."""

    model_config = ConfigDict(
        json_schema_extra={
            "properties": {
                "version": {"type": "string"},
                "categories": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "action": {"enum": ["block", "mask", "flag"], "type": "string"},
                            "terms": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
                "allow": {"type": "array", "items": {"type": "string"}},
                "preset_replies": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["categories"],
        }
    )


class LexiconSaved(BaseModel):
    version: str
    categories: list[str]


class RuntimeSettingRead(BaseModel):
    key: str
    label: str
    value: int | float
    default: int | float  # the environment's
    overridden: bool
    min: int | float
    max: int | float
    type: Literal["int", "float"]
    help: str
    label_zh: str
    help_zh: str


class RuntimeSettingList(BaseModel):
    settings: list[RuntimeSettingRead]


class ScheduleRead(BaseModel):
    """The retraining schedule as it stands: how often, how many new turns it needs, how many there are."""

    every_hours: float
    min_new_turns: int
    new_turns: int
    time_due: bool  # the interval has passed since the last scheduled run
    due: bool  # the beat starts a run only when both hold
    worker: Literal["celery", "in-process"]


class UserAccountRead(BaseModel):
    id: int
    email: str
    name: str
    role: str  # agent | admin
    is_active: bool
    created_at: IsoTime


class UserAccountList(BaseModel):
    users: list[UserAccountRead]


class AnalyticsDay(BaseModel):
    day: date  # UTC
    conversations: int
    customer_messages: int
    auto_sent: int
    held: int
    blocked: int
    held_rate: float | None  # of the replies a turn sent or held
    approved: int
    edited: int
    rejected: int
    edit_rate: float | None  # edited or rejected, of the reviews decided
    feedback_up: int
    feedback_down: int
    latency_p50_ms: dict[str, float]  # per stage
    latency_p95_ms: dict[str, float]
    moderation: dict[str, int]  # what moderation found in customers' messages, per category


class AnalyticsRead(BaseModel):
    days: list[AnalyticsDay]  # oldest first
    stages: list[str]
    moderation: dict[str, int]  # over all the days
