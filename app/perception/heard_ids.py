"""Which of the customer's own order ids or totals a voice message said, when the recogniser wrote it wrong.

Whisper writes a spoken id as it hears it: "K nine three zero five" may come out as "Canine 305" or
"K9350", "five hundred five dollars forty" as "5005.40". The shop knows this customer's ids and totals,
so the question is not "what string was said" but "which of these, if any": each of them is put in place
of the id-like (or amount-like) words the recogniser wrote, and the recogniser itself scores every
version against the audio (forced alignment: the probability of each token of the text given the sound).
One is taken only when it is clearly the best of the customer's and about as likely as what the
recogniser wrote itself; otherwise the transcript stays as it was heard, and the reply asks or says it
couldn't find the order (app/grounding/references.py).

Costs a few batched decoder passes (the candidates, other readings of the two leading ones, their slips)
on the encoder output the transcription already computed, only for a message that names none of the
customer's ids (or totals) as heard but has such words in it.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from app.grounding.references import compact, names_amount, spoken_digits, writes_id

log = logging.getLogger(__name__)

# How far the best of the customer's ids must be ahead of the next one (natural log of the audio's
# likelihood of the whole text), and how far it may be behind what the recogniser wrote. Chosen on
# bench/asr_ids.py's development seed; the test seed is reported, never tuned on (docs/figures.md).
MARGIN_OVER_NEXT = 4.0
SLACK_UNDER_HEARD = 4.0
# And how far ahead of the same string with two neighbouring digits swapped, when that is none of theirs:
# the audio must prefer it to its likeliest slip (a customer's or the recogniser's).
MARGIN_OVER_SLIP = 0.0
MAX_TEXTS = 24  # versions scored in one batch: runs × ids, bounded
MAX_SECONDS = 30  # one window of the recogniser: longer clips are not matched

_DIGIT_WORD = r"(?i:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_ZH_DIGITS = "零〇一幺二两三四五六七八九"
_DIGITS = rf"(?:[A-Za-z]{{0,3}}\d[A-Za-z0-9]*|{_DIGIT_WORD}|[{_ZH_DIGITS}]+)"
# Id-like words as Whisper writes them: numerals and digit words joined by separators, after a capital
# letter or a few ("K 9305", "K-I-3 05", "HO-2026 1014-0047", "four four seven one", "四四七一").
_RUN = re.compile(
    rf"(?<![A-Za-z0-9])(?:[A-Z]{{1,3}}[\s.-]{{0,2}}){{0,3}}{_DIGITS}(?:[\s,.:#-]{{1,3}}{_DIGITS})*(?![A-Za-z0-9])"
)
# Short whole words (a letter or digit heard as a word: "Kate I'm" for "K nine"), never the end of a longer
# one ("porter" of "reporter").
_WORD_BEFORE = re.compile(r"(?<![A-Za-z'])([A-Za-z]{1,6}(?:'[A-Za-z]{1,2})?)[\s,-]*$")
_WORD_AFTER = re.compile(r"^\s*([A-Za-z]{2,6})(?![A-Za-z])")
# Words never taken in as part of an id heard wrong: what the customer asks and the words around an id.
_NOT_PART_OF_AN_ID = set(
    "order number is my the was and check return about it its for me please "  # noqa: SIM905 - a word list
    "cancel refund paid charged arrived where when what want need help track ship sent invoice "
    "that came come comes cost costs spent total to of on in at".split()
)


@dataclass
class Match:
    """What was put in place of what was heard (one of the customer's ids, or totals), and how sure."""

    kind: str  # "id" or "amount"
    value: str  # the order id, or the total as written ("$505.40")
    heard: str  # the words it replaced
    margin: float  # log-likelihood ahead of the customer's next id (or total)
    against_heard: float  # log-likelihood relative to what the recogniser wrote (≥ -SLACK_UNDER_HEARD)
    over_slip: float  # log-likelihood ahead of itself with two neighbouring digits swapped

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "heard": self.heard,
            "margin": round(self.margin, 2) if math.isfinite(self.margin) else None,  # None: their only one
            "against_heard": round(self.against_heard, 2),
            "over_slip": round(self.over_slip, 2) if math.isfinite(self.over_slip) else None,  # None: no slip
        }


