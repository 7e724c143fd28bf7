"""OCR with RapidOCR (PP-OCR models shipped in the `rapidocr` wheel), on the CPU."""

from __future__ import annotations

import io
import logging
import math
import threading
from dataclasses import dataclass

from PIL import Image

log = logging.getLogger(__name__)

MAX_SIDE = 2000  # larger screenshots are scaled down first: text stays legible, OCR time stays bounded
_lock = threading.Lock()
_engine = None


@dataclass(frozen=True)
class OcrBox:
    text: str
    score: float
    points: tuple[tuple[float, float], ...]  # 4 corners, clockwise from top-left

    @property
    def angle(self) -> float:
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        return math.atan2(y1 - y0, x1 - x0)


def _get_engine():  # type: ignore[no-untyped-def]
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                from rapidocr import RapidOCR

                # Only the wheel's default models exist offline. The direction classifier is off: on upright
                # screenshots it flipped dollar amounts ("$99.98" read as "8666$").
                # Detection on at most 960 px a side: ~35% faster on invoice screenshots, same fields read
                # (bench/ocr.py); recognition still reads each text line at full resolution.
                _engine = RapidOCR(
                    params={
                        "Global.use_cls": False,
                        "Global.log_level": "warning",
                        "Det.limit_side_len": 960,
                        "Det.limit_type": "max",
                    }
                )
    return _engine


def open_image(data: bytes) -> Image.Image:
    """Decode any accepted image (HEIC through pillow-heif) to RGB."""
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover - HEIC is optional
        pass
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def read_image(image: Image.Image) -> list[OcrBox]:
    """The text boxes of an image, in reading order as the engine gives them."""
    import numpy as np

    scale = MAX_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.LANCZOS)
    result = _get_engine()(np.asarray(image))
    if result.boxes is None:
        return []
    return [
        OcrBox(str(text), float(score), tuple((float(x), float(y)) for x, y in box))
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True)
    ]
