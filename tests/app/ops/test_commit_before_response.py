"""A write is acknowledged only once it is durable.

The request's session commits when the handler returns and before the response is sent (app/deps.py):
a client that acts on a 201 at once finds what it was told exists, and a commit that fails answers an error.
Side effects registered with `after_commit` run after the commit and never after a rollback.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.service import create_user
from app.db import after_commit, get_sessionmaker, migrate
from app.deps import SessionDep
from app.models import User
from tests.instances import ShopdeskProcess

ROUNDS = 150  # the race showed about 3 times in 150 on SQLite before the fix
PASSWORD = "correct horse battery"


@pytest.fixture(params=["postgresql", "sqlite"])
def served(request, settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`shopdesk serve` as its own process on the test PostgreSQL or on a fresh SQLite file, with one agent."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shopdesk.db'}"
        migrate(url)
    else:
        url = settings.resolved_database_url
    with get_sessionmaker(url)() as session:
        create_user(session, "race@shop.test", PASSWORD, "agent")
        session.commit()
    env = {
        "SHOPDESK_DATABASE_URL": url,
        "SHOPDESK_DATA_DIR": str(tmp_path / "data"),
        "SHOPDESK_REDIS_URL": "",
        "SHOPDESK_LLM_SAMPLES": "0",
        "SHOPDESK_RATE_LIMIT_IP": "0",
    }
    server = ShopdeskProcess.serve(env, tmp_path / "serve.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _create_then_post(base: str, i: int) -> tuple[int, int]:
    with httpx.Client(base_url=base, timeout=60) as http:
        created = http.post("/api/v1/conversations", json={})
        if created.status_code != 201:
            return created.status_code, 0
        conversation = created.json()
        posted = http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": f"hello {i}"},
            headers={"Authorization": f"Bearer {conversation['token']}"},
        )
        return created.status_code, posted.status_code


def _sign_in_then_open_console(base: str, _: int) -> tuple[int, int, str]:
    with httpx.Client(base_url=base, timeout=60) as http:
        signed_in = http.post(
            "/api/v1/auth/login", json={"email": "race@shop.test", "password": PASSWORD, "session_cookie": True}
        )
        page = http.get("/agent", follow_redirects=False)
        return signed_in.status_code, page.status_code, page.headers.get("location", "")


@pytest.mark.slow
def test_a_new_conversation_takes_its_first_message_at_once(served: str):
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: _create_then_post(served, i), range(ROUNDS)))
    assert all(created == 201 for created, _ in results)
    refused = [posted for _, posted in results if posted != 201]
    assert refused == [], f"{len(refused)} of {ROUNDS} first messages refused: {sorted(set(refused))}"


@pytest.mark.slow
def test_a_sign_in_opens_the_console_at_once(served: str):
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: _sign_in_then_open_console(served, i), range(ROUNDS)))
    assert all(signed_in == 200 for signed_in, _, _ in results)
    bounced = [(status, location) for _, status, location in results if status != 200]
    assert bounced == [], f"{len(bounced)} of {ROUNDS} console loads bounced: {bounced[:3]}"


def test_a_commit_that_fails_is_answered_as_an_error_and_nothing_is_kept(client: TestClient):
    """A unique violation found only at commit (no flush before it): 409, not the 201 the handler built."""
    published: list[str] = []
    router = APIRouter()

    @router.post("/test-only/users", status_code=201)
    def create_twice(session: SessionDep) -> dict:
        # Both rows reach the database only at the commit, after the handler has built its answer.
        session.add(User(email="twin@shop.test", password_hash="x", role="agent", name="one"))
        session.add(User(email="twin@shop.test", password_hash="x", role="agent", name="two"))
        after_commit(session, lambda: published.append("created"))
        return {"created": True}

    client.app.include_router(router)  # type: ignore[attr-defined]
    response = client.post("/test-only/users")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert published == []  # the side effect of a rolled-back write never ran
    with get_sessionmaker()() as session:
        assert session.query(User).filter_by(email="twin@shop.test").count() == 0


def test_side_effects_run_after_commit_and_never_after_rollback(session: Session):
    seen: list[str] = []

    def note_visible() -> None:
        # Another session sees the row by the time the side effect runs.
        with get_sessionmaker()() as other:
            seen.append("visible" if other.query(User).filter_by(email="after@shop.test").count() else "missing")

    session.add(User(email="after@shop.test", password_hash="x", role="agent", name=""))
    after_commit(session, note_visible)
    session.flush()
    assert seen == []
    session.commit()
    assert seen == ["visible"]

    session.add(User(email="rolled@shop.test", password_hash="x", role="agent", name=""))
    after_commit(session, lambda: seen.append("rolled back"))
    session.flush()
    session.rollback()
    session.commit()  # a later commit doesn't run what belonged to the rolled-back transaction
    assert seen == ["visible"]

    after_commit(session, lambda: seen.append("closed"))
    session.close()
    session.commit()
    assert seen == ["visible"]
