"""The customer widget in a real browser: text, an invoice screenshot, a voice file, feedback, phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.helpers import A1023_INVOICE, invoice_png
from tests.support.speech import encode, speak

pytestmark = pytest.mark.slow


def open_widget(page):  # type: ignore[no-untyped-def]
    page.click(".bubble")  # Playwright's CSS selectors reach into the widget's open shadow root
    expect(page.locator(".panel")).to_be_visible()
    return page


def send_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill(".composer textarea", text)
    page.keyboard.press("Enter")


def test_a_customer_conversation_with_text_an_invoice_and_a_voice_message(new_page, demo_shop):
    page = open_widget(new_page("/?customer=c1001"))
    send_text(page, "Where is my order A1023?")
    first = page.locator(".msg.assistant:not(.welcome)").first
    expect(first).to_contain_text("A1023")
    expect(page.locator(".msg.customer")).to_have_count(1)

    page.fill(".composer textarea", "Can I get this invoice reimbursed?")
    invoice = invoice_png(**A1023_INVOICE)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "fapiao.png", "mimeType": "image/png", "buffer": invoice}]
    )
    expect(page.locator(".tray img")).to_have_count(1)  # the preview, before sending
    page.click(".composer .send")
    expect(page.locator(".progress")).to_have_text("Reading your invoice…")
    reply = page.locator(".msg.assistant:not(.welcome)").nth(1)
    expect(reply).to_contain_text("1356.00", timeout=60_000)
    expect(reply).to_contain_text("reimburs")
    expect(page.locator(".progress")).to_be_hidden()

    clip = encode(speak("Hello, where is my order A one zero two four?"), "webm")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "voice.webm", "mimeType": "audio/webm", "buffer": clip}]
    )
    page.click(".composer .send")
    expect(page.locator(".progress")).to_have_text("Listening…")
    voice_reply = page.locator(".msg.assistant:not(.welcome)").nth(2)
    expect(voice_reply).to_contain_text("A1024", timeout=60_000)

    # Thumbs up on the first reply is stored.
    first.locator(".rate.up").click()
    expect(first.locator(".rate.up")).to_have_attribute("aria-pressed", "true")

    # A reload shows the same conversation, each message once.
    page.reload()
    open_widget(page)
    expect(page.locator(".msg.customer")).to_have_count(3)
    expect(page.locator(".msg.assistant:not(.welcome)")).to_have_count(3)
    assert page.errors == []


def test_chinese_from_the_browser_language_and_a_phone_sized_panel(new_page, demo_shop):
    page = open_widget(new_page("/?customer=c1001", viewport=PHONE, locale="zh-CN"))
    box = page.locator(".panel").bounding_box()
    assert box and box["width"] == PHONE["width"] and box["height"] == PHONE["height"]  # full screen on a phone
    expect(page.locator(".composer textarea")).to_have_attribute("placeholder", "输入消息…")
    send_text(page, "我的订单A1024发货了吗？")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1024")


def test_talk_to_a_human_and_the_agents_reply_arrives_live(new_page, demo_shop, client):
    from tests.helpers import login, make_user

    page = open_widget(new_page("/?customer=c1002"))
    send_text(page, "Where is my order B4735?")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("B4735")
    page.click("header .human")
    handed = page.locator(".msg.assistant:not(.welcome)").nth(1)
    expect(handed).to_contain_text("passing this conversation to a support agent")
    expect(handed.locator(".held-note")).to_have_count(0)  # the confirmation says it; no "checking" note
    expect(page.locator("header .human")).to_be_hidden()
    page.reload()
    open_widget(page)
    expect(page.locator(".msg.assistant:not(.welcome)")).to_have_count(2)
    expect(page.locator("header .human")).to_be_hidden()  # not offered again in a handed-over conversation

    agent = login(client, make_user())
    [conversation] = client.get("/api/v1/agent/queue", headers=agent).json()["handed_over"]
    client.post(
        f"/api/v1/agent/conversations/{conversation['id']}/messages", json={"text": "Hi, this is Ana."}, headers=agent
    )
    expect(page.locator(".msg.agent")).to_contain_text("Hi, this is Ana.")  # over SSE, no reload


def test_a_voice_message_recorded_in_the_browser_is_sent(new_page, demo_shop):
    """MediaRecorder on Chromium's fake microphone (a beep): recorded, timed, sent and stored."""
    page = open_widget(new_page("/?customer=c1001"))
    page.click(".composer .mic")
    expect(page.locator(".recorder .clock")).to_have_text("0:01", timeout=10_000)
    page.click(".recorder .primary")
    customer = page.locator(".msg.customer")
    expect(customer).to_have_count(1)
    expect(customer).not_to_have_class("sending", timeout=60_000)
    expect(page.locator(".msg.assistant:not(.welcome)")).to_have_count(1, timeout=60_000)
    assert page.errors == []


