"""The admin console's shop tabs in a real browser: edit a policy and the next answer quotes it; set a
rule that an article contradicts and see it flagged; create a key, use it, revoke it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in
from tests.helpers import ask, make_user, open_conversation

pytestmark = pytest.mark.slow

QUESTION = "How many days do I have to return an item for any reason?"


def test_a_policy_edited_in_the_console_is_in_the_next_answer(new_page, live_server, client, demo_shop):
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    page.goto(f"{live_server}/admin#policies")
    page.get_by_role("button", name="Returns and exchanges").first.click()
    expect(page.get_by_label("article id")).to_have_value("returns-en")
    body = page.get_by_label("article text (Markdown)")
    text = body.input_value()
    assert "within 7 days of delivery for any reason" in text
    body.fill(text.replace("within 7 days of delivery", "within 20 days of delivery"))
    # The preview follows the text as it is typed: the passages retrieval will quote.
    expect(page.locator("#passages")).to_contain_text("within 20 days of delivery")
    page.click("#save-article")
    expect(page.locator("#articles .selected")).to_contain_text("v2")

    reply = ask(client, open_conversation(client, "c1002"), QUESTION).json()["reply"]["text"]
    assert "20 days" in reply and "7 days" not in reply, reply

    # A rule that the article now contradicts is flagged where the admin edits both.
    page.get_by_label("Return window (days after delivery, any reason)").fill("14")
    page.click("#save-rules")
    expect(page.locator("#rule-conflicts")).to_contain_text("return_window_days is 14")
    assert page.errors == []


def test_a_key_is_shown_once_used_and_revoked(new_page, live_server, client, demo_shop):
    page = new_page("/login", viewport=PHONE)
    sign_in(page, live_server, make_user("admin"), "/admin")
    page.goto(f"{live_server}/admin#keys")
    page.get_by_label("key name").fill("order system with a rather long descriptive name for the phone layout")
    page.click("#new-key button[type=submit]")
    secret = page.locator("#key-secret").inner_text()
    assert secret.startswith("sdk_")
    headers = {"Authorization": f"Bearer {secret}"}
    order = client.get("/api/v1/shop/orders/A1023", headers=headers)
    assert order.status_code == 403  # orders:write only, not read
    update = {**_a1023(), "status": "delivered"}
    assert client.put("/api/v1/shop/orders/A1023", json=update, headers=headers).status_code == 200
    expect(page.locator("#keys")).to_contain_text(secret[:8])
    assert secret not in page.locator("#keys").inner_text()
    # The page fits the phone's width even with a long name.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#keys")).to_contain_text("revoked")
    assert client.put("/api/v1/shop/orders/A1023", json=update, headers=headers).status_code == 401
    page.reload()
    expect(page.locator("#keys")).to_be_visible()
    assert page.locator("#key-secret").count() == 0  # never shown again
    assert page.errors == []


def _a1023() -> dict:
    import json

    from app.shop.service import DEMO_DIR

    return next(o for o in json.loads((DEMO_DIR / "orders.json").read_text())["orders"] if o["id"] == "A1023")


def test_the_policies_tab_draws_nothing_stray_without_conflicts(new_page, live_server, demo_shop):
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    page.goto(f"{live_server}/admin#policies")
    expect(page.locator("#passages li").first).to_be_visible()
    assert page.locator("#rule-conflicts").count() == 0  # the demo's rules agree with its articles
    assert "null" not in page.locator("#view").inner_text()
    assert page.errors == []
