"""Upload checks: every format by its content, and each kind of bad file refused with its reason."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from app.config import get_settings
from app.perception.media import sniff
from app.perception.service import check_files
from tests.support.invoices import generate, png_bytes
from tests.support.speech import encode, speak

SPEECH = speak("where is my order")


def _image(fmt: str) -> bytes:
    img = generate(1, "receipt").image
    if fmt == "heic":
        from pillow_heif import from_pillow

        buffer = io.BytesIO()
        from_pillow(img).save(buffer, quality=80)
        return buffer.getvalue()
    buffer = io.BytesIO()
    img.save(buffer, fmt.upper())
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "heic"])
def test_images_are_accepted_by_content(fmt):
    data = _image(fmt)
    [checked], rejected = check_files([("screenshot.bin", data)], get_settings())
    assert rejected == [] and checked.upload.kind == "image" and checked.upload.ext == fmt
    assert checked.image.size[0] > 100


@pytest.mark.parametrize("container", ["wav", "ogg", "webm", "m4a", "mp3", "flac", "aac", "amr", "3gp"])
def test_audio_is_accepted_by_content(container):
    data = encode(SPEECH, container)
    [checked], rejected = check_files([("voice", data)], get_settings())
    assert rejected == [] and checked.upload.kind == "audio"
    assert 1.0 < checked.samples.size / 16000 < 3.0


def _reason(name: str, data: bytes, **limits: int) -> str:
    settings = get_settings().model_copy(update=limits)
    accepted, rejected = check_files([(name, data)], settings)
    assert accepted == [] and len(rejected) == 1 and rejected[0].filename == name
    return rejected[0].reason


def test_empty_file():
    assert "empty" in _reason("a.png", b"")


def test_renamed_text_file():
    assert "not a supported" in _reason("invoice.png", b"hello, this is plain text pretending to be a PNG")


def test_corrupt_image():
    assert "broken" in _reason("x.png", b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(2000))


def test_truncated_image():
    data = png_bytes(generate(2, "receipt").image)
    assert "broken or truncated" in _reason("cut.png", data[: len(data) // 2])


def test_oversized_file():
    assert "larger than" in _reason("big.png", _image("png"), max_upload_bytes=10_000)


def test_pixel_bomb_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (6000, 6000)).save(buffer, "PNG")  # 36 MP in a few kilobytes
    data = buffer.getvalue()
    assert len(data) < 100_000
    assert "pixels" in _reason("bomb.png", data, max_image_pixels=10_000_000)


def test_pixel_bomb_past_pillows_own_limit_is_refused_as_one():
    buffer = io.BytesIO()
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 8
    Image.new("1", (side, side)).save(buffer, "PNG")  # Pillow refuses it itself, before our check
    [rejection] = check_files([("bomb.png", buffer.getvalue())], get_settings())[1]
    assert rejection.code == "too_many_pixels" and "MP" in rejection.reason


def test_silent_audio():
    silence = io.BytesIO()
    import wave

    with wave.open(silence, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 32000)
    assert "silent" in _reason("quiet.wav", silence.getvalue())


def test_truncated_audio_header():
    assert "audio" in _reason("cut.webm", encode(SPEECH, "webm")[:60])


def test_too_long_audio():
    assert "longer than" in _reason("long.wav", SPEECH, max_audio_seconds=1)


def test_one_bad_file_does_not_sink_the_others():
    accepted, rejected = check_files([("good.png", _image("png")), ("bad.png", b"nope")], get_settings())
    assert [c.upload.filename for c in accepted] == ["good.png"] and [r.filename for r in rejected] == ["bad.png"]


def test_sniff_ignores_names_and_knows_nothing_else():
    assert sniff(b"GIF89a....") is None
    assert sniff(b"%PDF-1.7") is None
