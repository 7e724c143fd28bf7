"""Settings an admin changes at run time (reply threshold, retraining schedule), stored in the database.

The environment gives the defaults; a stored value overrides it for every process from its next turn
or beat tick, without a restart. Only the names in EDITABLE can be changed this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import AppError
from app.models import AuditLog, RuntimeSetting, User
from moderation.classifier import CATEGORIES, DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Editable:
    kind: type
    low: float
    high: float
    help: str
    label: str = ""
    label_zh: str = ""  # the admin console in Chinese
    help_zh: str = ""


# "moderation_thresholds.<category>" keys change one entry of the moderation_thresholds setting.
THRESHOLDS = "moderation_thresholds."
CATEGORIES_ZH = {"abuse": "辱骂", "threat": "威胁", "sexual": "色情", "fraud": "欺诈", "social_engineering": "社会工程"}
EDITABLE = {
    "reply_threshold": Editable(
        float,
        0.0,
        1.0,
        "a reply goes out on its own only when it scores at least this",
        "Reply threshold",
        "自动回复阈值",
        "回复得分达到此值才会自动发出，否则交给客服审核",
    ),
    "training_schedule_hours": Editable(
        float,
        0.25,
        24 * 90,
        "how often the schedule looks for enough new turns",
        "Retraining: every (hours)",
        "再训练：间隔（小时）",
        "定时任务每隔多久检查一次新对话是否足够",
    ),
    "training_min_new_turns": Editable(
        int,
        1,
        1_000_000,
        "new final replies since the last successful run to start one",
        "Retraining: new replies",
        "再训练：新回复数",
        "上次成功训练以来需要多少条新的最终回复才开始训练",
    ),
    "training_min_examples": Editable(
        int,
        1,
        1_000_000,
        "approved or sent turns a run needs to train at all",
        "Retraining: examples needed",
        "再训练：所需样本数",
        "一次训练至少需要多少条已批准或已发出的回复",
    ),
    **{
        f"{THRESHOLDS}{category}": Editable(
            float,
            0.05,
            1.0,
            f"the semantic layer counts a message as {category.replace('_', ' ')} from this probability "
            "(lower: more caught, more clean messages held)",
            f"Moderation: {category.replace('_', ' ')}",
            f"内容审核：{CATEGORIES_ZH.get(category, category)}",
            f"语义层判定消息为“{CATEGORIES_ZH.get(category, category)}”的概率阈值；"
            "越低拦下越多，被扣留的正常消息也越多",
        )
        for category in CATEGORIES
    },
}


def overrides(session: Session) -> dict[str, Any]:
    rows = session.scalars(select(RuntimeSetting).where(RuntimeSetting.key.in_(EDITABLE)))
    return {row.key: row.value for row in rows}


def _default(settings: Settings, key: str) -> Any:
    if key.startswith(THRESHOLDS):
        return settings.moderation_thresholds.get(key.removeprefix(THRESHOLDS), DEFAULT_THRESHOLD)
    return getattr(settings, key)


def effective(session: Session, settings: Settings) -> Settings:
    """The settings with the admin's overrides applied."""
    changed = overrides(session)
    if not changed:
        return settings
    thresholds = {k.removeprefix(THRESHOLDS): v for k, v in changed.items() if k.startswith(THRESHOLDS)}
    update = {k: v for k, v in changed.items() if not k.startswith(THRESHOLDS)}
    if thresholds:
        update["moderation_thresholds"] = {**settings.moderation_thresholds, **thresholds}
    return settings.model_copy(update=update)


def read(session: Session, settings: Settings) -> dict[str, Any]:
    changed = overrides(session)
    return {
        "settings": [
            {
                "key": key,
                "label": spec.label or key,
                "value": changed.get(key, _default(settings, key)),
                "default": _default(settings, key),
                "overridden": key in changed,
                "min": spec.low,
                "max": spec.high,
                "type": spec.kind.__name__,
                "help": spec.help,
                "label_zh": spec.label_zh or spec.label or key,
                "help_zh": spec.help_zh or spec.help,
            }
            for key, spec in EDITABLE.items()
        ]
    }


def _validated(key: str, value: Any) -> Any:
    spec = EDITABLE.get(key)
    if spec is None:
        raise AppError(422, "unknown_setting", f"{key} can't be changed at run time; editable: {', '.join(EDITABLE)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AppError(422, "invalid_setting", f"{key} must be a number")
    if spec.kind is int and value != int(value):
        raise AppError(422, "invalid_setting", f"{key} must be a whole number")
    if not spec.low <= value <= spec.high:
        raise AppError(422, "invalid_setting", f"{key} must be between {spec.low:g} and {spec.high:g}")
    return spec.kind(value)


def update(session: Session, settings: Settings, admin: User, values: dict[str, Any]) -> dict[str, Any]:
    """Store the given values (null: back to the environment's default); all or nothing."""
    cleaned = {key: None if value is None else _validated(key, value) for key, value in values.items()}
    for key, value in cleaned.items():
        row = session.get(RuntimeSetting, key)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(RuntimeSetting(key=key, value=value, updated_by=admin.id))
        else:
            row.value, row.updated_by = value, admin.id
    session.add(AuditLog(actor_type="user", actor_id=str(admin.id), action="settings.update", detail=cleaned))
    session.flush()
    return read(session, settings)
