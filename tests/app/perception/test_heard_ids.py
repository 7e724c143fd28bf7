"""The customer's own order ids matched against what the recogniser wrote (app/perception/heard_ids.py),
scored by the shipped Whisper base model on synthesized speech."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.config import get_settings
from app.perception.audio import decode
from app.perception.heard_ids import _amount_runs, _runs, written_total
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
        ("cancel K9350 and it was 505.40", ["K9350"]),  # the amount at the end is not an id
        ("Where is the order that came to 500,0006,010?", []),  # an amount heard wrong, after "came to"
        ("I want to pay order 4471236 now", ["4471236"]),
    ],
)
def test_id_like_words_as_the_recogniser_writes_them(text, runs):
    assert [text[start:end] for start, end in _runs(text)] == runs


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("Where is the order that came to 5005.40?", ["5005.40"]),
        ("I paid 500 $90 for my last order", ["500 $90"]),
        ("came to 220k$10?", ["220k$10"]),
        ("It was 36 dollars, I think", ["36 dollars"]),
        ("the one that came to 1238?", ["1238"]),  # after words for what was paid
        ("Hi, where is my order 0385280?", []),  # a bare number is an id's business
    ],
)
def test_amounts_as_the_recogniser_writes_them(text, runs):
    assert [text[start:end] for start, end in _amount_runs(text)] == runs


def test_totals_are_written_as_the_recogniser_writes_amounts():
    assert [written_total(Decimal(t)) for t in ("536.00", "505.40", "1205.5")] == ["$536", "$505.40", "$1,205.50"]


def _heard(said: str, ids: list[str], totals: list[str] = (), container: str = "webm") -> dict:
    clip = decode(encode(speak(said), container), 60)
    return transcribe(clip, get_settings(), "en", None, ids, [Decimal(t) for t in totals])


@pytest.mark.slow
def test_a_misheard_id_is_matched_to_the_customers_own():
    """Whisper base writes this clip as "where reporter Kate I'm 3-0-5" (with espeak-ng 1.51+dfsg-10+deb12u2;
    "Where is Order K-I-3 05?" on an earlier machine); of the customer's three ids, the audio clearly says
    K9305 (not K9350, its digits swapped), and the words it replaces are the ones the id was heard as."""
    heard = _heard("where is order K nine three zero five", ["K9350", "K9305", "P1234"])
    assert "K9305" in heard["text"] and heard["matched"]["value"] == "K9305"
    words = heard["matched"]["heard"]
    assert words not in heard["text"] and words.replace("-", "").replace(" ", "").endswith("305"), words


@pytest.mark.slow
def test_a_digit_that_was_a_word_is_given_back():
    """ "four four seven one two three six for me" is written "44712364 me"."""
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
    assert heard["matched"] is None
    assert not any(order_id in heard["text"] for order_id in ids)


@pytest.mark.slow
def test_a_misheard_total_is_matched_to_one_of_the_customers():
    """From a phone (AMR), "three hundred eighty-six dollars" is written "$380,000" on one machine's espeak-ng
    1.51 and "free 1806" on another's (a number word heard as another word right before the digits is part of
    the amount; "five hundred five dollars forty" was "5005.40" on an earlier machine, and is "500, 500, 40" on
    one: not matched, the words around an amount are no longer dropped to make it likelier)."""
    said = "Where is the order that came to three hundred eighty-six dollars?"
    heard = _heard(said, ["4471236"], ["386.00", "212.90", "88.10"], "amr")
    assert "$386" in heard["text"] and heard["matched"]["kind"] == "amount"
    assert "came to $386" in heard["text"]  # the words the customer said around it are kept
    other = _heard(said, ["4471236"], ["212.90", "88.10", "368.00"], "amr")  # none of theirs was said
    assert other["matched"] is None and not any(t in other["text"] for t in ("212.90", "88.10", "368"))


@pytest.mark.slow
def test_nothing_is_rescored_when_their_id_was_heard_right():
    heard = _heard("Hello, where is my order B four seven one two?", ["B4712", "B4735"])
    assert "B4712" in heard["text"] and heard["matched"] is None


@pytest.mark.slow
def test_a_clip_longer_than_one_window_is_heard_but_not_matched():
    """Scores are over the recogniser's first 30 s window only: a longer clip keeps its transcript as heard."""
    filler = "I ordered a few things last month and I am still waiting for some of them to arrive. " * 6
    heard = _heard(filler + "Where is order K nine three zero five?", ["K9350", "K9305"])
    assert heard["duration_s"] > 30 and heard["text"] and heard["matched"] is None
