"""Agent and admin accounts: argon2 password hashes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.models import User

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
    if session.scalar(select(User).where(User.email == email)):
        raise AppError(409, "user_exists", f"a user {email} already exists")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user
