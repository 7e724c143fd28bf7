"""Agent and admin accounts: argon2 password hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from app.auth import repository
from app.db import as_utc, utcnow
from app.errors import AppError
from app.models import AuditLog, User, UserSession

ROLES = ("agent", "admin")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, email: str, password: str, role: str, name: str = "") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise AppError(422, "invalid_role", f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise AppError(422, "invalid_email", "give an email address")
    if len(password) < MIN_PASSWORD:
        raise AppError(422, "weak_password", f"the password needs at least {MIN_PASSWORD} characters")
    if repository.user_by_email(session, email):
        raise AppError(409, "user_exists", f"a user {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def create_demo_staff(session: Session) -> list[str]:
    """With no staff yet: a demo admin and agent with random passwords; a sign-in line for each."""
    if repository.count_users(session):
        return []
    lines = []
    for role in ("admin", "agent"):
        password = secrets.token_urlsafe(12)
        create_user(session, f"{role}@shopdesk.local", password, role, name=f"Demo {role}")
        lines.append(f"{role}: {role}@shopdesk.local  password {password}")
    return lines


# Verifying against a throwaway hash keeps the time of a failed sign-in the same for unknown emails.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_token(token: str) -> str:
    """The stored form of a bearer token (staff sessions, conversations): random tokens need no salt."""
    return hashlib.sha256(token.encode()).hexdigest()


def login(session: Session, email: str, password: str, ttl_s: int) -> tuple[User, str, datetime]:
    """Check the password and open a session; one message for every failure, so emails can't be probed."""
    user = repository.user_by_email(session, email.strip().lower())
    if user is None:
        check_password(_DUMMY_HASH, password)
    if user is None or not user.is_active or not check_password(user.password_hash, password):
        raise AppError(401, "bad_credentials", "wrong email or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = utcnow()
    repository.delete_expired_sessions(session, now)
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ttl_s)
    session.add(UserSession(user_id=user.id, token_hash=hash_token(token), expires_at=expires_at))
    session.add(AuditLog(actor_type="user", actor_id=str(user.id), action="login", target=user.email))
    session.flush()
    return user, token, expires_at


def user_for_token(session: Session, token: str) -> User:
    """The signed-in user of a session token; 401 when missing, unknown or expired."""
    row = repository.session_by_token_hash(session, hash_token(token)) if token else None
    if row is None:
        raise AppError(401, "not_signed_in", "sign in as an agent or admin", {"WWW-Authenticate": "Bearer"})
    if as_utc(row.expires_at) <= utcnow():
        raise AppError(401, "session_expired", "the session has expired; sign in again", {"WWW-Authenticate": "Bearer"})
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise AppError(401, "not_signed_in", "sign in as an agent or admin")
    return user


def logout(session: Session, token: str) -> None:
    row = repository.session_by_token_hash(session, hash_token(token))
    if row is not None:
        session.delete(row)


def csrf_token(secret_key: str, session_token: str) -> str:
    """The console's CSRF token: bound to its session, so a page of another site can't know it."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(secret_key: str, session_token: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(secret_key, session_token)):
        raise AppError(403, "csrf_failed", "the form's security token is missing or wrong; reload the page")
