"""The customer's own order ids matched against what the recogniser wrote (app/perception/heard_ids.py),
scored by the shipped Whisper base model on synthesized speech."""

from __future__ import annotations

import pytest

from app.config import get_settings
from app.perception.audio import decode
from app.perception.heard_ids import _runs
from app.perception.service import transcribe
from tests.support.speech import encode, speak


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("Hi, where is my order K9305?", ["K9305"]),
        ("Where is Order K-I-3 05?", ["K-I-3 05"]),
        ("My order number is 4-4-7-1-2-3-6, when", ["4-4-7-1-2-3-6"]),
        ("order HO 2026 1014-0047 has", ["HO 2026 1014-0047"]),
        ("Oh, one more thing: order B four seven one two", ["B four seven one two"]),
        ("我的订单四四七一二三六到哪了", ["四四七一二三六"]),
        ("I have one question about two things", []),  # digit words, but not an id
    ],
)
def test_id_like_words_as_the_recogniser_writes_them(text, runs):
    assert [text[start:end] for start, end in _runs(text)] == runs


def _heard(said: str, ids: list[str]) -> dict:
    return transcribe(decode(encode(speak(said), "webm"), 60), get_settings(), "en", None, ids)


@pytest.mark.slow
def test_a_misheard_id_is_matched_to_the_customers_own():
    """Whisper base writes this clip as "Where is Order K-I-3 05?"; of the customer's three ids, the audio
    clearly says K9305 (not K9350, its digits swapped)."""
    heard = _heard("where is order K nine three zero five", ["K9350", "K9305", "P1234"])
    assert "K9305" in heard["text"]
    assert heard["id_match"]["order_id"] == "K9305" and heard["id_match"]["heard"] == "K-I-3 05"


@pytest.mark.slow
def test_a_digit_that_was_a_word_is_given_back():
    """"four four seven one two three six for me" is written "44712364 me"."""
    heard = _heard("Can you check order four four seven one two three six for me please", ["4471263", "4471236"])
    assert "4471236 for me" in heard["text"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "ids",
    [
        ["K9350", "P1234", "B4712"],  # one of theirs is K9305 with two digits swapped
        ["K9350"],  # their only order: nothing to be ahead of
    ],
)
def test_an_id_that_is_not_theirs_is_never_taken_for_one_of_theirs(ids):
    heard = _heard("where is order K nine three zero five", ids)
    assert heard["id_match"] is None
    assert not any(order_id in heard["text"] for order_id in ids)


@pytest.mark.slow
def test_nothing_is_rescored_when_their_id_was_heard_right():
    heard = _heard("Hello, where is my order B four seven one two?", ["B4712", "B4735"])
    assert "B4712" in heard["text"] and heard["id_match"] is None
