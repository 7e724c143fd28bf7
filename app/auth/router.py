"""Sign-in for agents and admins."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth import service as auth_service
from app.auth.schemas import LoginCreate, LoginRead
from app.deps import CurrentUser, SessionDep, SettingsDep, UserToken

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=LoginRead)
def login(body: LoginCreate, session: SessionDep, settings: SettingsDep) -> dict:
    user, token, expires_at = auth_service.login(session, body.email, body.password, settings.user_session_ttl_s)
    return {
        "token": token,
        "expires_at": expires_at,
        "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
    }


@router.post("/logout", status_code=204)
def logout(user: CurrentUser, token: UserToken, session: SessionDep) -> Response:
    auth_service.logout(session, token)
    return Response(status_code=204)


@router.get("/me")
def me(user: CurrentUser) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
