"""One spelling for the many ways a word is written: the semantic layer's second view of a message.

People write around filters: "k i l l", "f.u.c.k", "sh1t", look-alike letters from other alphabets, and in
Chinese homophones (草泥马 for 操你妈, 沙比 for 傻逼) and pinyin ("shabi", "cao ni ma"). The folded view maps
these onto one spelling, so that a variant shares its character n-grams with the plain form the model was
trained on:
- letters: NFKC, case folded, look-alikes to Latin (Cyrillic о → o), leet digits and symbols next to a
  letter to that letter ("sh1t", "$hit");
- single letters spread over separators joined ("k i l l" → "kill", "f.u.c.k" → "fuck");
- each Chinese character replaced by its toneless pinyin, a run written as one word ("傻逼", "沙比" and
  "shabi" all read "shabi"), followed by the run's initials ("sb"), as abbreviations are written ("nmsl").
The table comes from pypinyin's character dictionary (first reading of each character), built once.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from moderation.lexicon import _HOMOGLYPHS

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A leet digit or symbol touching a letter on either side ("sh1t", "$hit", "4ss"), read as that letter.
_LEET_CHAR = re.compile(r"(?<=[a-z])[013457@$!]|[013457@$](?=[a-z])")
# Three or more single letters, each followed by 1–3 separators: "k i l l", "f.u.c.k", "b-i-t-c-h".
_SEP = r"[\s.\-_*~|/\\+,:;\"`^=#]"
_SPREAD = re.compile(rf"(?<![a-z0-9])(?:[a-z]{_SEP}{{1,3}}){{2,}}[a-z](?![a-z0-9])")
_NOT_LETTER = re.compile(r"[^a-z]+")

_lock = threading.Lock()
_table: dict[int, str] = {}


def _build() -> None:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[int, str] = {}
    for code, readings in pinyin_dict.items():
        if 0x3400 <= code <= 0x9FFF:
            first = readings.split(",")[0]
            plain = "".join(c for c in unicodedata.normalize("NFKD", first) if c.isascii()).lower()
            if plain:
                table[code] = plain
    for glyph, latin in _HOMOGLYPHS.items():
        table[ord(glyph)] = latin
    _table.update(table)


def _table_ready() -> dict[int, str]:
    if not _table:
        with _lock:
            if not _table:
                _build()
    return _table


def pinyin(run: str) -> list[str]:
    """The toneless pinyin of each character of a Chinese run (a character without one is kept)."""
    table = _table_ready()
    return [table.get(ord(ch), ch) for ch in run]


def _chinese(match: re.Match[str]) -> str:
    syllables = pinyin(match.group())
    initials = "".join(s[:1] for s in syllables)
    return f" {''.join(syllables)} {initials} "


def fold(text: str) -> str:
    """The folded spelling of a message (see the module's docstring)."""
    table = _table_ready()
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CJK_RUN.sub(_chinese, text)
    text = text.translate(table)  # look-alike letters (Chinese is already spelled out)
    text = _LEET_CHAR.sub(lambda m: _LEET[m.group()], text)
    return _SPREAD.sub(lambda m: _NOT_LETTER.sub("", m.group()), text)
