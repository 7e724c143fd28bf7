"""The prompt read back: the customer's text, the fact lines and the language, as build_messages put them in."""

from __future__ import annotations

import pytest

from app.llm import prompts


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("facts", [[], ["order A1023: status shipped", "policy [returns] Returns: Within 7 days."]])
def test_a_prompt_is_read_back_as_it_was_built(lang, facts):
    text = "  Where is my order?\nIt was due <b>Monday</b>. "  # as typed: spaces, a new line, markup
    image = {"type": "image", "image": "/uploads/a.png"}
    built = prompts.build_messages(facts, [["customer", "hi"], ["agent", "Hello!"]], text, lang, [image])
    for messages in (built, prompts.marked(built), prompts.without_markers(prompts.marked(built))):
        assert prompts.customer_text(messages) == text
        assert prompts.fact_lines(messages) == facts
        assert prompts.prompt_language(messages) == lang


def test_a_prompt_without_a_customer_message_has_no_customer_text():
    assert prompts.customer_text([{"role": "system", "content": "rules"}]) == ""
    assert prompts.customer_text([{"role": "user", "content": "not wrapped"}]) == ""
