"""Admin decisions: editing the moderation lexicon, with a version and a kept copy of each edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import AppError
from app.models import AuditLog, User
from moderation.lexicon import get_store


def read_lexicon(settings: Settings) -> dict[str, Any]:
    store = get_store(settings.resolved_lexicon_path)
    data: dict[str, Any] = json.loads(store.path().read_text(encoding="utf-8"))
    return data


def save_lexicon(session: Session, settings: Settings, admin: User, data: dict[str, Any]) -> dict[str, Any]:
    """Validate, version and store the lexicon; the next message is checked with it."""
    if not isinstance(data.get("categories"), dict) or not data["categories"]:
        raise AppError(422, "invalid_lexicon", "the lexicon needs a 'categories' object")
    data = {**data, "version": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    path = settings.resolved_lexicon_path
    store = get_store(path)
    try:
        store.save(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise AppError(422, "invalid_lexicon", f"the lexicon was not saved: {exc}") from None
    history = path.parent / "history"
    history.mkdir(parents=True, exist_ok=True)
    (history / f"lexicon-{data['version'].replace(':', '')}.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    session.add(
        AuditLog(
            actor_type="user",
            actor_id=str(admin.id),
            action="lexicon.save",
            target=data["version"],
            detail={"categories": sorted(data["categories"])},
        )
    )
    return {"version": data["version"], "categories": sorted(data["categories"])}
