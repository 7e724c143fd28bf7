"""Shop API keys: how the shop's own systems (its order system, a sync job, a webhook relay) authenticate.

A key is shown once, when it is created; only its SHA-256 is stored (a key is 256 random bits, so a slow
hash adds nothing). Each key carries scopes: `orders:write` (orders and customers), `policies:write`
(articles and rules) and `read`.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import as_utc, iso, utcnow
from app.errors import AppError
from app.models import ApiKey
from app.shop.repository import audit

SCOPES = ("orders:write", "policies:write", "read")
KEY_PREFIX = "sdk_"
_SHOWN_CHARS = 8  # "sdk_AbCd": enough to tell keys apart in a list, far too little to guess the rest


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _audit(session: Session, actor: str, action: str, key: ApiKey) -> None:
    audit(session, actor, action, f"key:{key.id}", {"name": key.name, "scopes": key.scopes})


def create_key(session: Session, name: str, scopes: list[str], actor: str) -> tuple[ApiKey, str]:
    """A new key and its secret (returned once, never stored). `actor` is "user:ID" or "cli"."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise AppError(422, "invalid_name", "give the key a name of 1 to 100 characters")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise AppError(
            422, "invalid_scope", f"scopes must be among {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})"
        )
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=raw[:_SHOWN_CHARS],
        key_hash=_hash(raw),
        scopes=[s for s in SCOPES if s in scopes],
        created_by=actor,
    )
    session.add(key)
    session.flush()
    _audit(session, actor, "key.create", key)
    return key, raw


def revoke_key(session: Session, key_id: int, actor: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise AppError(404, "not_found", f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        _audit(session, actor, "key.revoke", key)
        session.flush()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def authenticate(session: Session, raw: str, scope: str) -> ApiKey:
    """The key a request presents; 401 when missing, unknown or revoked, 403 without the scope."""
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(raw))) if raw else None
    if key is None or key.revoked_at is not None:
        raise AppError(401, "invalid_key", "a valid shop API key is needed (Authorization: Bearer sdk_…)")
    if scope not in key.scopes:
        raise AppError(403, "forbidden", f"this key is not allowed to {scope} (its scopes: {', '.join(key.scopes)})")
    now = utcnow()
    if key.last_used_at is None or (now - as_utc(key.last_used_at)).total_seconds() > 60:
        key.last_used_at = now  # at most once a minute: a sync sending thousands of calls writes this rarely
    return key


def key_read(key: ApiKey) -> dict[str, object]:
    """A key as lists show it: never its secret."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "created_by": key.created_by,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at),
    }
