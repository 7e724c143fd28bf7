"""The agent console in a real browser: a live queue, approve and edit; the customer sees the result live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.admin import runtime
from app.config import get_settings
from app.db import session_scope
from app.models import User
from tests.e2e.conftest import sign_in
from tests.e2e.test_widget import open_widget, send_text
from tests.helpers import make_user

pytestmark = pytest.mark.slow


def hold_every_reply(admin_id: int) -> None:
    """A threshold no reply reaches: each answer is held with the composer's reply as the proposal."""
    with session_scope() as s:
        runtime.update(s, get_settings(), s.get(User, admin_id), {"reply_threshold": 1.0})


def test_agent_approves_and_edits_held_replies_that_the_customer_sees_live(new_page, live_server, demo_shop):
    agent_user = make_user("agent", "ana@shop.test")
    hold_every_reply(make_user("admin")["id"])
    agent = new_page("/login")
    sign_in(agent, live_server, agent_user, "/agent")
    expect(agent.locator("#live")).to_contain_text("live")
    expect(agent.locator("#pending-count")).to_have_text("0")

    customer = open_widget(new_page("/?customer=c1001"))
    send_text(customer, "Where is my order A1023?")
    expect(customer.locator(".msg.held")).to_have_count(1)

    # The held reply appears in the agent's queue without a reload.
    item = agent.locator("#reviews .item").first
    expect(item).to_contain_text("Where is my order A1023?")
    expect(agent.locator("#pending-count")).to_have_text("1")
    item.locator("button").click()
    expect(agent.locator(".candidate")).to_contain_text("A1023")
    expect(agent.locator(".reasons")).to_contain_text("under the threshold")
    expect(agent.locator(".scores")).to_contain_text("composer")
    agent.click("#approve")
    expect(agent.locator("#pending-count")).to_have_text("0")

    expect(customer.locator(".msg.assistant:not(.welcome)").last).to_contain_text("A1023")  # arrived over SSE
    expect(customer.locator(".msg.held")).to_have_count(0)  # nobody is checking it any more
    expect(customer.locator(".held-note")).to_have_count(0)
    customer.reload()
    open_widget(customer)
    expect(customer.locator(".msg.assistant:not(.welcome)")).to_have_count(2)
    expect(customer.locator(".held-note")).to_have_count(0)  # after a reload too: the review was decided

    send_text(customer, "Where is my order A1024?")
    expect(customer.locator(".msg.held")).to_have_count(1)
    agent.locator("#reviews .item button").first.click()
    expect(agent.locator(".candidate")).to_contain_text("A1024")
    agent.fill("#reply-text", "Your order A1024 is being packed today. — Ana")
    agent.click("#edit-send")
    expect(customer.locator(".msg.agent")).to_contain_text("being packed today. — Ana")
    assert agent.errors == [] and customer.errors == []


def test_a_second_agent_sees_the_claim_and_cannot_answer(new_page, live_server, demo_shop, client):
    from tests.helpers import ask, open_conversation

    ask(client, open_conversation(client, "c1001"), "Tell me a joke about cats")
    first = new_page("/login")
    sign_in(first, live_server, make_user("agent", "ana@shop.test"), "/agent")
    first.locator("#reviews .item button").first.click()
    expect(first.locator("#reply-text")).to_be_visible()

    second = new_page("/login")
    sign_in(second, live_server, make_user("agent", "bo@shop.test"), "/agent")
    expect(second.locator("#reviews .item")).to_contain_text("claimed by ana@shop.test")
    second.locator("#reviews .item button").first.click()
    expect(second.locator(".actions")).to_contain_text("is working on this one")
    expect(second.locator("#approve")).to_have_count(0)

    # The first agent rejects the proposal and writes the answer (canned text as the start).
    first.select_option(".actions select", index=1)
    expect(first.locator("#reply-text")).not_to_have_value("")
    first.click("#reject")
    expect(second.locator("#pending-count")).to_have_text("0")