_AMOUNT_LIKE = re.compile(r"^[$¥€£]|\d[.,]\d{2}$", re.IGNORECASE)  # on the run and the character before
_CURRENCY_AFTER = re.compile(r"^\s*(?:dollars?|bucks|yuan|块|元|美元)", re.IGNORECASE)


# Amounts as Whisper writes them, said right or not: "$505.40", "5005.40", "500 $90", "220k$10", "36 dollars".
_AMOUNT_TOKEN = r"[$¥€£]?\d[\d,]*(?:\.\d+)?[kK]?(?:\$\d+)?"
_AMOUNT_RUN = re.compile(
    rf"(?<![\w.$]){_AMOUNT_TOKEN}(?:\s{_AMOUNT_TOKEN})*(?:\s?(?:dollars?|bucks|cents?|块|元))?(?![\w])",
    re.IGNORECASE,
)


_AMOUNT_MARK = re.compile(r"[$¥€£.kK]|dollar|buck|cent|块|元", re.IGNORECASE)
_AMOUNT_CUE = re.compile(
    r"(?:came to|comes to|paid|pay|cost|costs|spent|total|worth|花了|付了|一共|总共|合计)\W{0,3}\w{0,8}\W{0,2}$",
    re.IGNORECASE,
)


# Right before the words, what says an amount follows ("came to 500,0006,010"; not "pay order 4471236").
_SAID_AMOUNT = re.compile(
    r"(?:came to|comes to|paid|costs?|spent|total of|花了|付了|一共|总共|合计)\W{0,3}$", re.IGNORECASE
)


# A number word heard as another word right before the digits it begins ("came to free 1806" for "three hundred
# eighty-six"): part of the amount, not a word of the customer's.
_NUMBER_SOUND = re.compile(
    r"\b(?:free|tree|three|two|too|to|for|four|fore|ate|eight|won|one|sex|six|nein|nine)\s$", re.I
)


def _amount_runs(text: str) -> list[tuple[int, int]]:
    """Amount-like words: with a currency sign, a decimal point or a currency word, or right after words for
    what was paid ("came to 1238"). A bare number elsewhere is an id's business, not an amount's."""
    runs = []
    for m in _AMOUNT_RUN.finditer(text):
        if not (_AMOUNT_MARK.search(m.group(0)) or _AMOUNT_CUE.search(text[: m.start()])):
            continue
        start = m.start()
        if (sound := _NUMBER_SOUND.search(text[: m.start()])) and _SAID_AMOUNT.search(text[: sound.start()]):
            start = sound.start()  # "came to free 1806": the amount begins at "free"
        runs.append((start, m.end()))
    return runs


def _runs(text: str) -> list[tuple[int, int]]:
    """Spans of id-like words with at least two digits in them (said or written), amounts left out."""
    spans = []
    for m in _RUN.finditer(text):
        if (
            _AMOUNT_LIKE.search(text[max(0, m.start() - 1) : m.end()])
            or _CURRENCY_AFTER.search(text[m.end() :])
            or _SAID_AMOUNT.search(text[: m.start()])  # "came to 500,0006,010": an amount heard wrong
        ):
            continue
        digits = sum(c.isdigit() for c in compact(spoken_digits(m.group(0))))
        digits += sum(c in _ZH_DIGITS for c in m.group(0))
        if digits >= 2:
            spans.append((m.start(), m.end()))
    # An id said in parts may be written with a misheard word between them ("2-0261 Nash 8219", "dash"):
    # neighbouring runs a word or two apart are also tried as one, longest first.
    joined = []
    for i in range(len(spans)):
        for j in range(i + 1, min(i + 3, len(spans))):
            gap = text[spans[j - 1][1] : spans[j][0]]
            if len(gap) > 12 or len(re.findall(r"[^\W\d_]+", gap)) > 2:
                break
            joined.append((spans[i][0], spans[j][1]))
    return sorted(joined, key=lambda span: span[0] - span[1]) + spans


