"""Speech: the shipped Whisper base model on synthesized speech, and spoken order ids in the shop's form."""

from __future__ import annotations

import pytest

from app.config import get_settings
from app.perception.asr import normalize_spoken_ids
from app.perception.audio import decode
from app.perception.service import transcribe
from bench.speech import encode, speak

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