def test_a_handed_over_conversation_gets_the_agents_reply(new_page, live_server, demo_shop):
    customer = open_widget(new_page("/?customer=c1002"))
    customer.click("header .human")
    expect(customer.locator(".msg.assistant:not(.welcome)")).to_contain_text("passing this conversation")
    agent = new_page("/login")
    sign_in(agent, live_server, make_user(), "/agent")
    expect(agent.locator("#handovers .item")).to_contain_text("Asked to talk to a person")  # not "(no text)"
    expect(agent.locator("#handovers .item")).to_contain_text("Emma Brown")
    expect(agent.locator("#reviews .item")).to_have_count(0)  # the request is not a held reply as well
    agent.locator("#handovers .item button").first.click()
    agent.fill("#agent-text", "Hello, I'm here to help.")
    agent.click("#agent-send")
    expect(customer.locator(".msg.agent")).to_contain_text("Hello, I'm here to help.")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_queue_has_one_entry_per_conversation_and_an_answer_settles_its_items_live(
    new_page, live_server, demo_shop, client, width
):
    from tests.e2e.conftest import DESKTOP, PHONE
    from tests.helpers import ask, open_conversation

    hold_every_reply(make_user("admin")["id"])
    agent = new_page("/login", viewport=DESKTOP if width == "desktop" else PHONE)
    sign_in(agent, live_server, make_user("agent", "ana@shop.test"), "/agent")
    expect(agent.locator("#live")).to_contain_text("live")

    # Li Wei asks twice, in the long words a worried customer uses: one entry, two items.
    long = "Where is my order A1023? I have been waiting for it for a very long time " + "and nobody answers " * 6
    li_wei = open_conversation(client, "c1001")
    for _ in range(2):
        assert ask(client, li_wei, long).json()["reply"]["status"] == "pending_review"
    # Emma Brown asks, is held, then asks for a person: her conversation is in "With an agent" only.
    customer = open_widget(new_page("/?customer=c1002"))
    send_text(customer, long.replace("A1023", "B4735"))
    expect(customer.locator(".held-note")).to_have_count(1)
    customer.click("header .human")
    expect(customer.locator(".msg.assistant:not(.welcome)").last).to_contain_text("passing this conversation")

    held = agent.locator("#reviews .item")
    expect(held).to_have_count(1)
    expect(held).to_contain_text("Li Wei")
    expect(held.locator(".count")).to_have_text("2 held")
    expect(held.locator(".meta")).to_contain_text("score under the threshold")
    handed = agent.locator("#handovers .item")
    expect(handed).to_have_count(1)
    expect(handed).to_contain_text("Emma Brown")
    expect(handed.locator(".meta")).to_contain_text("asked for a person")
    expect(handed.locator(".count")).to_have_text("2 waiting")
    assert held.get_attribute("data-conversation") != handed.get_attribute("data-conversation")
    width_px = agent.evaluate("document.documentElement.scrollWidth")
    assert width_px <= agent.viewport_size["width"] + 1, width_px

    # The agent answers Emma in her conversation: her items are settled, in the queue and in her widget, live.
    handed.locator("button").click()
    expect(agent.locator("#suggestion")).to_contain_text("B4735")  # the assistant's proposal, to start from
    agent.click("#use-suggestion")
    expect(agent.locator("#agent-text")).to_have_value(re.compile("B4735"))
    agent.fill("#agent-text", "Hello Emma, Ana here: your order B4735 is on its way.")
    agent.click("#agent-send")
    expect(customer.locator(".msg.agent")).to_contain_text("Ana here")
    expect(customer.locator(".held-note")).to_have_count(0)
    expect(handed.locator(".meta")).to_contain_text("answered, nothing waiting")
    expect(handed.locator(".count")).to_have_count(0)
    expect(agent.locator("#reviews .item")).to_have_count(1)  # Li Wei's, still waiting

    # Answering Li Wei's latest settles the earlier one as well.
    held.locator("button").click()
    expect(agent.locator("#settles")).to_contain_text("An earlier held reply")
    agent.click("#approve")
    expect(agent.locator("#pending-count")).to_have_text("0")
    expect(agent.locator("#reviews")).to_contain_text("Nothing held.")
    assert agent.evaluate("document.documentElement.scrollWidth") <= agent.viewport_size["width"] + 1
    assert agent.errors == [] and customer.errors == []


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_an_ineligible_proposal_shows_why_and_cannot_be_approved(new_page, live_server, demo_shop, client, width):
    from tests.app.review.test_reviews import _mark_proposal_ineligible
    from tests.e2e.conftest import DESKTOP, PHONE
    from tests.helpers import ask, open_conversation

    hold_every_reply(make_user("admin")["id"])
    reply = ask(client, open_conversation(client, "c1001"), "Where is my order A1023?").json()["reply"]
    reason = "llm reply states 'refunded', which no fact supports " + "and a long explanation of why " * 4
    _mark_proposal_ineligible(reply["id"], reason.strip())
    agent = new_page("/login", viewport=DESKTOP if width == "desktop" else PHONE)
    sign_in(agent, live_server, make_user("agent", "ana@shop.test"), "/agent")
    agent.locator("#reviews .item button").first.click()
    expect(agent.locator("#refused")).to_contain_text("Can't be approved as it is")
    expect(agent.locator("#refused")).to_contain_text("no fact supports")
    expect(agent.locator("#approve")).to_be_disabled()
    expect(agent.locator("#edit-send")).to_have_class("primary")
    agent.click("#edit-send")  # the proposal unchanged: not sent
    expect(agent.locator("#toast")).to_contain_text("Change the proposal")
    agent.fill("#reply-text", "Order A1023 has shipped with SF Express.")
    agent.click("#edit-send")
    expect(agent.locator("#pending-count")).to_have_text("0")
    width_px = agent.evaluate("document.documentElement.scrollWidth")
    assert width_px <= agent.viewport_size["width"] + 1, width_px  # long reasons wrap on a phone
    assert agent.errors == []