def _widened(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The span, and the span with up to three words before it or one after: "Canine 305" is "K nine 305"
    heard as one word, "H of ash-2026…" is "H O dash 2026…"."""
    spans = [(start, end)]
    first = start
    for _ in range(3):
        before = _WORD_BEFORE.search(text[:first])
        if not before or before.group(1).lower() in _NOT_PART_OF_AN_ID:
            break
        first = before.start(1)
        spans.append((first, end))
    after = _WORD_AFTER.search(text[end:])
    if after and after.group(1).lower() not in _NOT_PART_OF_AN_ID:
        spans.append((start, end + after.end(1)))
    return spans


# A word after an id that the recogniser wrote as a digit and joined to it: "4471236 for me" → "44712364 me".
_HOMOPHONE_TAILS = {"4": "for", "2": "to"}


def _replace(text: str, start: int, end: int, order_id: str) -> str:
    joined = re.sub(r"\s{2,}", " ", f"{text[:start]} {order_id} {text[end:]}").strip()
    return re.sub(r"\s+([?.!,;:？。！，])", r"\1", joined)


def _variants(text: str, run: tuple[int, int], written: str, kind: str) -> list[tuple[tuple[int, int], str]]:
    """Other readings of the run as this id or total, each with the words it replaces: an id with the words
    beside it taken in ("Canine 305"), or a digit it ends in that was a word ("for", "to"). An amount is
    never widened: the words around it ("came to", "paid") were said, and a text without them reads as more
    likely only because it is shorter (a total none of theirs was taken for theirs that way)."""
    spans = _widened(text, *run)[1:] if kind == "id" else []
    texts = [(span, _replace(text, *span, written)) for span in spans]
    heard = compact(spoken_digits(text[run[0] : run[1]]))
    tail = heard[len(compact(written)) :]
    if heard.startswith(compact(written)) and tail in _HOMOPHONE_TAILS:
        texts.append((run, _replace(text, *run, f"{written} {_HOMOPHONE_TAILS[tail]}")))
    return texts


def written_total(total: Decimal) -> str:
    """A total as Whisper writes a spoken amount: "$536", "$505.40"."""
    return f"${total:,.0f}" if total == total.to_integral_value() else f"${total:,.2f}"


_encoded = threading.local()


def forget_encoder_output() -> None:
    _encoded.output = None


def keep_encoder_output(model: Any) -> None:
    """Make the model keep, per thread, the encoder output of the last window it transcribed: a clip of
    one window (≤ 30 s) is then scored without encoding it again."""
    encode = model.encode

    def encode_and_keep(features: Any) -> Any:
        _encoded.output = encode(features)
        return _encoded.output

    model.encode = encode_and_keep


class Scorer:
    """log P(text | audio) under the Whisper model, for several texts at once (the clip's first 30 s)."""

    def __init__(self, model: Any, audio: np.ndarray, language: str | None) -> None:
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_ctranslate2_storage

        self._model = model
        self._storage = get_ctranslate2_storage
        features = model.feature_extractor(audio)
        window = model.feature_extractor.nb_max_frames
        self._frames = min(features.shape[-1] - 1, window)
        kept, _encoded.output = getattr(_encoded, "output", None), None
        if kept is None or features.shape[-1] - 1 > window:  # several windows: the kept one is the last
            kept = model.encode(pad_or_trim(features[:, :window]))
        self._encoded = np.array(kept)
        multilingual = model.model.is_multilingual
        self._tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language or "en")

    def __call__(self, texts: list[str]) -> list[float]:
        tokens = [self._tokenizer.encode(" " + t.strip()) for t in texts]
        batch = self._storage(np.repeat(self._encoded, len(texts), axis=0))
        results = self._model.model.align(batch, self._tokenizer.sot_sequence, tokens, self._frames)
        return [float(np.log(np.maximum(np.asarray(r.text_token_probs), 1e-12)).sum()) for r in results]


def match(text: str, ids: list[str], scorer_of: Any, totals: list[Decimal] | None = None) -> tuple[str, Match | None]:
    """The transcript with the customer's id (or total) in place of what was heard, when the audio clearly
    says it. Ids first; totals when no id was matched and none of them is stated as heard.

    scorer_of() builds the Scorer (once, and only when there is something to score).
    """
    scorer = functools.cache(scorer_of)
    ids = list(dict.fromkeys(i for i in ids if compact(i)))
    if ids and not any(writes_id(text, order_id) for order_id in ids):
        runs = _runs(text)
        if runs:
            found = _choose(text, runs, {order_id: order_id for order_id in ids}, "id", scorer())
            if found[1] is not None:
                return found
    totals = list(dict.fromkeys(totals or []))
    if totals and not any(names_amount(text, total) for total in totals):
        runs = _amount_runs(text)
        if runs:
            return _choose(text, runs, {str(t): written_total(t) for t in totals}, "amount", scorer())
    return text, None


def _choose(
    text: str, runs: list[tuple[int, int]], options: dict[str, str], kind: str, scorer: Any
) -> tuple[str, Match | None]:
    """options: what each candidate is written as. The best candidate, if clearly ahead and likely enough."""
    # First pass: each candidate in place of each run as written.
    versions = [(key, run, _replace(text, *run, written)) for run in runs for key, written in options.items()]
    heard, *scores = scorer([text, *(version for _, _, version in versions[:MAX_TEXTS])])
    best: dict[str, tuple[float, tuple[int, int], str]] = {}
    for (key, run, version), score in zip(versions[:MAX_TEXTS], scores, strict=True):
        if key not in best or score > best[key][0]:
            best[key] = (score, run, version)
    # Second pass: the two leading ones read other ways (the run widened by a word, a digit that was a word).
    leading = sorted(best, key=lambda key: best[key][0], reverse=True)[:2]
    others = [(key, *variant) for key in leading for variant in _variants(text, best[key][1], options[key], kind)]
    if others:
        for (key, span, version), score in zip(others, scorer([v for _, _, v in others]), strict=True):
            if score > best[key][0]:
                best[key] = (score, span, version)
    ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)
    top_key, (top, run, version) = ranked[0]
    runner_up = ranked[1][1][0] if len(ranked) > 1 else -math.inf
    found = Match(kind, options[top_key], text[run[0] : run[1]], top - runner_up, top - heard, math.inf)
    # With one candidate there is nothing to be ahead of, and words written in the very shape of the
    # customer's ids (or totals) may be another id said right: then it must explain the audio at least as
    # well as what was written.
    shaped = _shape(text[run[0] : run[1]]) in {_shape(written) for written in options.values()}
    slack = SLACK_UNDER_HEARD if len(ranked) > 1 and not shaped else 0.0
    if found.margin >= MARGIN_OVER_NEXT and found.against_heard >= -slack:
        # The winner must also beat what is one slip away from it and none of the customer's: two digits
        # swapped ("550.40" when "505.40" was said, "K9350" for "K9305").
        where = re.compile(rf"(?<![\w.]){re.escape(options[top_key])}(?![\w])")
        decoys = [where.sub(d, version, count=1) for d in _decoys(options[top_key], set(options.values()))]
        if decoys:
            found.over_slip = top - max(scorer(decoys))
    log.info("heard %s rescored: %s", kind, found.as_dict())
    if found.margin < MARGIN_OVER_NEXT or found.against_heard < -slack or found.over_slip < MARGIN_OVER_SLIP:
        return text, None
    return version, found


def _shape(words: str) -> str:
    """Letters as A, digits as 9, separators and signs dropped: "HO-2026 1014" → "AA99999999"."""
    folded = compact(spoken_digits(words))
    return re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", folded))


def _decoys(written: str, taken: set[str]) -> list[str]:
    """Strings one slip from written (two neighbouring digits swapped), not in taken."""
    positions = [i for i, c in enumerate(written) if c.isdigit()]
    out: list[str] = []
    for i, j in zip(positions, positions[1:], strict=False):
        if j == i + 1 and written[i] != written[j]:
            out.append(written[:i] + written[j] + written[i] + written[j + 1 :])
    return [d for d in dict.fromkeys(out) if d not in taken and d != written][:MAX_TEXTS]
