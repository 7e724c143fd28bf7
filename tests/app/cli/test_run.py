"""`shopdesk run` on a fresh data folder: SQLite, the demo shop seeded, a grounded reply over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.chat.service import sign_customer_ref

pytestmark = pytest.mark.slow


def test_run_serves_the_demo_shop_on_sqlite(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "SHOPDESK_DATA_DIR": str(tmp_path),
        "SHOPDESK_DATABASE_URL": "",
        "SHOPDESK_REDIS_URL": "",
        "SHOPDESK_ENV": "development",
    }
    env.pop("SHOPDESK_WIDGET_SECRET")  # the development default applies
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "shopdesk run did not come up"
            time.sleep(0.5)
        assert (tmp_path / "shopdesk.db").exists()
        sig = sign_customer_ref("dev-insecure-secret-change-me", "c1002")
        with httpx.Client(base_url=base, timeout=120) as http:
            conversation = http.post("/api/v1/conversations", json={"customer_ref": "c1002", "customer_sig": sig})
            assert conversation.status_code == 201
            c = conversation.json()
            reply = http.post(
                f"/api/v1/conversations/{c['id']}/messages",
                data={"text": "Where is my order B4712?"},
                headers={"Authorization": f"Bearer {c['token']}"},
            ).json()["reply"]
        assert reply["status"] == "sent"
        assert "delivered" in reply["text"] and "1Z999AA10123456784" in reply["text"]
    finally:
        process.terminate()
        process.wait(timeout=30)
