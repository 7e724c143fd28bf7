"""The eval gate: its measures, sendable scored by the real decision stage, and the promotion rule (not worse
on any measure, better on one)."""

from __future__ import annotations

import pytest

from app.grounding.facts import InvoiceFact, OrderFact, OrderNotFoundFact, PolicyFact, RuleFact
from app.llm import prompts
from moderation.lexicon import DEFAULT_PATH, Lexicon
from training.evaluate import MEASURES, decision, fixed_suite, gate, held_out, policy_texts, score

ACTIVE = {"grounded_accuracy": 0.5, "verifier_pass": 0.8, "moderation_pass": 0.9, "sendable": 0.4}
# The first suite question, "Where is my order A1023?": the order has shipped with SF Express, SF1234567890.
SENT = "Your order A1023 has shipped with SF Express; its tracking number is SF1234567890."


class FixedAnswers:
    """A stand-in for the model only (its answers, one per case, in order): the scoring is the gate's own."""

    engine = "fixed"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)

    def generate(self, messages, *, n=1, max_tokens=128, temperature=0.7):  # type: ignore[no-untyped-def]
        return [self.answers.pop(0)]


def _scores(*answers: str, cases=None, settings=None) -> dict:  # type: ignore[no-untyped-def]
    cases = cases or fixed_suite()[:1] * len(answers)
    return score(FixedAnswers(*answers), cases, settings=settings)  # type: ignore[arg-type]


def test_a_correct_answer_the_decision_stage_would_send_is_sendable():
    result = _scores(SENT)
    assert {k: result[k] for k in MEASURES} == dict.fromkeys(MEASURES, 1.0)


@pytest.mark.parametrize(
    "held",
    [
        SENT + " I answer only from the FACTS I was given.",  # repeats its instructions
        SENT + " I promise it will arrive tomorrow.",  # a promise: the lexicon's fraud terms need a person
        f"{SENT} {SENT}",  # repeats itself
    ],
)
def test_a_correct_answer_the_decision_stage_would_hold_is_not_sendable(held):
    result = _scores(held)
    assert result["grounded_accuracy"] == 1.0 and result["sendable"] == 0.0


def test_saying_the_question_back_is_no_backed_claim():
    # The base model's habit: the customer's message, order id and all, as its answer. The id is backed by the
    # facts but is no claim the model made; a backed claim of its own passes.
    result = _scores("<customer_message>\nWhere is my order A1023?\n</customer_message>", SENT)
    assert result["verifier_pass"] == result["grounded_accuracy"] == 0.5


def test_an_answer_that_is_sendable_but_wrong_does_not_count():
    # Backed and eligible, but without the tracking number the reference gives: not grounded-correct.
    result = _scores("Your order A1023 has shipped with SF Express.", SENT)
    assert result["grounded_accuracy"] == result["sendable"] == 0.5


def test_sendable_needs_the_reply_threshold(settings):
    settings.reply_threshold = 0.99  # above what a model's reply can score (its source counts less)
    assert _scores(SENT, settings=settings)["sendable"] == 0.0


def test_the_suite_asks_what_the_question_needs():
    """The suite's facts are objects, so its answer key is the turn's: a reply must name the order."""
    [en, zh, *_] = fixed_suite()
    assert en.answer_key is not None and en.answer_key.needs == ["order"]
    assert (en.lang, zh.lang, zh.question) == ("en", "zh", "我的订单A1023到哪了？")
    lexicon = Lexicon.from_file(DEFAULT_PATH)
    unnamed = decision("It has shipped with SF Express; its tracking number is SF1234567890.", en, lexicon, None)
    assert "llm reply doesn't say the order it is about" in unnamed.reasons
    assert decision(SENT, en, lexicon, None).eligible


def test_a_held_out_turn_is_scored_on_its_question_and_its_policy_passages():
    passage = "Unused items can be returned within 7 days of delivery."
    facts = [
        "order A1023: status delivered; total 1356.00 CNY; placed 2026-11-20; delivered 2026-11-23",
        f"policy [returns] Returns and exchanges: {passage}",
    ]
    sent = prompts.build_messages(facts, [], "Can I still return order A1023?", "en")
    answer = "Yes, unused items can be returned within 7 days of delivery."
    [case] = held_out([{"messages": [*prompts.marked(sent), {"role": "assistant", "content": answer}]}])
    assert case.question == "Can I still return order A1023?" and case.policy_texts == [passage]
    # A held-out turn's facts are prompt lines, not objects: no answer key (nothing checks what it must say).
    assert case.answer_key is None and case.lang == "en"
    # The verdict ("yes, … can be returned") is backed by the passage, as the turn's verifier backs it.
    assert _scores(answer, cases=[case])["sendable"] == 1.0
    assert _scores(answer + " I promise.", cases=[case])["sendable"] == 0.0


