"""Uploaded files: the type from the content (magic bytes), limits, and content-addressed storage."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "heic": "image/heic"}
AUDIO_TYPES = {
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "amr": "audio/amr",
    "3gp": "audio/3gpp",
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41", b"iso2", b"dash"}
_3GP_BRANDS = (b"3gp", b"3g2", b"3ge", b"3gg", b"3gs")  # Android recorders and messaging apps


class MediaError(ValueError):
    """A file that can't be accepted; the message says why, and the code says it for programs (the widget
    words it in the customer's language): empty, too_large, unsupported, broken, too_many_pixels,
    no_audio, too_long, too_short, silent, too_many_files."""

    def __init__(self, message: str, code: str = "broken") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    kind: str  # image | audio
    ext: str
    mime: str
    sha256: str


def sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, extension) from the first bytes, or None for anything we don't take."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "image", "heic"
        if brand in _M4A_BRANDS or brand.startswith(b"M4"):
            return "audio", "m4a"
        if brand.startswith(_3GP_BRANDS):
            return "audio", "3gp"
    if head.startswith(b"fLaC"):
        return "audio", "flac"
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "audio", "amr"
    if head.startswith(b"OggS"):
        return "audio", "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio", "webm"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio", "mp3"
    if head[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio", "aac"
    return None


def safe_filename(name: str | None) -> str:
    """A display name only: path parts and control characters gone, at most 120 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[:120] or "upload"


def identify(filename: str | None, data: bytes, max_bytes: int) -> Upload:
    """Check size and type; the declared name and content type are never trusted."""
    name = safe_filename(filename)
    if not data:
        raise MediaError("the file is empty", "empty")
    if len(data) > max_bytes:
        raise MediaError(f"the file is larger than {max_bytes // (1024 * 1024)} MB", "too_large")
    found = sniff(data)
    if found is None:
        raise MediaError(
            "not a supported image (PNG, JPEG, WebP, HEIC) or audio clip "
            "(WebM, Ogg, M4A, MP3, WAV, FLAC, AAC, AMR, 3GP)",
            "unsupported",
        )
    kind, ext = found
    mime = (IMAGE_TYPES if kind == "image" else AUDIO_TYPES)[ext]
    return Upload(name, data, kind, ext, mime, hashlib.sha256(data).hexdigest())


_EXT_BY_MIME = {mime: ext for ext, mime in (IMAGE_TYPES | AUDIO_TYPES).items()}


def stored_path(root: Path, sha256: str, mime: str) -> Path:
    """Where an upload with this hash and type lies: uploads/ab/cd/<sha256>.<ext>."""
    return root / "uploads" / sha256[:2] / sha256[2:4] / f"{sha256}.{_EXT_BY_MIME.get(mime, 'bin')}"


def store(root: Path, upload: Upload) -> Path:
    """Write the bytes once under their hash; the same file is stored once."""
    path = stored_path(root, upload.sha256, upload.mime)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{id(upload)}")
        tmp.write_bytes(upload.data)
        tmp.replace(path)
    return path
