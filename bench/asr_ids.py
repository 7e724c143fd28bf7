"""Spoken order ids: how often the recogniser hears them exactly, with and without biasing.

    .venv/bin/python bench/asr_ids.py [--n 24] [--seed 7] [--containers webm,amr]

Each case is a customer with five orders whose ids share a shape (letter + digits "K9305", date-coded
"HO-20261014-0047", all-digit marketplace "4471236", hosted-shop "#1047"); espeak-ng reads one of the
ids the way a customer would (letters one by one, each digit as a word, "dash"), inside a sentence, and
the clip is encoded as a browser (WebM/Opus) or a phone (AMR-NB) would send it. The ids are random (the
seed picks them), not written beside any rule. Transcribed twice by the shipped Whisper base model:
without hints, and with the customer's own order ids as hotwords (what Shopdesk passes). Reported:
  exact     the id's letters and digits appear in the transcript, in order (after spoken digits are read)
  resolved  the transcript resolves to that order among the customer's five (app/grounding/references.py)
  wrong     it resolves to another of their orders (a wrong lookup; "not found" or "which one?" is not wrong)
  RTF       transcription time / clip length
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import get_settings  # noqa: E402
from app.grounding.references import compact, resolve, spoken_digits  # noqa: E402
from app.perception.audio import SAMPLE_RATE, decode  # noqa: E402
from app.perception.service import transcribe  # noqa: E402
from bench.speech import encode, speak  # noqa: E402

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
SENTENCES = [
    "Hi, where is my order {id}?",
    "Can you check order {id} for me please, it has not arrived.",
    "I want to return order {id}.",
    "My order number is {id}, when will it ship?",
]


@dataclass
class Order:  # the shape references.resolve reads
    id: str
    total: Decimal = Decimal("10.00")
    placed_at: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    items: list = field(default_factory=list)
    tracking_no: str | None = None
    invoice: None = None


def make_id(shape: str, rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if shape == "letter":
        return rng.choice("ABCDEFGHJKLMNPRSTWXY") + digits(4)
    if shape == "dated":
        return f"HO-2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{digits(4)}"
    if shape == "digits":
        return digits(7)
    return str(rng.randint(1001, 1999))  # hosted shops number orders #1001, #1002, …


def spoken(order_id: str) -> str:
    """The id as a customer reads it out: letters one by one, digits as words, dashes said."""
    words = []
    for char in order_id:
        if char.isdigit():
            words.append(DIGITS[int(char)])
        elif char == "-":
            words.append("dash")
        else:
            words.append(char.upper())
    return " ".join(words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=24, help="cases (spread over the four id shapes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--containers", default="webm,amr")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = get_settings()
    shapes = ["letter", "dated", "digits", "hosted"]
    rows: dict[tuple[str, str, str], list[tuple[bool, bool, bool]]] = {}
    rtf: dict[str, list[float]] = {"none": [], "hints": []}
    for i in range(args.n):
        shape = shapes[i % len(shapes)]
        orders = [Order(make_id(shape, rng)) for _ in range(5)]
        target = orders[0]
        said = rng.choice(SENTENCES).format(id=spoken(target.id))
        wav = speak(said)
        for container in args.containers.split(","):
            samples = decode(encode(wav, container), 60)
            for mode, hints in (("none", None), ("hints", [o.id for o in orders])):
                started = time.perf_counter()
                text = transcribe(samples, settings, "en", hints)["text"]
                rtf[mode].append((time.perf_counter() - started) / (samples.size / SAMPLE_RATE))
                heard = compact(spoken_digits(text))
                found = resolve(text, orders)
                exact = compact(target.id) in heard
                right = [o.id for o in found.orders] == [target.id]
                wrong = bool(found.orders) and not right
                rows.setdefault((shape, container, mode), []).append((exact, right, wrong))
                print(f"{i + 1:>3} {shape:<7} {container:<5} {mode:<5} {'exact' if exact else '     '} "
                      f"{'resolved' if right else ('WRONG' if wrong else '')}  {target.id} ← {text}",
                      file=sys.stderr)  # fmt: skip

    print(f"\nSpoken order ids, Whisper base (int8, beam {settings.asr_beam_size}), espeak-ng en-us, seed {args.seed}")
    print(f"{'shape':<8}{'container':<10}{'hints':<7}{'n':>4}{'exact':>8}{'resolved':>10}{'wrong':>7}")
    for (shape, container, mode), results in sorted(rows.items()):
        n = len(results)
        exact, right, wrong = (sum(r[k] for r in results) for k in range(3))
        print(f"{shape:<8}{container:<10}{mode:<7}{n:>4}{100 * exact / n:>7.0f}%{100 * right / n:>9.0f}%{wrong:>7}")
    for mode in ("none", "hints"):
        results = [r for (_, _, m), rs in rows.items() if m == mode for r in rs]
        n = len(results)
        exact, right, wrong = (sum(r[k] for r in results) for k in range(3))
        print(f"{'all':<8}{'all':<10}{mode:<7}{n:>4}{100 * exact / n:>7.0f}%{100 * right / n:>9.0f}%{wrong:>7}"
              f"   RTF p50 {statistics.median(rtf[mode]):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
