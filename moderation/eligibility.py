"""Eligibility: a candidate that is not an answer never goes out on its own, whatever its score.

Relevance measured as shared words rewards a reply that repeats the question. These checks look for the
ways a generated reply fails to answer: it echoes the question, leaks the prompt, repeats itself, repeats
the customer's abuse, or does not supply what the question asks for (a tracking status, a policy's
condition, an amount). Each failure is a reason the agent console shows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from app.grounding.policies import says_status
from app.grounding.text import tokenize

# Words of the prompt that a reply to a customer has no business saying.
_PROMPT_MARKERS = re.compile(
    r"\bFACTS\b|customer_message|<\s*/?\s*customer|system prompt|\bas an ai\b|customer-service assistant of"
    r"|only from the facts|不是给你的指令|只根据下面|客服助手。",
    re.IGNORECASE,
)
# Words about the asking, not the answer ("you are asking whether…"), as tokenize() stems them.
_META_WORDS = frozenset(
    [
        "ask",
        "whether",
        "wonder",
        "want",
        "know",
        "question",
        "understand",
        "regard",
        "inquiry",
        "like",
        "help",
        "would",
        "问",
        "想",
        "知道",
        "请问",
        "咨询",
        "询问",
    ]
)
_WORD = re.compile(r"[\u3400-\u9fff]|[a-z0-9]+")
_SENTENCE = re.compile(r"[^.!?。！？\n]+")
_DURATION = re.compile(
    r"\d+\s*(?:business |working |calendar )?(?:days?|weeks?|months?|hours?|years?)"
    r"|\d+\s*(?:个)?(?:工作日|天|周|小时|个月|年)|[一二三四五六七八九十]+\s*(?:天|日|周|个月|年)",
    re.IGNORECASE,
)
QUOTED_SHARE = 0.5  # of a passage's words a reply must carry to have supplied it
MIN_ECHO_UNITS = 5  # words, or Chinese characters
ECHO_SHARE = 0.6  # of the question's words found in one run in the reply
RESTATE_SHARE = 0.8  # of the reply's content words that are the question's
# A run this long taken from the prompt's rules is the prompt, not an answer ("a support agent will follow
# up" is an answer and is shorter).
PROMPT_NGRAM = 8  # words
PROMPT_NGRAM_CHARS = 10  # Chinese characters


@dataclass
class AnswerKey:
    """What a reply must supply for this question, and the facts' values that supply it.

    needs: "order" (one of the named orders, or saying it can't be found / asking which), "policy" (the
    condition from a retrieved passage), "window" (a time limit, for "how long / can I still"), "status_rule"
    (a passage that names the order's status: whether it can still be cancelled or changed depends on it),
    "verdict" (yes or no for the one order asked about: its window's date or an exclusion that covers it),
    "amount" (an amount from the customer's orders), "topic" (the question's topic was not recognised: no
    reply can be checked against it).
    """

    needs: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    order_unresolved: bool = False  # the facts say "not found" or "which one?": a reply says so, no id needed
    amounts: list[str] = field(default_factory=list)
    policy_texts: list[str] = field(default_factory=list)
    status_words: list[str] = field(default_factory=list)  # how policies name the orders' statuses
    verdicts: list[str] = field(default_factory=list)  # texts that say yes or no for the order ("verdict")


def _plain(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).lower()))


def _longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of units the two share (dynamic programming; both texts are short)."""
    best = 0
    previous = [0] * (len(b) + 1)
    for unit in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if unit == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _content_units(text: str) -> list[str]:
    """Words and Chinese characters, less numbers and ids: a reply may repeat the id it answers about."""
    return [u for u in _WORD.findall(_plain(text)) if not any(c.isdigit() for c in u)]


def echoes(reply: str, question: str) -> bool:
    """The reply repeats the question (most of it, in one run) or only restates its words."""
    asked, said = _content_units(question), _content_units(reply)
    if len(asked) >= MIN_ECHO_UNITS and _longest_common_run(asked, said) >= max(
        MIN_ECHO_UNITS, ECHO_SHARE * len(asked)
    ):
        return True
    reply_words = [w for w in tokenize(reply) if w not in _META_WORDS]
    if len(reply_words) < 3:
        return False
    question_words = set(tokenize(question))
    return sum(w in question_words for w in reply_words) / len(reply_words) >= RESTATE_SHARE


def _ngrams(units: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(units[i : i + n]) for i in range(len(units) - n + 1)}


def leaks_prompt(reply: str, prompt_rules: str = "") -> bool:
    """The reply carries the prompt's markers or a run of its rules' words."""
    if _PROMPT_MARKERS.search(reply):
        return True
    if not prompt_rules:
        return False
    rules, said = _WORD.findall(_plain(prompt_rules)), _WORD.findall(_plain(reply))
    n = PROMPT_NGRAM if _mostly_words(said) else PROMPT_NGRAM_CHARS
    return bool(_ngrams(rules, n) & _ngrams(said, n))


def _mostly_words(units: list[str]) -> bool:
    """Latin words rather than Chinese characters (each character is a unit of its own)."""
    return sum(len(u) > 1 for u in units) > len(units) / 2


def repeats_itself(reply: str, phrases: bool = True) -> bool:
    """The same sentence twice, or (phrases) one phrase three times and more: a model stuck in a loop. The
    composer's templates quote the shop's passages, which share phrases ("within 14 days of delivery") by
    design; only a sentence said twice counts for them."""
    sentences = [_plain(s) for s in _SENTENCE.findall(reply)]
    sentences = [s for s in sentences if len(s) >= 8]
    if len(sentences) != len(set(sentences)):
        return True
    if not phrases:
        return False
    units = _WORD.findall(_plain(reply))
    n = 4 if _mostly_words(units) else 6  # words, or Chinese characters
    counts = Counter(tuple(units[i : i + n]) for i in range(len(units) - n + 1))
    return bool(counts) and max(counts.values()) >= 3


def repeats_abuse(reply: str, abuse_terms: list[str]) -> bool:
    folded = unicodedata.normalize("NFKC", reply).lower()
    return any(term and term.lower() in folded for term in abuse_terms)


def _enough(words: set[str]) -> float:
    """Shared words that make a passage quoted (or closely paraphrased): most of them, three at least."""
    return min(len(words), max(3, QUOTED_SHARE * len(words)))


def supplies(reply: str, key: AnswerKey) -> list[str]:
    """What the question needs that the reply does not supply."""
    missing: list[str] = []
    folded = unicodedata.normalize("NFKC", reply)
    upper = folded.upper()
    named = any(order_id.upper() in upper for order_id in key.order_ids)
    if "order" in key.needs and key.order_ids and not key.order_unresolved and not named:
        missing.append("the order it is about")
    if "amount" in key.needs and key.amounts and not any(a in folded for a in key.amounts):
        missing.append("the amount")
    # A passage is supplied when the reply carries its content words (a quote or a close paraphrase).
    said = set(tokenize(folded))
    quoted = [p for p in key.policy_texts if (words := set(tokenize(p))) and len(said & words) >= _enough(words)]
    if "policy" in key.needs and not quoted:
        missing.append("the policy's condition")
    if "window" in key.needs and not _DURATION.search(folded):
        missing.append("the time limit")
    names_status = any(says_status(p, key.status_words) for p in quoted)
    if "status_rule" in key.needs and key.status_words and not names_status:
        missing.append("what the policy says for the order's status")
    # A verdict is a date said as it is, or a passage quoted (its content words, as for "policy").
    verdict = any(
        v and (v in folded or (words := set(tokenize(v))) and len(said & words) >= _enough(words)) for v in key.verdicts
    )
    if "verdict" in key.needs and not verdict:
        missing.append("a yes or no for this order")
    if "topic" in key.needs:
        missing.append("an answer to a question whose topic was recognised")
    return missing


def non_answer_reasons(
    source: str,
    reply: str,
    question: str,
    key: AnswerKey | None = None,
    prompt_rules: str = "",
    abuse_terms: list[str] | None = None,
) -> list[str]:
    """Why this candidate is not an answer to the question (empty when it is one)."""
    reasons: list[str] = []
    if echoes(reply, question):
        reasons.append(f"{source} reply repeats the question instead of answering it")
    if leaks_prompt(reply, prompt_rules):
        reasons.append(f"{source} reply repeats its instructions")
    if repeats_itself(reply, phrases=source != "composer"):
        reasons.append(f"{source} reply repeats itself")
    if abuse_terms and repeats_abuse(reply, abuse_terms):
        reasons.append(f"{source} reply repeats the customer's abuse")
    if key is not None:
        missing = supplies(reply, key)
        if missing:
            reasons.append(f"{source} reply doesn't say {' or '.join(missing)}")
    return reasons
