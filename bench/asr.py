"""Speech recognition on synthesized speech (espeak-ng) in several containers: WER and real-time factor.

    .venv/bin/python bench/asr.py

Each sentence is spoken by espeak-ng, encoded as WAV, Ogg/Opus, WebM/Opus, M4A/AAC and MP3 (what
browsers and phones send), decoded in-process and transcribed with the shipped Whisper base model, with
the language given (as the conversation's locale gives it). WER is on lower-cased words without
punctuation, after spoken order ids are put in the shop's form; RTF = transcription time / clip length.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import get_settings  # noqa: E402
from app.perception.audio import SAMPLE_RATE, decode  # noqa: E402
from app.perception.service import transcribe  # noqa: E402
from tests.support.speech import CONTAINERS, encode, speak  # noqa: E402

SENTENCES = [  # (what espeak-ng says, what the transcript should read)
    ("Where is my order B four seven one two?", "where is my order B4712"),
    (
        "I would like to return the headphones, they are too small.",
        "i would like to return the headphones they are too small",
    ),
    ("How long does a refund take to reach my credit card?", "how long does a refund take to reach my credit card"),
    (
        "Can I change the delivery address before the parcel ships?",
        "can i change the delivery address before the parcel ships",
    ),
    ("The keyboard arrived broken and I need a replacement.", "the keyboard arrived broken and i need a replacement"),
    ("Please send me an invoice with my company name on it.", "please send me an invoice with my company name on it"),
    ("Is shipping free if I spend more than fifty dollars?", "is shipping free if i spend more than fifty dollars"),
    ("I want to talk to a real person about my order.", "i want to talk to a real person about my order"),
]


def words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference length) by word-level Levenshtein distance."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1], len(ref)


def main() -> int:
    settings = get_settings()
    warm = decode(encode(speak("hello"), "wav"), 60)
    transcribe(warm, settings, "en")  # load the model once
    per_container: dict[str, list[tuple[int, int]]] = {c: [] for c in CONTAINERS}
    rtfs: list[float] = []
    for spoken, expected in SENTENCES:
        wav = speak(spoken)
        for container in CONTAINERS:
            samples = decode(encode(wav, container), 60)
            started = time.perf_counter()
            result = transcribe(samples, settings, "en")
            rtfs.append((time.perf_counter() - started) / (samples.size / SAMPLE_RATE))
            per_container[container].append(wer(expected, result["text"]))
            print(f"  {container:<5} {result['text']}", file=sys.stderr)
    print(
        f"\nASR: Whisper base (int8, beam {settings.asr_beam_size}), {len(SENTENCES)} English sentences "
        f"from espeak-ng × {len(CONTAINERS)} containers"
    )
    total_edits = total_words = 0
    for container, scores in per_container.items():
        edits, count = sum(e for e, _ in scores), sum(n for _, n in scores)
        total_edits, total_words = total_edits + edits, total_words + count
        print(f"  {container:<5} WER {100 * edits / count:5.1f}%")
    print(f"  all   WER {100 * total_edits / total_words:5.1f}%")
    rtfs.sort()
    print(f"real-time factor: median {statistics.median(rtfs):.3f}, p95 {rtfs[int(0.95 * (len(rtfs) - 1))]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