def test_the_policy_texts_are_the_turns():
    """Read back from the prompt lines, they are what app/chat/turn.py passes the decision stage."""
    order = OrderFact("A1023", "delivered", "1356.00", "CNY", "2026-11-20T10:00:00", delivered_at="2026-11-23")
    policy = PolicyFact("returns", "Returns: the basics", "Returns within 7 days.", 0, 1.0, "en")
    window = RuleFact("return_window_days", "A1023", 7, "delivery", "2026-11-23", "2026-11-30", True)
    address = RuleFact("address_change_statuses", "A1024", status="shipped", statuses=["pending"], allowed=False)
    invoice = InvoiceFact(1, "INV-1", "10.00", "CNY", "2026-11-20", "Acme", "91X", "S", "A1023", "10.00", True)
    facts = [order, policy, window, address, invoice, OrderNotFoundFact("Z9", anonymous=False)]
    turns = [f.text if isinstance(f, PolicyFact) else f.prompt_line() for f in (policy, window, address, invoice)]
    # A title with ": " in it leaves its tail in the passage (prompt lines don't mark where the title ends).
    assert policy_texts([f.prompt_line() for f in facts]) == ["the basics: " + turns[0], *turns[1:]]


def test_an_equal_candidate_is_not_promoted():
    # Not worse anywhere, but nothing gained: a swap that changes nothing is held back, and says so.
    assert gate(dict(ACTIVE), ACTIVE) == (False, ["no measure improved"])


@pytest.mark.parametrize("key", MEASURES)
def test_better_on_one_measure_and_not_worse_elsewhere_is_promoted(key):
    assert gate({**ACTIVE, key: ACTIVE[key] + 0.1}, ACTIVE) == (True, [])


@pytest.mark.parametrize("key", MEASURES)
def test_worse_on_any_measure_is_held_back_with_the_reason(key):
    better = "verifier_pass" if key == "grounded_accuracy" else "grounded_accuracy"
    promote, reasons = gate({**ACTIVE, better: 0.9, key: ACTIVE[key] - 0.2}, ACTIVE)
    assert not promote and len(reasons) == 1 and reasons[0].startswith(key)


def test_the_gate_asks_as_the_turn_asks():
    [case, *_] = fixed_suite()
    assert case.messages == prompts.build_messages(case.facts, [], "Where is my order A1023?", "en")
    history, image = [["customer", "hi"], ["agent", "Hello!"]], {"type": "image", "image": "/uploads/a.png"}
    sent = prompts.build_messages(["Order A1 has shipped"], history, "Where is it?", "en", [image])
    row = {"messages": [*prompts.marked(sent), {"role": "assistant", "content": "A1 has shipped."}]}
    [case] = held_out([row])
    # The local model is sent the text alone: the prompt with its history, without the image's marker.
    assert case.messages == prompts.build_messages(["Order A1 has shipped"], history, "Where is it?", "en")
    assert case.facts == ["Order A1 has shipped"] and case.question == "Where is it?"


@pytest.mark.slow
def test_the_same_weights_answer_the_same_prompt_once(local_model, tmp_path, settings):
    """The active model's answers are read back from its folder on the next run; other weights answer afresh."""
    from app.llm.local import LocalChatModel
    from training.evaluate import ANSWERS_FILE, answers, run

    folder = tmp_path / "model"  # the embedded model's files, linked, so the cache is written here
    folder.mkdir()
    for item in local_model.path.iterdir():
        if item.name != ANSWERS_FILE:
            (folder / item.name).symlink_to(item)
    cases = fixed_suite()[:2]
    first = run(folder, cases, 8, engine="onnx", settings=settings)
    assert first["engine"] == "onnx-int4" and (folder / ANSWERS_FILE).exists()

    class Counted(LocalChatModel):
        calls = 0

        def generate(self, messages, **kwargs):  # type: ignore[no-untyped-def]
            Counted.calls += 1
            return super().generate(messages, **kwargs)

    model = Counted(folder, tmp_path, engine="onnx")
    again = answers(model, cases, 8)
    assert Counted.calls == 0 and again[:2] == first["samples"][:2]
    assert run(folder, cases, 8, engine="onnx", settings=settings) == first
    # A longer answer, or another prompt, is generated; so is every answer once the weights change.
    answers(model, [*cases, fixed_suite()[2]], 8)
    assert Counted.calls == 1
    answers(model, cases, 9)
    assert Counted.calls == 3
    weights = folder / "onnx-int4"
    (folder / "onnx-int4").unlink()
    weights.mkdir()
    for item in (local_model.path / "onnx-int4").iterdir():
        (weights / item.name).symlink_to(item)
    (weights / "extra.txt").write_text("another conversion")
    fresh = Counted(folder, tmp_path, engine="onnx")
    answers(fresh, cases, 9)
    assert Counted.calls == 5
