"""The admin console in a real browser: start a training run and watch it; every tab draws."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.helpers import ask, make_user, open_conversation

pytestmark = pytest.mark.slow

QUESTIONS = ["Where is my order A1023?", "我的订单A1024发货了吗？", "How long does a refund take?", "Is shipping free?"]


@pytest.fixture
def in_process_training(settings):  # type: ignore[no-untyped-def]
    """The embedded default: no Redis, so the run goes to a thread of the server; a tiny run."""
    settings.redis_url = ""
    settings.training_max_steps, settings.training_batch_size = 40, 2
    settings.training_eval_tokens, settings.training_min_examples, settings.training_eval_suite = 8, 2, 1
    return settings


def test_admin_starts_a_training_run_and_sees_its_progress(
    new_page, live_server, client, demo_shop, in_process_training, local_model
):
    for question in QUESTIONS:
        ask(client, open_conversation(client, "c1001"), question)
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    expect(page.locator("#start-run")).to_be_enabled()
    page.click("#start-run")
    expect(page.locator("#run-status")).to_have_text("running", timeout=30_000)
    expect(page.locator(".stages li.now")).to_have_text("finetune", timeout=60_000)
    expect(page.locator("#run-progress")).to_be_visible(timeout=60_000)  # steps and loss, live
    expect(page.locator("svg.chart")).to_be_visible(timeout=60_000)  # the loss curve
    expect(page.locator("#run-time")).to_contain_text("elapsed")
    expect(page.locator("#run-time")).to_contain_text("left")  # the fine-tune's remaining time, at its pace
    expect(page.locator("#start-run")).to_be_disabled()  # one run at a time
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=120_000)
    expect(page.locator("#start-run")).to_be_enabled()
    assert page.errors == []


def test_a_run_with_dpo_shows_both_curves_and_the_gate_table(new_page, live_server, demo_shop):
    """A finished run as the pipeline records one that trained DPO: its progress and its metrics."""
    from app.db import session_scope
    from app.models import TrainingRun
    from training.pipeline import STAGES

    def scores(grounded: float, sendable: float) -> dict:
        return {"engine": "transformers", "cases": 7, "grounded_accuracy": grounded, "verifier_pass": 0.5,
                "moderation_pass": 1.0, "sendable": sendable, "samples": []}  # fmt: skip

    progress = {
        "stage": "deploy",
        "timings": dict.fromkeys(STAGES, 1.0),
        "losses": [2.1, 1.8, 1.5],
        "dpo_losses": [0.6931, 0.61, 0.52],
        "dpo_margins": [0.0, 0.19, 0.4],
        "dpo_accuracies": [0.0, 1.0, 1.0],
    }
    table = {"active": scores(0.286, 0.143), "sft": scores(0.286, 0.143), "sft+dpo": scores(0.429, 0.286)}
    metrics = {
        "candidate": table["sft+dpo"],
        "active_before": table["active"],
        "compared": table,
        "chosen": "sft+dpo",
        "chosen_because": ["grounded_accuracy rose from 0.286 to 0.429", "sendable rose from 0.143 to 0.286"],
        "dpo": {"pairs": 8, "steps": 3, "beta": 0.1, "seconds": 40.2},
        "promoted": True,
        "not_promoted_because": [],
    }
    with session_scope() as s:
        s.add(TrainingRun(status="succeeded", stage="deploy", progress=progress, metrics=metrics))
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    expect(page.locator("svg.chart")).to_have_count(2)  # the fine-tune's loss and DPO's, side by side
    expect(page.locator("#dpo-chart")).to_contain_text("reward margin 0 → 0.4")
    expect(page.locator("#gate-table th")).to_have_text(["metric", "active before", "SFT only", "SFT+DPO (kept)"])
    grounded = page.locator("#gate-table tr", has_text="grounded_accuracy").locator("td")
    expect(grounded).to_have_text(["grounded_accuracy", "0.286", "0.286", "0.429"])
    sendable = page.locator("#gate-table tr", has_text="sendable").locator("td")
    expect(sendable).to_have_text(["sendable", "0.143", "0.143", "0.286"])
    expect(page.locator("#run-detail")).to_contain_text("SFT+DPO kept: grounded_accuracy rose from 0.286 to 0.429")
    assert page.errors == []


def test_every_admin_tab_draws(new_page, live_server, client, demo_shop):
    from app.db import session_scope
    from app.models import ModelVersion

    ask(client, open_conversation(client, "c1001"), "Where is my order A1023?")
    with session_scope() as s:
        s.add(ModelVersion(name="run-3", backend="local", base="smollm2", status="registered"))
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    page.click("a[href='#models']")
    expect(page.locator("#models")).to_be_visible()
    expect(page.locator("#answering")).to_contain_text("Answering now:")  # even with no version trained
    expect(page.locator("#models")).to_contain_text("run-3")
    expect(page.locator("main")).not_to_contain_text("null")  # nothing drawn as the text "null"
    page.click("a[href='#analytics']")
    expect(page.locator("svg.chart")).to_have_count(5)
    expect(page.locator("#moderation-counts")).to_be_visible()
    page.click("a[href='#settings']")
    page.fill("input[name=reply_threshold]", "0.85")
    page.click("#settings-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("Saved")
    expect(page.locator("#settings-form")).to_contain_text("changed")
    page.click("a[href='#lexicon']")
    expect(page.locator("section.category", has_text="fraud")).to_contain_text("(replies only)")
    page.fill("input[aria-label='add a term to competitors']", "megastore")
    page.press("input[aria-label='add a term to competitors']", "Enter")
    page.click("#save-lexicon")
    expect(page.locator("#toast")).to_contain_text("Saved as version")
    page.click("a[href='#users']")
    page.fill("#new-user input[name=email]", "new.agent@shop.test")
    page.fill("#new-user input[name=password]", "a long password")
    page.click("#new-user button[type=submit]")
    expect(page.locator("#users")).to_contain_text("new.agent@shop.test")
    assert page.errors == []


def test_charts_have_round_ticks_and_say_when_there_is_one_day_of_data(new_page, live_server, client, demo_shop):
    ask(client, open_conversation(client, "c1001"), "Where is my order A1023?")
    page = new_page("/login")
    sign_in(page, live_server, make_user("admin"), "/admin")
    page.click("a[href='#analytics']")
    expect(page.locator("svg.chart")).to_have_count(5)
    expect(page.locator("svg.chart .one-day").first).to_have_text("one day of data so far")
    ticks = page.locator("svg.chart text.axis[text-anchor='end']").all_text_contents()
    assert ticks and all(len(t.split(".")[-1].split(" ")[0]) <= 2 for t in ticks if "." in t), ticks
    helpers = page.evaluate(
        "import('/static/charts.js').then((m) => [m.niceTop(0.28), m.niceTop(13328), m.niceTop(7), "
        "m.tickLabel(10000, 'ms'), m.tickLabel(250, 'ms'), m.tickLabel(0.075)])"
    )
    assert helpers == [0.4, 20000, 8, "10 s", "250 ms", "0.08"], helpers
    assert page.errors == []


@pytest.mark.parametrize(
    ("width", "locale", "query"),
    [
        ("desktop", "en-US", ""),
        ("phone", "zh-CN", ""),  # a browser set to Chinese
        ("desktop", "en-US", "?lang=zh"),
        ("phone", "zh-CN", "?lang=en"),
    ],
)
def test_settings_have_human_labels_and_help_in_the_admins_language(
    new_page, live_server, demo_shop, width, locale, query
):
    from tests.e2e.conftest import DESKTOP, PHONE

    page = new_page("/login", viewport=DESKTOP if width == "desktop" else PHONE, locale=locale)
    sign_in(page, live_server, make_user("admin"), "/admin")
    if query:
        page.goto(f"{live_server}/admin{query}#settings")
    else:
        expect(page.locator("#start-run")).to_be_visible()  # the first tab drawn, then ours
        page.click("a[href='#settings']")
    reply = page.locator("#settings-form label").filter(has=page.locator("input[name=reply_threshold]"))
    names = page.locator("#settings-form .name")
    expect(names.first).to_be_visible()
    shown = names.all_text_contents()
    assert not any("_" in name for name in shown), shown  # no raw keys (reply_threshold) as labels
    if "zh" in (query or locale) and query != "?lang=en":
        expect(reply.locator(".name")).to_have_text("自动回复阈值")
        expect(reply.locator(".help")).to_contain_text("自动发出")
        expect(reply.locator(".help")).to_contain_text("默认")
        expect(page.locator("#settings-form")).to_contain_text("内容审核：欺诈")
        expect(page.locator("#settings-form button[type=submit]")).to_have_text("保存")
    else:
        expect(reply.locator(".name")).to_have_text("Reply threshold")
        expect(reply.locator(".help")).to_contain_text("goes out on its own")
        expect(page.locator("#settings-form")).to_contain_text("Moderation: fraud")
    width_px = page.evaluate("document.documentElement.scrollWidth")
    assert width_px <= page.viewport_size["width"] + 1, width_px
    assert page.errors == []
