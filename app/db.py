"""Engine, session factory and the declarative Base; the Redis clients."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker

from app.config import get_settings

if TYPE_CHECKING:  # alembic and redis are imported where they're used: most processes need neither
    import redis
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)
# Alembic lists the plugins it sets up, at INFO, as it is imported: noise in every migrate and /readyz.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite gives timestamps back without their zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 in UTC, or None."""
    return as_utc(value).isoformat() if value else None


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets the SSE readers run beside a writing turn; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    settings = get_settings()
    url = url or settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Connections are held only between a turn's short transactions (never across OCR, ASR or the model).
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=30)


@lru_cache
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@lru_cache
def get_redis(url: str, timeout_s: float = 1.0) -> redis.Redis:
    """One client (and connection pool) per URL and timeout, for this process's threads.

    Short timeouts: every use (events, rate limits, probes) goes on without Redis rather than wait for it.
    """
    import redis

    return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)


_AFTER_COMMIT = "shopdesk.after_commit"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run callback once the session's transaction has committed; drop it if the transaction rolls back.

    Side effects that others act on (a stream's wake-up, a queued job) must not run before the rows they
    point at are durable, nor at all for rows that never were.
    """
    if session.get_transaction() is None:
        session.begin()  # tie the callback to a transaction, so a close() without commit drops it too
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the commit stands; a failed side effect is logged, not raised
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # Callbacks still queued when the outermost transaction ends belong to one that rolled back or closed.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


@contextmanager
def session_scope() -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error (the one owner of a unit of work)."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str) -> AlembicConfig:
    """Alembic's settings for the migrations package, wherever Shopdesk is installed (no alembic.ini: that
    file is for `alembic revision` in a checkout)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("migrations")))
    config.attributes["database_url"] = url
    return config


@lru_cache
def _migration_scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(""))


def migrate(url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    from alembic import command

    config = _alembic_config(url or get_settings().resolved_database_url)
    if config.attributes["database_url"].startswith("sqlite"):
        get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, "head")


def schema_mismatch(connection: Connection) -> str | None:
    """Why the database's schema doesn't fit this version, in one line; None when it is at the newest migration.

    Served on an older schema, every request that touches a newer column fails; the operator is told what
    to run instead of finding out from the errors.
    """
    scripts = _migration_scripts()
    needed = scripts.get_current_head()
    current = _schema_revision(connection)
    if current == needed:
        return None
    if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
        return f"database schema is at {current}, newer than this version's {needed}: run the version that migrated it"
    shown = current or "no revision (an empty database)"
    return f"database schema is at {shown}, this version needs {needed}: run `shopdesk migrate`"


def _schema_revision(connection: Connection) -> str | None:
    """The revision alembic recorded in the database (None: an empty one), read quietly: /readyz asks often."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision: str | None = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return revision
