"""What the openai backend sends Qwen3-Omni beside the facts: vLLM's image_url and input_audio parts."""

from __future__ import annotations

import base64
import io
import wave

from app.chat.turn import media_parts
from app.config import get_settings
from app.perception.service import check_files
from tests.support.invoices import generate, png_bytes
from tests.support.speech import encode, speak


def test_image_and_audio_parts():
    files = [("a.png", png_bytes(generate(1, "receipt").image)), ("v.webm", encode(speak("hello there"), "webm"))]
    accepted, _ = check_files(files, get_settings())
    image, audio = media_parts([(c.upload, c.samples) for c in accepted])
    assert image["type"] == "image_url"
    prefix = "data:image/png;base64,"
    assert image["image_url"]["url"].startswith(prefix)
    assert base64.b64decode(image["image_url"]["url"][len(prefix) :]) == files[0][1]
    assert audio["type"] == "input_audio" and audio["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(audio["input_audio"]["data"]))) as clip:
        assert clip.getframerate() == 16000 and clip.getnchannels() == 1 and clip.getnframes() > 8000
