"""Sign-in for agents and admins."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.auth import service as auth_service
from app.auth.schemas import LoginCreate, LoginRead, UserRead
from app.deps import SESSION_COOKIE, CurrentUser, SessionDep, SettingsDep, UserToken

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=LoginRead)
def login(body: LoginCreate, response: Response, session: SessionDep, settings: SettingsDep) -> dict:
    user, token, expires_at = auth_service.login(session, body.email, body.password, settings.user_session_ttl_s)
    result = {
        "token": token,
        "expires_at": expires_at,
        "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
    }
    if body.session_cookie:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=settings.user_session_ttl_s,
            httponly=True,
            samesite="strict",
            secure=settings.env == "production",
            path="/",
        )
        # The page keeps only the CSRF token; the session token stays in the HttpOnly cookie.
        result.update(token=None, csrf_token=auth_service.csrf_token(settings.secret_key, token))
    return result


@router.post("/logout", status_code=204, response_class=Response)
def logout(user: CurrentUser, token: UserToken, session: SessionDep) -> Response:
    auth_service.logout(session, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
