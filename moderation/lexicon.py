"""The lexicon filter: Aho-Corasick over category-tagged zh/en terms, robust to common evasions.

Evasions handled: full-width letters and case (NFKC, casefold), homoglyphs (Cyrillic/Greek look-alikes),
leet digits and symbols ("sh1t", "$hit"), and separators between the characters ("f.u.c.k", "傻 逼").
An English term must stand at word boundaries ("Scunthorpe" is not a hit), and an allow-list of
innocent words ("操作", "classic") overrides the terms inside them.
The lexicon is a JSON data file; edits are picked up on the next check (no restart).
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick

from moderation.base import Hit, Verdict, combine

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "lexicon.json"
SEP = "\x00"
# Between characters of a term: spaces, ASCII punctuation, zero-width and full-width symbols; not Chinese
# sentence punctuation (。，！？), so two sentences never join into a term.
_SEPARATORS = set(" \t\r\n.-_*~|/\\+=^`'\",:;#()[]{}<>·•") | {
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
}
_HOMOGLYPHS = {
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "к": "k",
    "м": "m",
    "т": "t",
    "в": "b",
    "н": "h",
    "α": "a",
    "ο": "o",
    "ν": "v",
    "ι": "i",
    "κ": "k",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ß": "ss",
}
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i"}
MAX_PIECE = 2  # a term spread over separators must be in pieces this short ("fu ck", not "this hit")


def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch).casefold()
    if len(folded) != 1:
        folded = folded[:1] or ch  # keep one char per char, so positions map back
    folded = _HOMOGLYPHS.get(folded, folded)
    if len(folded) != 1:
        folded = folded[0]
    return SEP if folded in _SEPARATORS else folded


class _FoldTable(dict):  # type: ignore[type-arg]
    """A str.translate table that folds each character once and remembers it."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_FOLD = _FoldTable()
_LEET_TABLE = str.maketrans(_LEET)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _is_word(ch: str) -> bool:
    return ch.isalnum() and not _is_cjk(ch)


@dataclass(frozen=True)
class Term:
    text: str  # folded, separators removed
    category: str
    action: str
    latin: bool
    words: tuple[str, ...]  # the term's own words ("kill you" → kill, you)