def test_a_dropped_photo_is_downscaled_in_the_browser_before_upload(new_page, demo_shop):
    from PIL import Image

    from app.config import get_settings
    from app.db import session_scope
    from app.models import Attachment
    from app.perception.media import stored_path

    page = open_widget(new_page("/?customer=c1001"))
    # A 3000×2000 photo dropped on the panel, as a file manager would hand it over.
    page.evaluate(
        """async () => {
            const canvas = document.createElement("canvas");
            canvas.width = 3000; canvas.height = 2000;
            const g = canvas.getContext("2d");
            g.fillStyle = "#fff"; g.fillRect(0, 0, 3000, 2000);
            g.fillStyle = "#000"; g.font = "120px sans-serif"; g.fillText("Order A1023", 200, 400);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const drop = new DataTransfer();
            drop.items.add(new File([blob], "photo.png", { type: "image/png" }));
            const panel = document.querySelector("#shopdesk-widget").shadowRoot.querySelector(".panel");
            panel.dispatchEvent(new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true }));
        }"""
    )
    expect(page.locator(".tray img")).to_have_count(1)
    page.fill(".composer textarea", "Here is a photo")
    page.click(".composer .send")
    expect(page.locator(".msg.assistant:not(.welcome)")).to_have_count(1, timeout=60_000)
    with session_scope() as s:
        [attachment] = s.query(Attachment).all()
        assert attachment.mime == "image/jpeg" and attachment.filename == "photo.jpg"
        path = stored_path(get_settings().data_dir, attachment.sha256, attachment.mime)
    with Image.open(path) as image:
        assert image.size == (2048, 1365)


def test_a_message_sent_while_offline_is_delivered_once_when_back(new_page, demo_shop):
    from app.db import session_scope
    from app.models import Message

    page = open_widget(new_page("/?customer=c1001"))
    expect(page.locator(".msg.welcome")).to_be_visible()
    # The conversation is open: the widget has stored it for this customer.
    page.wait_for_function("() => Object.keys(localStorage).some((k) => k.endsWith(':c1001'))")
    page.context.set_offline(True)
    with page.expect_event("requestfailed", lambda r: r.method == "POST" and r.url.endswith("/messages")):
        send_text(page, "Where is my order A1023?")  # the first attempt fails; the widget retries, same key
    page.context.set_offline(False)
    expect(page.locator(".msg.assistant:not(.welcome)")).to_contain_text("A1023", timeout=30_000)
    expect(page.locator(".msg.customer")).to_have_count(1)
    with session_scope() as s:
        assert s.query(Message).filter_by(role="customer").count() == 1


