"""Language detection and tokenization for zh/en text."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A Chinese word of two characters or more, as the segmenter writes them.
CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
_CHUNKS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_jieba_lock = threading.Lock()
_jieba = None

EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "not",
        "no",
        "so",
        "than",
        "then",
        "there",  # "is there an extra charge": not "'Delivered' but not there?"
        "here",
        "too",
        "very",
        "just",
        "about",
        "please",
        "hi",
        "hello",
        "thanks",
        "thank",
    ]
)
ZH_STOP = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "是",
        "我",
        "你",
        "您",
        "在",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "就",
        "请",
        "问",
        "一下",
        "这个",
        "那个",
        "可以",
        "能",
        "么",
        "怎么",
        "什么",
    ]
)


def normalize(text: str) -> str:
    """Fold full-width forms and case, so 'ＡＢＣ１２３' reads as 'abc123'."""
    return unicodedata.normalize("NFKC", text).lower()


def detect_language(text: str, default: str = "en") -> str:
    """Say 'zh' when the text is mostly Chinese, 'en' when it has Latin letters, else the default."""
    cjk = len(_CJK.findall(text))
    # Letters of real words only: ids like "A1023" or "SF123" say nothing about the language.
    latin = sum(len(w) for w in re.findall(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])", text))
    if cjk and cjk * 3 >= latin:
        return "zh"
    if latin:
        return "en"
    return default


def segmenter():  # type: ignore[no-untyped-def]
    """jieba, loaded once per process with its log quiet (tokenizing, the lexicon's word starts, moderation)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def stem(word: str) -> str:
    """Fold common English inflections (returns, returned, returning → return; takes, take → tak)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]  # shipped → shipp → ship
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # change/changed/changing all → chang
    return word


# Aspect particles that split a separable verb (离合词): 刻了字 is 刻字, 拆过封 拆封, 下了单 下单.
_ASPECT = frozenset("了过着")


def _separable(words: list[str]) -> list[str]:
    """The separable verbs a message splits with an aspect particle, joined again (刻/了/字 → 刻字), so that
    it meets the policy that writes them whole."""
    # The particle stands alone (刻/了/字) or jieba has kept it with the verb (拆过/封).
    spans = [(words[i], words[i + 1], words[i + 2]) for i in range(len(words) - 2)]
    spans += [(w[0], w[1], after) for w, after in zip(words, words[1:], strict=False) if len(w) == 2]
    return [
        verb + thing
        for verb, particle, thing in spans
        if len(verb) == 1 and particle in _ASPECT and len(thing) == 1 and _CJK.match(verb) and _CJK.match(thing)
    ]


def tokenize(text: str) -> list[str]:
    """Split into search terms: jieba words for Chinese, stemmed words for English; stop words dropped."""
    tokens: list[str] = []
    for chunk in _CHUNKS.findall(normalize(text)):
        if _CJK.match(chunk):
            words = segmenter().lcut_for_search(chunk)
            tokens.extend(w for w in words if w not in ZH_STOP)
            tokens.extend(_separable(words))
        elif chunk not in EN_STOP:
            tokens.append(stem(chunk))
    return tokens
