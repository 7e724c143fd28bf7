"""Spoken order ids and amounts: how often the recogniser hears them exactly, with and without biasing.

    .venv/bin/python bench/asr_ids.py [--n 25] [--seed 7] [--containers webm,amr] [--lang en|zh] [--shapes amount]

Each case is a customer with five orders whose ids share a shape (letter + digits "K9305", date-coded
"HO-20261014-0047", all-digit marketplace "4471236", hosted-shop "#1047") or, for the amount shape, whose
totals differ; espeak-ng reads one of the ids the way a customer would (letters one by one, each digit as a
word, "dash") or its total in words ("eighty-nine dollars fifty", "两百零五块五"), inside a sentence, and
the clip is encoded as a browser (WebM/Opus) or a phone (AMR-NB) would send it. Ids and amounts are random
(the seed picks them), not written beside any rule. Chinese is spoken by espeak-ng's Mandarin voice from
pypinyin's tone-numbered pinyin (robotic; no better Mandarin voice installs from Debian or PyPI here).
Transcribed three ways by the shipped Whisper base model: without hints ("none"), with the customer's own
order ids and totals as hotwords ("hints"), and with those hotwords and the customer's ids matched against
what it heard (app/perception/heard_ids.py: "ids", what Shopdesk does). A sixth shape, "foreign", says an
id of the same shape (or, every other time, a total) that is not one of the customer's: it must never be
taken for one of theirs.
--seed 7 is the development seed (thresholds were chosen on it); report --seed 8 as the test figure.
Reported:
  exact     the id's letters and digits (or the amount) appear in the transcript, after words become digits
  resolved  the transcript resolves to that order among the customer's five (app/grounding/references.py)
  confirm   the reply asks "did you mean order …?" with that order (heard nearly right; the customer confirms)
  wrong     it resolves to another of their orders (a wrong lookup; "not found" or "which one?" is not wrong);
            for "foreign", any of their orders
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
from app.grounding.references import _amounts, compact, resolve, spoken_digits  # noqa: E402
from app.perception.audio import SAMPLE_RATE, decode  # noqa: E402
from app.perception.service import transcribe  # noqa: E402
from tests.support.speech import encode, speak  # noqa: E402

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ZH_DIGITS = "零一二三四五六七八九"
SENTENCES = {
    "en": [
        "Hi, where is my order {id}?",
        "Can you check order {id} for me please, it has not arrived.",
        "I want to return order {id}.",
        "My order number is {id}, when will it ship?",
    ],
    "zh": [
        "我的订单{id}到哪了？",
        "帮我查一下订单{id}，还没收到。",
        "订单号是{id}，我想退货。",
        "{id}这个订单什么时候发货？",
    ],
}
AMOUNT_SENTENCES = {
    "en": ["Where is the order that came to {amount}?", "I paid {amount} for my last order, has it shipped?"],
    "zh": ["我那个{amount}的订单到哪了？", "付了{amount}的那单什么时候发货？"],
}
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words_en(n: int) -> str:
    """0–999 in English words."""
    parts = []
    if n >= 100:
        parts.append(f"{DIGITS[n // 100]} hundred")
        n %= 100
    if n >= 20:
        parts.append(TENS[n // 10] + (f"-{DIGITS[n % 10]}" if n % 10 else ""))
    elif n >= 10:
        parts.append(TEENS[n - 10])
    elif n or not parts:
        parts.append(DIGITS[n])
    return " ".join(parts)


def words_zh(n: int) -> str:
    """0–999 as a Chinese numeral (两百零五)."""
    if n < 10:
        return ZH_DIGITS[n]
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    out = ("两" if hundreds == 2 else ZH_DIGITS[hundreds]) + "百" if hundreds else ""
    if tens:
        out += ("" if not hundreds and tens == 1 else ZH_DIGITS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    return out + (ZH_DIGITS[units] if units else "")


def spoken_amount(total: Decimal, lang: str) -> str:
    major, minor = int(total), int(total * 100) % 100
    if lang == "zh":
        said = words_zh(major) + "块"
        return said + (ZH_DIGITS[minor // 10] if minor else "")
    return f"{words_en(major)} dollars" + (f" {words_en(minor)}" if minor else "")


def make_total(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(12, 899)) + Decimal(rng.choice([0, 10, 50, 90, 0, 40])) / 100


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


def spoken(order_id: str, lang: str) -> str:
    """The id as a customer reads it out: letters one by one, digits as words, dashes said (zh: 杠)."""
    words = []
    for char in order_id:
        if char.isdigit():
            words.append(ZH_DIGITS[int(char)] if lang == "zh" else DIGITS[int(char)])
        elif char == "-":
            words.append("杠" if lang == "zh" else "dash")
        else:
            words.append(char.upper())
    return ("" if lang == "zh" else " ").join(words)


def say(text: str, lang: str) -> bytes:
    if lang != "zh":
        return speak(text)
    from pypinyin import Style, pinyin  # espeak-ng's Mandarin reads tone-numbered pinyin, not Hanzi

    syllables = [s[0] for s in pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)]
    return speak(" ".join(syllables), voice="cmn-latn-pinyin", speed=140)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=25, help="cases (spread over the five shapes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--containers", default="webm,amr")
    parser.add_argument("--lang", default="en", choices=["en", "zh"])
    parser.add_argument("--verbose", action="store_true", help="log each match's margins")
    parser.add_argument("--shapes", default="", help="only these shapes, comma-separated (e.g. amount)")
    args = parser.parse_args()
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.WARNING, format="    %(message)s")
        logging.getLogger("app.perception.heard_ids").setLevel(logging.INFO)
    rng = random.Random(args.seed)
    settings = get_settings()
    shapes = ["letter", "dated", "digits", "hosted", "amount", "foreign"]
    if args.lang == "zh":
        shapes = ["digits", "hosted", "dated", "amount", "foreign"]  # Chinese customers rarely spell letter ids
    if args.shapes:
        shapes = [s for s in shapes if s in args.shapes.split(",")]
    rows: dict[tuple[str, str, str], list[tuple[bool, bool, bool, bool]]] = {}
    rtf: dict[str, list[float]] = {"none": [], "hints": [], "ids": []}
    for i in range(args.n):
        shape = shapes[i % len(shapes)]
        foreign_shape = rng.choice(["letter", "dated", "digits"]) if shape == "foreign" else shape
        id_shape = "digits" if shape == "amount" else foreign_shape
        orders = [Order(make_id(id_shape, rng), total=make_total(rng)) for _ in range(6)]
        target = orders[0]
        orders = orders[1:] if shape == "foreign" else orders[:5]  # "foreign": their shape, none of theirs
        # Every other foreign case says a total that is none of theirs.
        says_amount = shape == "amount" or (shape == "foreign" and i // len(shapes) % 2 == 1)
        if says_amount:
            said = rng.choice(AMOUNT_SENTENCES[args.lang]).format(amount=spoken_amount(target.total, args.lang))
        else:
            said = rng.choice(SENTENCES[args.lang]).format(id=spoken(target.id, args.lang))
        wav = say(said, args.lang)
        for container in args.containers.split(","):
            samples = decode(encode(wav, container), 60)
            hints = [o.id for o in orders] + [f"{o.total:.2f}" for o in orders]
            ids, totals = [o.id for o in orders], [o.total for o in orders]
            for mode, given, expect, amounts in (
                ("none", None, None, None),
                ("hints", hints, None, None),
                ("ids", hints, ids, totals),
            ):
                started = time.perf_counter()
                result = transcribe(samples, settings, args.lang, given, expect, amounts)
                text = result["text"]
                rtf[mode].append((time.perf_counter() - started) / (samples.size / SAMPLE_RATE))
                if says_amount:
                    exact = target.total.quantize(Decimal("0.01")) in _amounts(spoken_digits(text))
                else:
                    exact = compact(target.id) in compact(spoken_digits(text))
                found = resolve(text, orders, heard=text)
                right = [o.id for o in found.orders] == [target.id]
                confirm = [o.id for o in found.suggested] == [target.id]
                wrong = bool(found.orders) and not right
                if shape == "foreign":
                    exact, right = not found.orders, not found.orders  # "right": not taken for one of theirs
                rows.setdefault((shape, container, mode), []).append((exact, right, confirm, wrong))
                verdict = "resolved" if right else "confirm" if confirm else "WRONG" if wrong else ""
                what = target.total if says_amount else target.id
                matched = result.get("matched")
                note = f"   [{matched['heard']!r} → {matched['value']}, +{matched['margin']}]" if matched else ""
                print(f"{i + 1:>3} {shape:<7} {container:<5} {mode:<5} {'exact' if exact else '     '} "
                      f"{verdict:<8}  {what} ← {text}{note}", file=sys.stderr)  # fmt: skip

    voice = "espeak-ng cmn-latn-pinyin (pypinyin)" if args.lang == "zh" else "espeak-ng en-us"
    print(f"\nSpoken order ids and amounts ({args.lang}), Whisper base (int8, beam {settings.asr_beam_size}), "
          f"{voice}, seed {args.seed}")  # fmt: skip
    header = f"{'shape':<8}{'container':<10}{'hints':<7}{'n':>4}{'exact':>8}{'resolved':>10}{'confirm':>9}{'wrong':>7}"
    print(header)

    def line(label: str, container: str, mode: str, results: list[tuple[bool, bool, bool, bool]]) -> str:
        n = len(results)
        exact, right, confirm, wrong = (sum(r[k] for r in results) for k in range(4))
        return (f"{label:<8}{container:<10}{mode:<7}{n:>4}{100 * exact / n:>7.0f}%{100 * right / n:>9.0f}%"
                f"{100 * confirm / n:>8.0f}%{wrong:>7}")  # fmt: skip

    for (shape, container, mode), results in sorted(rows.items()):
        print(line(shape, container, mode, results))
    for mode in ("none", "hints", "ids"):
        for label, kinds in (
            ("ids", [s for s in shapes if s not in ("amount", "foreign")]),
            ("amounts", ["amount"]),
            ("foreign", ["foreign"]),
        ):
            results = [r for (shape, _, m), rs in rows.items() if m == mode and shape in kinds for r in rs]
            if results:
                print(line(label, "all", mode, results) + f"   RTF p50 {statistics.median(rtf[mode]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
