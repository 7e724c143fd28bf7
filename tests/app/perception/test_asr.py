"""Speech: the shipped Whisper base model on synthesized speech, and spoken order ids in the shop's form."""

from __future__ import annotations

import pytest

from app.config import get_settings
from app.perception.asr import normalize_spoken_ids
from app.perception.audio import decode
from app.perception.service import transcribe
from tests.support.speech import encode, speak

PATTERN = r"[A-Za-z]{0,4}-?\d{3,}"


@pytest.mark.parametrize(
    ("heard", "normalized"),
    [
        ("Where is order B four seven one two?", "Where is order B4712?"),
        ("my order is b 4712", "my order B4712"),
        ("Where is my order A one zero two three please", "Where is my order A1023 please"),
        ("订单B四七一二到哪了", "订单 B4712 到哪了"),
        ("I have four orders for you", "I have four orders for you"),
    ],
)
def test_spoken_order_ids(heard, normalized):
    assert normalize_spoken_ids(heard, PATTERN) == normalized


@pytest.mark.slow
@pytest.mark.parametrize("container", ["webm", "m4a"])
def test_voice_message_is_transcribed_with_the_order_id(container):
    clip = encode(speak("Hello, where is my order B four seven one two?"), container)
    result = transcribe(decode(clip, 60), get_settings(), "en")
    assert "B4712" in result["text"]
    assert result["language"] == "en" and 2 < result["duration_s"] < 6


def test_speech_hints_are_the_customers_own_orders(demo_shop):
    from app.db import session_scope
    from app.grounding.orders import speech_hints
    from app.shop import repository

    with session_scope() as s:
        mine = speech_hints(s, repository.get_customer_by_ref(s, "c1001").id)
        assert speech_hints(s, None).words == [] and speech_hints(s, None).ids == []
    assert {"A1023", "A1024", "Mechanical keyboard", "1356.00"} <= set(mine.words)
    assert {"A1023", "A1024"} <= set(mine.ids) and not {"Mechanical keyboard", "1356.00"} & set(mine.ids)
    assert not {"B4712", "B4735", "Noise-cancelling headphones", "186.29"} & set(mine.words)  # another customer's


@pytest.mark.slow
def test_hotwords_bias_recognition_towards_the_customers_ids():
    """Heard as "K-I-3 05" without the hint (Whisper base, espeak voice); the customer's own id fixes it."""
    clip = decode(encode(speak("where is order K nine three zero five"), "webm"), 60)
    biased = transcribe(clip, get_settings(), "en", ["K9305", "Standing desk"])
    assert "K9305" in biased["text"]


@pytest.mark.parametrize(
    ("heard", "echo"),
    [
        (", 1860818, 257.00, 327.00, 386.00,", True),  # the prompt written back over unclear speech
        ("K9305, Standing desk", True),
        ("where is order K9305, and the Standing desk?", False),  # named in a sentence: said
        ("my order 1860818 please", False),
    ],
)
def test_a_transcript_that_repeats_the_hotwords_is_not_taken_as_speech(heard, echo):
    from app.perception.asr import echoes_prompt

    assert echoes_prompt(heard, "1860818, K9305, Standing desk, 257.00, 327.00, 386.00") is echo
