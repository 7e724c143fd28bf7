"""The folded spelling and the hashed features of the semantic layer (moderation/folding.py, features.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from moderation.classifier import service_corpus
from moderation.features import Views, Vocabulary, char_hashes
from moderation.folding import fold


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("沙比", "傻逼"),  # a homophone: the same syllables
        ("草泥马", "操你妈"),
        ("k i l l you", "kill you"),  # single letters spread over separators
        ("f.u.c.k off", "fuck off"),
        ("b-i-t-c-h", "bitch"),
        ("sh1t", "shit"),  # leet next to a letter
        ("$tupid", "stupid"),
        ("іdіоt", "idiot"),  # Cyrillic look-alikes
        ("ＩＤＩＯＴ", "idiot"),  # full-width, upper case
    ],
)
def test_a_variant_folds_to_the_plain_spelling(variant, plain):
    assert fold(variant) == fold(plain)


def test_chinese_is_spelled_in_pinyin_with_its_initials():
    folded = fold("你真是个傻逼")
    assert "shabi" in folded and "nzsgsb" in folded  # so "shabi" and "sb" typed in letters meet it
    assert "nmsl" in fold("你妈死了")


@pytest.mark.parametrize("text", ["I'm a customer", "is it ok to return a 3 pack?", "order A-1003, 2 items"])
def test_ordinary_words_are_not_joined(text):
    assert fold(text).split() == text.lower().split() or "'" in text  # spacing kept, nothing merged
    assert "ima" not in fold("I'm a customer")


def test_the_same_gram_gets_the_same_key_wherever_it_stands():
    first, second = char_hashes("abcab", range(2, 3), 0)[0], char_hashes("xxab", range(2, 3), 0)[0]
    assert first[0] == first[3] == second[2] and first[0] != first[1]
    assert char_hashes("ab", range(2, 3), 0)[0][0] != char_hashes("ab", range(2, 3), 1)[0][0]  # views apart


def test_the_keys_of_the_training_corpus_are_its_distinct_grams():
    """64-bit keys: as many distinct keys as distinct n-gram strings over the corpus, in each view (no two
    grams of the corpus share a key, so the hashed features are the vocabulary's)."""
    views = Views(ngrams=(1, 4))
    texts = [re.sub(r"\s\s+", " ", e.text.lower()) for e in service_corpus("train")]
    grams = {t[i : i + n] for t in texts for n in range(1, 5) for i in range(len(t) - n + 1)}
    keys = np.unique(np.concatenate([views.keys(t) for t in texts]))
    assert keys.size == len(grams)


def test_the_vocabulary_finds_each_known_key_and_no_unknown_one():
    """The open-addressing table (moderation/features.py) gives what a binary search over the sorted keys
    gives, for keys in and out of the vocabulary, also when many keys share a home slot (the table grows)."""
    rng = np.random.default_rng(7)
    spread = np.unique(rng.integers(0, 2**63, 20_000, dtype=np.uint64) * np.uint64(2))
    crowded = np.unique(np.uint64(5 << 60) + np.arange(3_000, dtype=np.uint64))  # one home slot at first
    for keys in (spread, crowded, spread[:1]):
        vocabulary = Vocabulary(keys, np.ones(keys.size))
        unknown = np.setdiff1d(keys + np.uint64(1), keys)
        asked = rng.permutation(np.concatenate([keys, unknown]))
        found = vocabulary.find(asked)
        expected = np.searchsorted(keys, asked)
        expected[~np.isin(asked, keys)] = -1
        assert np.array_equal(found, expected)