def test_a_long_conversation_opens_at_the_held_message_and_long_lines_fit_a_phone(
    new_page, live_server, demo_shop, client
):
    from tests.e2e.conftest import PHONE
    from tests.helpers import ask, open_conversation

    conversation = open_conversation(client, "c1001")
    for i in range(10):
        asked = ask(
            client, conversation, f"Where is my order A1023? (asking again, time {i + 1}) " + "still waiting " * 8
        )
        assert asked.status_code == 201, asked.text
    long = "Tell me a long story about " + "cats and dogs playing together in a sunny garden all afternoon " * 6
    held = ask(client, conversation, long).json()["reply"]
    assert held["status"] == "pending_review"
    agent = new_page("/login", viewport=PHONE)
    sign_in(agent, live_server, make_user("agent", "ana@shop.test"), "/agent")
    expect(agent.locator("#reviews .item")).to_have_count(1)
    width = agent.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width  # the long queue line is cut with an ellipsis, not the page widened
    agent.locator("#reviews .item button").first.click()
    focus = agent.locator(".transcript .focus")
    expect(focus).to_be_visible()
    box, frame = focus.bounding_box(), agent.locator(".transcript").bounding_box()
    assert box and frame and frame["y"] <= box["y"] < frame["y"] + frame["height"], (box, frame)  # in view
    assert agent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert agent.errors == []


def test_the_agent_sees_a_voice_transcript_with_the_order_and_amount_marked(new_page, live_server, demo_shop, client):
    from tests.helpers import auth, open_conversation
    from tests.support.speech import encode, speak

    hold_every_reply(make_user("admin")["id"])
    conversation = open_conversation(client, "c1002")
    clip = encode(speak("Hello, where is my order B four seven three five? It cost eighty dollars."), "webm")
    sent = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        files=[("files", ("voice.webm", clip, "audio/webm"))],
        headers=auth(conversation),
    )
    assert sent.status_code == 201, sent.text
    agent = new_page("/login")
    sign_in(agent, live_server, make_user("agent", "ana@shop.test"), "/agent")
    agent.locator("#reviews .item button").first.click()
    expect(agent.locator("mark.heard.order")).to_have_text("B4735")
    expect(agent.locator(".transcript-text")).to_contain_text("recogniser confidence")
    assert agent.errors == []


def test_the_agent_sees_which_of_the_customers_ids_the_audio_matched(new_page, live_server, demo_shop, client):
    """The console shows what was heard, what it was matched to and by how much (app/perception/heard_ids.py
    decides the match; tests/app/perception/test_heard_ids.py tests it on real speech). Here the stored
    perception is given one, as a matched clip stores it, and the page must render it as text."""
    from app.db import session_scope
    from app.models import Attachment
    from tests.helpers import auth, open_conversation
    from tests.support.speech import encode, speak

    hold_every_reply(make_user("admin")["id"])
    conversation = open_conversation(client, "c1002")
    clip = encode(speak("Hello, where is my order B four seven three five?"), "webm")
    sent = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        files=[("files", ("voice.webm", clip, "audio/webm"))],
        headers=auth(conversation),
    )
    assert sent.status_code == 201, sent.text
    matched = {
        "kind": "id",
        "value": "B4735",
        "heard": "before 735",
        "margin": 6.25,
        "against_heard": 1.5,
        "over_slip": 3.0,
    }
    with session_scope() as s:
        attachment = s.query(Attachment).one()
        attachment.perception = {**attachment.perception, "matched": matched}
    agent = new_page("/login")
    sign_in(agent, live_server, make_user("agent", "ana@shop.test"), "/agent")
    agent.locator("#reviews .item button").first.click()
    line = agent.locator(".transcript-text .matched")
    expect(line).to_contain_text("“before 735” → order B4735")
    expect(line).to_contain_text("6.3 nats ahead of their next order")
    assert agent.errors == []