class Lexicon:
    """Compiled terms and allow-list; `check(text)` returns a Verdict."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version = str(data.get("version", ""))
        self.preset_replies: dict[str, str] = data.get("preset_replies", {})
        self.categories: dict[str, str] = {}
        # Which texts a category is about: "in" (customers' messages), "out" (replies) or both (no key). The
        # promises a reply must not make ("we promise", "verification code") are ordinary words from a
        # customer ("you promised", "the code never arrived"); harm in messages is the semantic layer's.
        self.directions: dict[str, str] = {}
        self._terms = ahocorasick.Automaton()
        for category, spec in data.get("categories", {}).items():
            action = spec.get("action", "flag")
            if action not in ("block", "mask", "flag"):
                raise ValueError(f"lexicon category {category!r}: unknown action {action!r}")
            direction = spec.get("direction", "both")
            if direction not in ("in", "out", "both"):
                raise ValueError(f"lexicon category {category!r}: direction must be in, out or both, not {direction!r}")
            self.categories[category] = action
            self.directions[category] = direction
            for raw in spec.get("terms", []):
                key = self._fold_term(raw)
                if key:
                    words = tuple(w for w in raw.translate(_FOLD).split(SEP) if w)
                    term = Term(key, category, action, not any(_is_cjk(c) for c in key), words)
                    self._terms.add_word(key, term)
        self._terms.make_automaton()
        self._allow = ahocorasick.Automaton()
        for raw in data.get("allow", []):
            key = self._fold_term(raw)
            if key:
                self._allow.add_word(key, len(key))
        if len(self._allow):
            self._allow.make_automaton()

    @staticmethod
    def _fold_term(raw: str) -> str:
        return raw.translate(_FOLD).replace(SEP, "")

    @classmethod
    def from_file(cls, path: Path) -> Lexicon:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def hits(self, text: str, direction: str = "both") -> list[Hit]:
        """The listed terms in the text; with direction "in" or "out", only the categories about such texts."""
        found_all = self._hits(text)
        if direction == "both":
            return found_all
        return [h for h in found_all if self.directions.get(h.category, "both") in ("both", direction)]

    def _hits(self, text: str) -> list[Hit]:
        folded = text.translate(_FOLD)
        stream = folded.replace(SEP, "")
        streams = [stream]
        leet = stream.translate(_LEET_TABLE)
        if leet != stream:
            streams.append(leet)
        found: dict[tuple[int, int], Hit] = {}
        positions: list[int] | None = None
        for candidate in streams:
            for end, term in self._terms.iter(candidate):
                if positions is None:  # where each stream char came from; only built when something hits
                    positions = [i for i, c in enumerate(folded) if c != SEP]
                start = end - len(term.text) + 1
                span = (positions[start], positions[end] + 1)
                if span in found or not self._accept(text, folded, span, term):
                    continue
                if self._allowed(stream, start, end):
                    continue
                found[span] = Hit(term.category, term.action, span[0], span[1], term.text)  # type: ignore[arg-type]
        return sorted(_on_word_starts(text, found.values()), key=lambda h: h.start)

    def _allowed(self, stream: str, start: int, end: int) -> bool:
        if not len(self._allow):
            return False
        for allow_end, length in self._allow.iter(stream):
            allow_start = allow_end - length + 1
            if allow_start <= start and end <= allow_end:
                return True
        return False

    @staticmethod
    def _accept(text: str, folded: str, span: tuple[int, int], term: Term) -> bool:
        start, end = span
        if term.latin:
            # Word boundaries in the original text: "Scunthorpe" holds no hit.
            if start > 0 and _is_word(text[start - 1]):
                return False
            if end < len(text) and _is_word(text[end]):
                return False
        if end - start == len(term.text):
            return True
        # Spread over separators: as the term's own words ("kill you"), or in short pieces ("f.u.c.k",
        # "傻 逼"), so the words of an ordinary sentence never join into a term ("this hit").
        pieces = tuple(p for p in folded[start:end].split(SEP) if p)
        if pieces == term.words:
            return True
        return all(len(p) <= (MAX_PIECE if term.latin else 1) for p in pieces)

    def check(self, text: str, direction: str = "both") -> Verdict:
        verdict = combine(text, self.hits(text, direction))
        if not verdict.allowed:
            verdict.preset_reply = self.preset_replies.get("zh" if any(_is_cjk(c) for c in text) else "en")
        return verdict


def _on_word_starts(text: str, hits: Iterable[Hit]) -> list[Hit]:
    """Chinese hits that begin inside a word are not hits: "妈的" in 他妈妈的生日 (his mother's birthday)
    starts in the middle of 妈妈. Words come from jieba's segmentation, computed only when needed."""
    hits = list(hits)
    cjk = [h for h in hits if _is_cjk(text[h.start])]
    if not cjk:
        return hits
    from app.grounding.text import segmenter

    # Dictionary words only (HMM off): the HMM joins unknown pairs ("能代" in 能代开发票) into words.
    starts = {start for _, start, _ in segmenter().tokenize(text, HMM=False)}
    return [h for h in hits if h not in cjk or h.start in starts]


class LexiconStore:
    """The lexicon in use: the shop's file if there is one, else the shipped one; reloaded on change."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded: tuple[Path, float, Lexicon] | None = None

    def path(self) -> Path:
        return self._path if self._path and self._path.exists() else DEFAULT_PATH

    def get(self) -> Lexicon:
        path = self.path()
        mtime = path.stat().st_mtime
        loaded = self._loaded
        if loaded and loaded[0] == path and loaded[1] == mtime:
            return loaded[2]
        with self._lock:
            lexicon = Lexicon.from_file(path)
            self._loaded = (path, mtime, lexicon)
            return lexicon

    def save(self, data: dict[str, Any]) -> Lexicon:
        """Validate and write the shop's lexicon (admins edit it at run time)."""
        if self._path is None:
            raise ValueError("no path configured for the shop's lexicon")
        lexicon = Lexicon(data)  # raises on a bad file before anything is written
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(self._path)
        return lexicon


_stores: dict[Path, LexiconStore] = {}
_stores_lock = threading.Lock()


def get_store(path: Path) -> LexiconStore:
    """The process's store for the shop's lexicon file at `path`."""
    with _stores_lock:
        if path not in _stores:
            _stores[path] = LexiconStore(path)
        return _stores[path]
