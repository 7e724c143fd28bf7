"""Admin decisions: editing the moderation lexicon, with a version and a kept copy of each edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.config import Settings
from app.errors import AppError
from app.models import AuditLog, User, UserSession
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


def list_users(session: Session) -> list[dict[str, Any]]:
    return [user_read(u) for u in session.scalars(select(User).order_by(User.id))]


def user_read(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
    }


def create_user(session: Session, admin: User, email: str, password: str, role: str, name: str) -> dict[str, Any]:
    user = auth_service.create_user(session, email, password, role, name)
    session.add(AuditLog(actor_type="user", actor_id=str(admin.id), action="user.create", target=user.email))
    return user_read(user)


def update_user(session: Session, admin: User, user_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a user's role or switch the account off (which also ends its sessions)."""
    user = session.get(User, user_id)
    if user is None:
        raise AppError(404, "not_found", "no such user")
    if user.id == admin.id and (changes.get("is_active") is False or changes.get("role") not in (None, "admin")):
        raise AppError(409, "own_account", "an admin can't switch off or demote their own account")
    if "role" in changes and changes["role"] is not None:
        if changes["role"] not in auth_service.ROLES:
            raise AppError(422, "invalid_role", f"role must be one of {', '.join(auth_service.ROLES)}")
        user.role = changes["role"]
    if changes.get("is_active") is not None:
        user.is_active = bool(changes["is_active"])
        if not user.is_active:
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.add(
        AuditLog(actor_type="user", actor_id=str(admin.id), action="user.update", target=user.email, detail=changes)
    )
    session.flush()
    return user_read(user)
