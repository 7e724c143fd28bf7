"""The eval gate: a candidate is promoted only when it is not worse on any of the three measures."""

from __future__ import annotations

import pytest

from app.llm import prompts
from training.evaluate import fixed_suite, gate, held_out

ACTIVE = {"grounded_accuracy": 0.5, "verifier_pass": 0.8, "moderation_pass": 1.0}


def test_not_worse_is_promoted():
    assert gate({**ACTIVE, "grounded_accuracy": 0.6}, ACTIVE) == (True, [])
    assert gate(dict(ACTIVE), ACTIVE) == (True, [])


@pytest.mark.parametrize("key", ["grounded_accuracy", "verifier_pass", "moderation_pass"])
def test_worse_on_any_measure_is_held_back_with_the_reason(key):
    promote, reasons = gate({**ACTIVE, "grounded_accuracy": 0.9, key: ACTIVE[key] - 0.2}, ACTIVE)
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
    assert case.facts == ["Order A1 has shipped"]
