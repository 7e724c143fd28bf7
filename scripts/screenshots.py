"""Screenshots of every page at desktop and phone width, from a real server with real turns: `make screenshots`.

Runs the embedded default (SQLite, no Redis) in a throwaway data folder: seeds the demo shop, holds some
replies for review, uploads an invoice, hands a conversation to a person, runs a short real training run,
then drives Debian's Chromium through the pages. Writes docs/screenshots/<page>-<desktop|phone>.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="shopdesk-shots-"))
os.environ.update(
    SHOPDESK_ENV="development",
    SHOPDESK_DATA_DIR=str(DATA),
    SHOPDESK_DATABASE_URL="",
    SHOPDESK_REDIS_URL="",
    SHOPDESK_MODELS_DIR=os.environ.get("SHOPDESK_MODELS_DIR", str(ROOT / "data" / "models")),
    SHOPDESK_LLM_SAMPLES="0",
    SHOPDESK_TRAINING_MAX_STEPS="12",
    SHOPDESK_TRAINING_BATCH_SIZE="2",
    SHOPDESK_TRAINING_EVAL_TOKENS="16",
    SHOPDESK_TRAINING_EVAL_SUITE="2",
    SHOPDESK_TRAINING_MIN_EXAMPLES="4",
    SHOPDESK_TRAINING_AWQ_SAMPLES="4",
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
)

from fastapi.testclient import TestClient  # noqa: E402

from app.admin import runtime  # noqa: E402
from app.chat.service import sign_customer_ref  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import migrate, session_scope  # noqa: E402
from app.models import User  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: E402
from tests.helpers import A1023_INVOICE, invoice_png  # noqa: E402

STAFF = {"admin": ("admin@shop.example", "screenshots-admin-pw"), "agent": ("ana@shop.example", "screenshots-agent-pw")}


def prepare(client: TestClient) -> None:
    from app.auth.service import create_user
    from app.shop.service import seed_demo

    migrate()
    with session_scope() as s:
        seed_demo(s)
        create_user(s, STAFF["admin"][0], STAFF["admin"][1], "admin", "Mei (admin)")
        create_user(s, STAFF["agent"][0], STAFF["agent"][1], "agent", "Ana")
    secret = get_settings().widget_secret

    def conversation(ref: str, locale: str = "en") -> dict:
        body = {"customer_ref": ref, "customer_sig": sign_customer_ref(secret, ref), "locale": locale}
        return client.post("/api/v1/conversations", json=body).json()

    def ask(conv: dict, text: str, files: list | None = None) -> dict:
        headers = {"Authorization": f"Bearer {conv['token']}"}
        url = f"/api/v1/conversations/{conv['id']}/messages"
        return client.post(url, data={"text": text}, files=files or [], headers=headers).json()

    for ref, questions in {
        "c1001": ["Where is my order A1023?", "How long does a refund take?", "Is shipping free?"],
        "c1002": ["Where is my order B4735?", "退款多久到账？", "Can I change my address?"],
        "c1003": ["Where is my order C2001?", "Tell me a joke about parcels"],
    }.items():
        conv = conversation(ref)
        for question in questions:
            ask(conv, question)
    # A held reply with a proposal for the agent: for one question no reply may go out on its own.
    with session_scope() as s:
        runtime.update(s, get_settings(), s.query(User).filter_by(role="admin").one(), {"reply_threshold": 1.0})
    ask(conversation("c1002"), "Can I return my keyboard?")
    with session_scope() as s:
        runtime.update(s, get_settings(), s.query(User).filter_by(role="admin").one(), {"reply_threshold": None})
    invoice = [("files", ("fapiao.png", invoice_png(**A1023_INVOICE), "image/png"))]
    ask(conversation("c1001", "zh"), "这张发票能报销吗？", invoice)
    handed = conversation("c1002")
    client.post(
        f"/api/v1/conversations/{handed['id']}/handover", headers={"Authorization": f"Bearer {handed['token']}"}
    )


def train(client: TestClient) -> None:
    token = client.post("/api/v1/auth/login", json={"email": STAFF["admin"][0], "password": STAFF["admin"][1]})
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    run = client.post("/api/v1/training/runs", headers=headers).json()
    print(f"training run {run['id']} (a short real one)…", flush=True)
    while True:
        state = client.get(f"/api/v1/training/runs/{run['id']}", headers=headers).json()
        if state["status"] not in ("queued", "running"):
            print(f"  {state['status']}", flush=True)
            return
        time.sleep(2)


def serve() -> str:
    import socket

    import uvicorn

    from app.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def signed_in(url: str) -> bool:
    return "/login" not in url


def shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, locale="en-US")
            page = context.new_page()

            def save(name: str, page=page, width_name=width_name) -> None:  # type: ignore[no-untyped-def]
                path = out / f"{name}-{width_name}.png"
                page.screenshot(path=str(path), full_page=name.startswith(("agent", "admin")))
                written.append(path)

            page.goto(base + "/?customer=c1001")
            save("shop")
            page.click(".bubble")
            page.fill(".composer textarea", "Where is my order A1023?")
            page.keyboard.press("Enter")
            page.locator(".msg.assistant:not(.welcome)").first.wait_for()
            page.locator("input[type=file]").set_input_files(
                files=[{"name": "fapiao.png", "mimeType": "image/png", "buffer": invoice_png(**A1023_INVOICE)}]
            )
            page.fill(".composer textarea", "Can I get this invoice reimbursed?")
            page.click(".composer .send")
            page.locator(".msg.assistant:not(.welcome)").nth(1).wait_for(timeout=60_000)
            save("widget")

            page.goto(base + "/login?next=/agent")
            save("login")
            page.fill("input[name=email]", STAFF["agent"][0])
            page.fill("input[name=password]", STAFF["agent"][1])
            page.click("button[type=submit]")
            page.wait_for_url(signed_in)
            page.locator("#reviews .item", has_text="keyboard").locator("button").click()
            page.locator(".candidate").wait_for()
            save("agent")
            page.request.post(
                base + "/api/v1/auth/logout",
                headers={"X-CSRF-Token": page.locator("meta[name=csrf-token]").get_attribute("content") or ""},
            )

            page.goto(base + "/login?next=/admin")
            page.fill("input[name=email]", STAFF["admin"][0])
            page.fill("input[name=password]", STAFF["admin"][1])
            page.click("button[type=submit]")
            page.wait_for_url(signed_in)
            for tab in ("training", "models", "analytics", "settings", "lexicon", "policies", "users", "keys"):
                page.goto(f"{base}/admin#{tab}")
                page.wait_for_timeout(800)
                save(f"admin-{tab}")
            page.goto(f"{base}/admin?lang=zh#settings")  # the settings' labels and help in Chinese
            page.wait_for_timeout(800)
            save("admin-settings-zh")
            context.close()
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--no-training", action="store_true", help="skip the short training run")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from app.main import create_app

    with TestClient(create_app()) as client:
        print(f"preparing demo data in {DATA}…", flush=True)
        prepare(client)
        if not args.no_training:
            train(client)
    base = serve()
    for path in shoot(base, out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
