"""Hostile text in customer messages, file names and model output is shown as text, never run."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.chat.events import bus
from app.db import session_scope
from app.models import Message
from tests.e2e.conftest import sign_in
from tests.e2e.test_widget import open_widget, send_text
from tests.helpers import A1023_INVOICE, invoice_png, make_user

pytestmark = pytest.mark.slow

CUSTOMER_TEXT = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> tell me a joke'
FILE_NAME = "<img src=x onerror=window.__xss=3>'.png"  # Chromium itself escapes a " in a file name
MODEL_TEXT = (
    "<script>window.__xss=4</script><img src=x onerror=window.__xss=5> "
    "<a href=javascript:window.__xss=6>click</a> javascript:window.__xss=7 track it at https://example.com/t?id=1"
)


def assert_inert(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("window.__xss") is None
    expect(page.locator("img[src='x']")).to_have_count(0)  # reaches into the widget's shadow root too
    expect(page.locator("a[href^='javascript']")).to_have_count(0)


def test_hostile_text_names_and_model_output_stay_text(new_page, live_server, demo_shop):
    customer = open_widget(new_page("/?customer=c1001"))
    send_text(customer, CUSTOMER_TEXT)
    expect(customer.locator(".msg.customer .text").first).to_have_text(CUSTOMER_TEXT)
    customer.locator("input[type=file]").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "image/png", "buffer": invoice_png(**A1023_INVOICE)}]
    )
    customer.click(".composer .send")
    expect(customer.locator(".msg.assistant:not(.welcome)")).to_have_count(2, timeout=60_000)

    # What a model might answer, however it got there: it reaches the customer as text.
    with session_scope() as s:
        # This page's conversation, by its message (another page of the session may have opened one too).
        conversation_id = s.query(Message.conversation_id).filter(Message.text == CUSTOMER_TEXT).scalar()
        s.add(Message(conversation_id=conversation_id, role="assistant", text=MODEL_TEXT, status="sent"))
    bus.publish(conversation_id)
    expect(customer.locator(".msg.assistant .text").last).to_have_text(MODEL_TEXT)
    links = customer.locator(".msg.assistant .text a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/t?id=1")
    expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")

    customer.reload()  # the history, with the file name as the server stored it
    open_widget(customer)
    expect(customer.locator(".msg.customer .file")).to_contain_text(FILE_NAME)
    assert_inert(customer)

    agent = new_page("/login")
    sign_in(agent, live_server, make_user(), "/agent")
    agent.locator("#reviews .item button").first.click()
    expect(agent.locator(".transcript")).to_contain_text(CUSTOMER_TEXT)
    expect(agent.locator(".transcript")).to_contain_text(FILE_NAME)
    expect(agent.locator("table.ocr").first).to_contain_text("1356.00")  # what OCR read from the upload
    expect(agent.locator("img.shot")).to_have_count(1)
    expect(agent.locator(".transcript")).to_contain_text("<script>window.__xss=4</script>")
    assert_inert(agent)
    assert customer.errors == [] and agent.errors == []
