"""Dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Cookie, Depends, Header, Query, Request
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.chat import service as chat_service
from app.config import Settings, get_settings
from app.db import session_scope
from app.errors import AppError
from app.llm.base import ChatModel
from app.llm.registry import get_chat_model
from app.models import Conversation, User


def get_session() -> Iterator[Session]:
    """A session per request: committed when the handler returns, rolled back if it raises."""
    with session_scope() as session:
        yield session


# scope="function": the commit runs when the handler returns and *before* the response is sent, so a
# client never acts on a 201 whose rows aren't there yet, and a commit that fails answers an error instead
# of the success the handler built. (FastAPI's default scope runs this teardown after the response.)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_model(settings: SettingsDep) -> ChatModel:
    return get_chat_model(settings)


ChatModelDep = Annotated[ChatModel, Depends(get_model)]


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def bearer_token(
    authorization: Annotated[str | None, Header()] = None,
    access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> str:
    """The bearer token; `?access_token=` too, since browsers' EventSource can't send headers."""
    return _bearer(authorization) or access_token or ""


def current_conversation(
    conversation_id: str, session: SessionDep, token: Annotated[str, Depends(bearer_token)]
) -> Conversation:
    return chat_service.authenticate(session, token, conversation_id)


def token_conversation(session: SessionDep, token: Annotated[str, Depends(bearer_token)]) -> Conversation:
    return chat_service.authenticate(session, token)


CurrentConversation = Annotated[Conversation, Depends(current_conversation)]
TokenConversation = Annotated[Conversation, Depends(token_conversation)]


SESSION_COOKIE = "shopdesk_session"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def user_token(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    shopdesk_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The agent's or admin's session token: a bearer header (API) or the console's cookie.

    A browser sends the cookie on its own, so a change made with it must also carry the page's CSRF
    token (header X-CSRF-Token); a bearer token can't be sent by another site and needs none.
    """
    bearer = _bearer(authorization)
    if bearer:
        return bearer
    if shopdesk_session and request.method not in SAFE_METHODS:
        auth_service.check_csrf(settings.secret_key, shopdesk_session, x_csrf_token)
    return shopdesk_session or ""


UserToken = Annotated[str, Depends(user_token)]


def current_user(session: SessionDep, token: UserToken) -> User:
    return auth_service.user_for_token(session, token)


CurrentUser = Annotated[User, Depends(current_user)]


def current_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise AppError(403, "forbidden", "this needs an admin")
    return user


CurrentAdmin = Annotated[User, Depends(current_admin)]
