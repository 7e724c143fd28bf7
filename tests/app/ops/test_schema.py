"""Serving only on this version's schema: `shopdesk serve` refuses a database that is behind (or empty) with
one line, /readyz reports a schema that moves while serving, and a database that can't be reached still
gets today's 503 with Retry-After. Each test has a PostgreSQL database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text

from app.db import get_engine, migrate, schema_mismatch
from tests.conftest import ROOT, TEST_DATABASE_URL, _admin
from tests.instances import ShopdeskProcess, free_port

pytestmark = pytest.mark.slow

SCRIPTS = ScriptDirectory(str(ROOT / "migrations"))
HEAD = SCRIPTS.get_current_head()


@pytest.fixture
def own_database() -> Iterator[str]:
    """An empty database of this test's own (never the suite's: these tests move its schema)."""
    url = make_url(TEST_DATABASE_URL).set(database=f"shopdesk_schema_{os.getpid()}")
    rendered = url.render_as_string(hide_password=False)
    _admin(rendered, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
    yield rendered
    get_engine(rendered).dispose()
    _admin(rendered, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _downgrade_one(url: str) -> str:
    """Undo the newest migration (a restored backup, a rolled-back deploy); the revision it leaves."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.downgrade(config, "-1")
    newest = SCRIPTS.get_revision("head")
    assert newest is not None and isinstance(newest.down_revision, str)
    return newest.down_revision


def _serve(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port())],
        env={**os.environ, "SHOPDESK_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_refuses_an_empty_or_older_schema_with_one_line(own_database: str):
    empty = _serve(own_database)
    assert empty.returncode == 2
    assert empty.stderr.strip() == (
        f"shopdesk: database schema is at no revision (an empty database), this version needs {HEAD}: "
        "run `shopdesk migrate`"
    )
    migrate(own_database)
    behind = _downgrade_one(own_database)
    older = _serve(own_database)
    assert older.returncode == 2
    assert older.stderr.strip() == (
        f"shopdesk: database schema is at {behind}, this version needs {HEAD}: run `shopdesk migrate`"
    )
    with get_engine(own_database).begin() as connection:  # migrated by a newer Shopdesk: migrate can't help
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_newer_version'"))
        assert schema_mismatch(connection) == (
            f"database schema is at 9999_from_a_newer_version, newer than this version's {HEAD}: "
            "run the version that migrated it"
        )


def test_readyz_reports_a_schema_that_moves_while_serving(own_database: str, tmp_path: Path):
    migrate(own_database)
    api = ShopdeskProcess.serve({"SHOPDESK_DATABASE_URL": own_database, "SHOPDESK_REDIS_URL": ""}, tmp_path / "api.log")
    api.start()
    try:
        ready = httpx.get(f"{api.url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"]["schema"] == "ok"
        behind = _downgrade_one(own_database)
        moved = httpx.get(f"{api.url}/readyz", timeout=10)
        assert moved.status_code == 503
        assert moved.json()["checks"] == {
            "database": "ok",
            "schema": f"database schema is at {behind}, this version needs {HEAD}: run `shopdesk migrate`",
        }
        migrated = subprocess.run(
            [sys.executable, "-m", "app.cli", "migrate"],
            env={**os.environ, "SHOPDESK_DATABASE_URL": own_database},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        assert httpx.get(f"{api.url}/readyz", timeout=10).status_code == 200
    finally:
        api.stop()


def test_an_unreachable_database_still_starts_and_answers_503_with_retry_after(tmp_path: Path):
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shopdesk"  # nothing listens there
    api = ShopdeskProcess.serve({"SHOPDESK_DATABASE_URL": nowhere, "SHOPDESK_REDIS_URL": ""}, tmp_path / "api.log")
    api.start()
    try:
        down = httpx.post(f"{api.url}/api/v1/conversations", json={}, timeout=30)
        assert down.status_code == 503 and down.headers["Retry-After"]
        assert down.json()["error"]["code"] == "database_unavailable"
        ready = httpx.get(f"{api.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("down")
    finally:
        api.stop()
    assert "database unreachable at start" in api.log.read_text()