def test_a_photo_sent_the_moment_it_is_picked_goes_with_the_message(new_page, demo_shop):
    """A large photo is downscaled in the browser first; Send pressed before that finishes used to send
    nothing and leave the photo behind in the tray (the XSS test's rare missing reply)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (240, 240, 240)).save(buffer, "PNG")  # over MAX_IMAGE_SIDE: downscaled
    page = open_widget(new_page("/?customer=c1001"))
    # A slow phone: decoding the photo takes a second and a half.
    page.evaluate(
        """() => { const decode = window.createImageBitmap.bind(window);
                   window.createImageBitmap = (f) => new Promise((r) => setTimeout(r, 1500)).then(() => decode(f)); }"""
    )
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": buffer.getvalue()}]
    )
    page.click(".composer .send")  # at once, while the browser is still downscaling
    expect(page.locator(".msg.customer img.thumb")).to_have_count(1)
    expect(page.locator(".msg.assistant:not(.welcome)")).to_have_count(1, timeout=60_000)
    expect(page.locator(".tray")).to_be_hidden()


@pytest.mark.parametrize(("locale", "viewport", "said"), [("en-US", None, "was not sent: the file is damaged"),
                                                          ("zh-CN", PHONE, "未发送：文件已损坏")])  # fmt: skip
def test_a_refused_file_is_named_with_its_reason_beside_the_message(new_page, demo_shop, locale, viewport, said):
    page = open_widget(new_page("/?customer=c1001", viewport=viewport, locale=locale))
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a PNG signature and nothing that decodes
    page.fill(".composer textarea", "Where is my order A1023?")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": broken}]
    )
    page.click(".composer .send")
    note = page.locator(".msg.customer .refused")
    expect(note).to_contain_text("receipt.png")
    expect(note).to_contain_text(said)
    expect(page.locator(".msg.customer img.thumb")).to_have_count(0)  # no broken picture in the bubble
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1023")  # the text was answered
    expect(note).to_be_visible()  # still there once the reply arrived
    expect(note).to_be_in_viewport()

    # Sent alone, nothing goes: the bubble says why, in view, with nothing to retry.
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "scan.png", "mimeType": "image/png", "buffer": broken}]
    )
    page.click(".composer .send")
    alone = page.locator(".msg.customer.failed .refused")
    expect(alone).to_contain_text("scan.png")
    expect(alone).to_be_in_viewport()
    expect(page.locator(".msg.customer.failed .retry")).to_have_count(0)
    assert page.errors == []


def test_one_page_load_opens_at_most_one_conversation(new_page, demo_shop):
    page = open_widget(new_page("/?customer=c1001"))
    send_text(page, "Where is my order A1023?")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1023")
    created: list[str] = []
    page.on(
        "request", lambda r: created.append(r.url) if r.method == "POST" and r.url.endswith("/conversations") else None
    )

    page.reload()  # the stored conversation is used again
    open_widget(page)
    send_text(page, "Where is my order A1024?")
    expect(page.locator(".msg.assistant:not(.welcome)").nth(1)).to_contain_text("A1024")
    assert created == []

    # A stored conversation whose token no longer works: exactly one new conversation replaces it.
    page.evaluate("""() => { for (const k of Object.keys(localStorage)) {
        const v = JSON.parse(localStorage.getItem(k)); v.token = "expired";
        localStorage.setItem(k, JSON.stringify(v)); } }""")
    page.reload()
    open_widget(page)
    send_text(page, "Where is my order A1024?")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1024")
    assert len(created) == 1, created
    assert page.errors == []


def _expire_stored_conversation(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("""() => { for (const k of Object.keys(localStorage)) {
        const v = JSON.parse(localStorage.getItem(k)); v.token = "expired";
        localStorage.setItem(k, JSON.stringify(v)); } }""")


def test_a_message_sent_before_the_page_finds_its_conversation_expired_still_goes(new_page, demo_shop):
    """The page checks its stored conversation when it loads; a customer who types first must not see
    "Not sent": the message goes to the one conversation that replaces the expired one."""
    page = open_widget(new_page("/?customer=c1001"))
    send_text(page, "Where is my order A1023?")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1023")
    _expire_stored_conversation(page)
    held: list = []
    page.route("**/messages?after=*", lambda route: held.append(route))  # the load's check waits
    created: list[str] = []
    page.on(
        "request", lambda r: created.append(r.url) if r.method == "POST" and r.url.endswith("/conversations") else None
    )

    page.reload()
    open_widget(page)
    send_text(page, "Where is my order A1024?")
    expect(page.locator(".msg.assistant:not(.welcome)").first).to_contain_text("A1024")
    assert held, "the load's check of the stored conversation was not held back"
    stored = page.evaluate("() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).id")
    with page.expect_request(lambda r: "/events" in r.url) as listening:
        for route in held:
            route.continue_()  # it comes back refused, after the message already replaced the conversation
    page.unroute("**/messages?after=*")
    assert f"/conversations/{stored}/events" in listening.value.url  # live replies from the new one
    assert len(created) == 1, created
    expect(page.locator(".msg.customer .retry")).to_have_count(0)
    expect(page.locator(".status")).to_be_hidden()
    assert page.errors == []
