"""A message's features as 64-bit keys, computed in numpy, and their TF-IDF weights.

The semantic layer's features are the character n-grams of a message (as written, lower-cased), the
character n-grams of its folded spelling (moderation/folding.py) and, if asked, its words. Building one
Python string per n-gram and looking each up in a dictionary cost most of a message's time; here each
n-gram is a polynomial hash of its code points, rolled over the whole message at once in uint64 arithmetic
(wrapping mod 2**64) and mixed with its view and size (splitmix64's finaliser), so the grams of a message
are a few numpy operations. The training corpus's keys, sorted, are the vocabulary; a message's keys are
found in it through an open-addressing table (`_Table`: one gather of a few neighbouring slots per key,
where a binary search over half a million keys cost twenty dependent reads each). With 64-bit keys two
different grams of a corpus this size share a key with a probability of about 10⁻⁸: the features are, in
effect, the vocabulary's.

Weights are scikit-learn's TfidfVectorizer's (sublinear tf, smooth idf, l2 norm), per view.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moderation.folding import fold

_PRIME = np.uint64(0x100000001B3)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_MASK = (1 << 64) - 1
_NOT_VIEW = np.uint64(_MASK ^ 3)
_VIEW = np.uint64(3)
_WHITESPACE = re.compile(r"\s\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CHUNKS = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+|[^\sa-z0-9\u3400-\u9fff]")


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the key depends on every bit of the hash."""
    h = h ^ (h >> _S30)
    h = h * _M1
    h = h ^ (h >> _S27)
    h = h * _M2
    return h ^ (h >> _S31)


def _salt(view: int, n: int) -> np.uint64:
    return np.uint64(((view * 64 + n + 1) * 0x9E3779B97F4A7C15) & _MASK)


_SALTS = [[_salt(view, n) for n in range(16)] for view in range(3)]


def char_hashes(text: str, sizes: range, view: int) -> list[np.ndarray]:
    """The hashes of every n-gram of `text` for each n in `sizes` (sliding windows, n = 1 … max), salted
    with the view and n; not yet mixed."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    parts = []
    rolled = points
    for n in range(1, sizes.stop):
        if n > 1:
            rolled = rolled[:-1] * _PRIME + points[n - 1 :]
        if n >= sizes.start:
            parts.append(rolled ^ _SALTS[view][n])
    return parts


def word_hashes(text: str, chinese: bool, view: int) -> np.ndarray:
    """Letters/digits runs and other single symbols; Chinese runs cut into jieba's words if `chinese`, else
    left to the character n-grams (a whole run as one word would be a feature of that message alone)."""
    out: list[str] = []
    for chunk in _CHUNKS.findall(text):
        if not _CJK.match(chunk):
            out.append(chunk)
        elif chinese:
            from app.grounding.text import segmenter

            out.extend(segmenter().lcut(chunk, HMM=False))
    return np.fromiter((zlib.crc32(w.encode()) for w in out), np.uint64, len(out)) ^ _SALTS[view][0]


@dataclass(frozen=True)
class Views:
    """Which features a scorer uses: raw character n-grams, folded ones (None: not used), words."""

    ngrams: tuple[int, int] = (1, 4)
    folded: tuple[int, int] | None = None
    words: bool = False
    chinese_words: bool = False

    def keys(self, text: str) -> np.ndarray:
        """The keys of all the message's features; a key's two lowest bits are its view (0 raw, 1 folded,
        2 words), so the views' keys never meet and each view is normalised apart."""
        lower = _WHITESPACE.sub(" ", text.lower())
        parts = char_hashes(lower, range(self.ngrams[0], self.ngrams[1] + 1), 0)
        views = [0] * len(parts)
        if self.folded:
            parts += char_hashes(_WHITESPACE.sub(" ", fold(text)), range(self.folded[0], self.folded[1] + 1), 1)
            views += [1] * (len(parts) - len(views))
        if self.words:
            parts.append(word_hashes(lower, self.chinese_words, 2))
            views.append(2)
        view = np.repeat(np.array(views, np.uint64), [p.size for p in parts])
        return (_mix(np.concatenate(parts)) & _NOT_VIEW) | view


