"""Perception: check uploads, then turn images into invoice fields and audio into transcripts."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from app.config import Settings
from app.perception import asr, audio, invoice, ocr
from app.perception.media import MediaError, Upload, identify

log = logging.getLogger(__name__)


@dataclass
class Checked:
    upload: Upload
    image: Image.Image | None = None
    samples: np.ndarray | None = None


@dataclass
class Rejection:
    filename: str
    reason: str
    code: str = "broken"


@dataclass(frozen=True)
class PerceivedInvoice:
    """An invoice image as OCR read it, handed to grounding."""

    attachment_id: int
    fields: dict[str, Any]  # invoice.extract(): the invoice object of DESIGN.md, with confidence, checks, lines
    # An earlier upload carried its number: "resent" by this customer, "elsewhere" by another (a duplicate claim).
    sent_before: Literal["resent", "elsewhere"] | None


def check_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an image, refusing pixel bombs from the header alone and truncated or corrupt files."""
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover
        pass
    try:
        # Pillow's own bomb check stays on for every image the process opens (a warning above
        # Image.MAX_IMAGE_PIXELS, an error above twice that); uploads get the settings' tighter limit below.
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise MediaError(
                f"the image is {width}×{height} pixels; the limit is {max_pixels // 1_000_000} MP", "too_many_pixels"
            )
        image.load()
        return image.convert("RGB")
    except MediaError:
        raise
    except Image.DecompressionBombError:
        raise MediaError(
            f"the image is over {2 * (Image.MAX_IMAGE_PIXELS or 0) // 1_000_000} MP; "
            f"the limit is {max_pixels // 1_000_000} MP",
            "too_many_pixels",
        ) from None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for broken files
        raise MediaError(f"the image is broken or truncated ({type(exc).__name__})") from None


def check_files(files: list[tuple[str | None, bytes]], settings: Settings) -> tuple[list[Checked], list[Rejection]]:
    """Accept or refuse each file on its own; one bad file doesn't sink the others."""
    accepted, rejected = [], []
    for index, (name, data) in enumerate(files):
        if index >= settings.max_files:
            rejected.append(
                Rejection(name or "upload", f"at most {settings.max_files} files per message", "too_many_files")
            )
            continue
        try:
            upload = identify(name, data, settings.max_upload_bytes)
            if upload.kind == "image":
                accepted.append(Checked(upload, image=check_image(data, settings.max_image_pixels)))
            else:
                accepted.append(Checked(upload, samples=audio.decode(data, settings.max_audio_seconds)))
        except MediaError as exc:
            rejected.append(Rejection(name or "upload", str(exc), exc.code))
    return accepted, rejected


def asr_model_dir(settings: Settings) -> Path:
    return Path(settings.asr_model) if settings.asr_model else asr.prepare_model(settings.resolved_models_dir)


def read_invoice(image: Image.Image) -> dict[str, Any]:
    return invoice.extract(ocr.read_image(image))


def transcribe(
    samples: np.ndarray,
    settings: Settings,
    language: str | None,
    hints: list[str] | None = None,
    ids: list[str] | None = None,
    totals: list[Decimal] | None = None,
) -> dict[str, Any]:
    """The transcript, biased towards hints (the customer's own order ids, products and amounts), with one of
    their ids or totals put in place of words heard wrong when the audio clearly says it."""
    return asr.transcribe(
        samples,
        asr_model_dir(settings),
        language=language,
        threads=settings.asr_threads,
        beam_size=settings.asr_beam_size,
        order_id_pattern=settings.order_id_pattern,
        hotwords=hotwords_of(hints or []),
        ids=ids,
        totals=totals,
    )


MAX_HOTWORD_CHARS = 300  # Whisper's prompt is short (224 tokens); the hints share it with nothing else


def hotwords_of(hints: list[str]) -> str | None:
    """The hints as one line for the recogniser, the most useful (first) ones kept within its prompt."""
    kept: list[str] = []
    for hint in dict.fromkeys(h.strip() for h in hints if h.strip()):
        if sum(len(k) + 2 for k in kept) + len(hint) > MAX_HOTWORD_CHARS:
            break
        kept.append(hint)
    return ", ".join(kept) or None
