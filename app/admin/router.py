"""Admin API: the moderation lexicon (edited at run time, no restart)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.admin import service as admin_service
from app.deps import CurrentAdmin, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/lexicon")
def get_lexicon(admin: CurrentAdmin, settings: SettingsDep) -> dict[str, Any]:
    return admin_service.read_lexicon(settings)


@router.put("/lexicon")
def put_lexicon(body: dict[str, Any], admin: CurrentAdmin, settings: SettingsDep, session: SessionDep) -> dict:
    return admin_service.save_lexicon(session, settings, admin, body)