class _Table:
    """Where each of a sorted array of distinct keys is, found by hashing: linear probing in a table of a
    power-of-two size at a load of 1/4 to 1/2, each key within `WINDOW` slots of its home slot (the few that
    find no room there are kept apart, sorted, and binary-searched), so that a look-up is a gather at the
    home slots and one of `WINDOW` neighbours for the keys not settled there, with no loop. The keys are
    already mixed: their top bits are the home slot."""

    WINDOW = 8

    def __init__(self, keys: np.ndarray) -> None:
        bits = max(4, int(keys.size * 2).bit_length())
        size, self.shift = 1 << bits, np.uint64(64 - bits)
        home = (keys >> self.shift).astype(np.intp)
        # WINDOW slots past the end instead of wrapping round: a look-up never needs a modulo.
        self.slots = np.full(size + self.WINDOW, -1, np.int32)
        self.keys = np.zeros(size + self.WINDOW, np.uint64)
        pending = np.arange(keys.size)
        for probe in range(self.WINDOW):
            slot = home[pending] + probe
            free = np.flatnonzero(self.slots[slot] < 0)
            # Of the keys that reach one free slot at this probe, the first takes it; the rest probe on.
            taken, first = np.unique(slot[free], return_index=True)
            winners = pending[free[first]]
            self.slots[taken] = winners
            self.keys[taken] = keys[winners]
            placed = np.zeros(pending.size, bool)
            placed[free[first]] = True
            pending = pending[~placed]
        self.overflow = pending  # positions of the keys with no room in their window (sorted, as the keys)
        self.overflow_keys = keys[pending]
        self.spilled = np.zeros(size, bool)  # home slots of which a key is in the overflow
        self.spilled[home[pending]] = True

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's position in the vocabulary, -1 where it is not in it."""
        home = (keys >> self.shift).astype(np.intp)
        positions = self.slots[home]
        miss = self.keys[home] != keys
        # A key not at its home slot is not in the vocabulary if that slot is empty; else look further.
        moved = np.flatnonzero(miss & (positions >= 0))
        positions[miss] = -1
        if moved.size:
            window = home[moved, None] + np.arange(1, self.WINDOW)
            hit = self.keys[window] == keys[moved, None]
            at = hit.argmax(axis=1)
            rows = np.arange(moved.size)
            found = hit[rows, at]
            positions[moved] = np.where(found, self.slots[window[rows, at]], -1)
            rest = moved[~found]
            rest = rest[self.spilled[home[rest]]]
            if rest.size:
                at = np.minimum(np.searchsorted(self.overflow_keys, keys[rest]), self.overflow.size - 1)
                positions[rest] = np.where(self.overflow_keys[at] == keys[rest], self.overflow[at], -1)
        return positions


@dataclass
class Vocabulary:
    """The training corpus's keys (sorted) and their inverse document frequencies."""

    keys: np.ndarray
    idf: np.ndarray
    _table: _Table | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_table": None}  # built again on first use (tens of milliseconds)

    @classmethod
    def fit(cls, rows: list[np.ndarray], min_df: int) -> Vocabulary:
        keys, df = np.unique(np.concatenate([np.unique(r) for r in rows]), return_counts=True)
        keep = df >= min_df
        return cls(keys[keep], np.log((1 + len(rows)) / (1 + df[keep])) + 1.0)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's position in the vocabulary, -1 where it is not in it."""
        if self._table is None:
            self._table = _Table(self.keys)
        return self._table.find(keys)

    def weights(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary positions of a message's known keys and their TF-IDF weights (l2 per view)."""
        keys, counts = np.unique(row, return_counts=True)
        positions = self.find(keys)
        known = positions >= 0
        positions, counts, keys = positions[known], counts[known], keys[known]
        values = (1.0 + np.log(counts)) * self.idf[positions]
        view = (keys & _VIEW).astype(np.intp)
        return positions, values / np.sqrt(np.bincount(view, weights=values * values, minlength=3))[view]

    def matrix(self, rows: list[np.ndarray]) -> Any:
        """The TF-IDF matrix of many messages (scipy CSR), for fitting the classifier."""
        from scipy.sparse import csr_matrix

        indptr, indices, data = [0], [], []
        for row in rows:
            positions, values = self.weights(row)
            indices.append(positions)
            data.append(values)
            indptr.append(indptr[-1] + positions.size)
        return csr_matrix(
            (np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=(len(rows), self.keys.size)
        )
