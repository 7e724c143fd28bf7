"""The verifier: every checkable claim in a reply must be backed by a fact the customer may see.

Claims: amounts, dates, order/invoice/tracking numbers (any token with a digit), durations with their
unit ("7 days"), promises of refunds or compensation, and yes/no verdicts on policy. A number, id or
duration is backed when the facts state it; a promise or verdict when a policy fact covers its topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.grounding.text import tokenize

# An amount ("1,356.00"), or any token with a digit: ids, tracking and invoice numbers, dates.
_CLAIM = re.compile(
    r"(?<![A-Za-z0-9.])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|[A-Za-z0-9]*\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?:\.\d+)?)"
    r"(?![A-Za-z0-9])"
)
_UNITS = {
    "day": "day",
    "days": "day",
    "天": "day",
    "日": "day",
    "工作日": "day",
    "个工作日": "day",
    "week": "week",
    "weeks": "week",
    "周": "week",
    "星期": "week",
    "个星期": "week",
    "hour": "hour",
    "hours": "hour",
    "小时": "hour",
    "个小时": "hour",
    "month": "month",
    "months": "month",
    "个月": "month",
    "月": "month",
}
_DURATION = re.compile(
    r"(\d+)(?:\s*(?:to|-|–|~|至|到|or)\s*(\d+))?\s*(?:business |working |calendar )?"
    r"(days?|weeks?|hours?|months?|个工作日|工作日|个小时|小时|个星期|星期|个月|天|周)",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(?:we will|we'll|i will|i'll|you will (?:get|receive)|you'll (?:get|receive)|we can offer"
    r"|we are giving)\b"
    r".{0,40}?\b(refund|compensat\w*|replacement|voucher|coupon|discount|gift card|free \w+|money back)"
    r"|(?:会|将|可以|给您|为您).{0,8}?(退款|赔偿|补偿|换新|优惠券|代金券|免费|退钱)",
    re.IGNORECASE,
)
_VERDICT = re.compile(
    r"\b(yes|no|you can(?:not|'t)?|cannot|can't|eligible|not eligible|reimbursable|not reimbursable|allowed|"
    r"not allowed|free|always|never)\b|(可以|不可以|不能|能够|符合|不符合|不支持|支持|免费|包邮)",
    re.IGNORECASE,
)
_POLICY_TOPIC = re.compile(
    r"return|refund|exchange|reimburs|invoice|ship|deliver|address|退|换|发票|报销|配送|运费|地址|包邮",
    re.IGNORECASE,
)
# Universal words widen a policy ("always free", "anything"): the backing passage must say them too.
_ABSOLUTE = re.compile(
    r"\b(always|never|any|anything|everything|all|no questions asked|unconditional\w*|guarantee\w*)\b"
    r"|(总是|任何|一律|所有|无条件|保证)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"[^.!?。！？\n]+[.!?。！？]?")
MIN_TOPIC_OVERLAP = 2


@dataclass
class Verification:
    score: float  # 1.0 when every claim is backed (or there are none)
    claims: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def _canonical(token: str) -> set[str]:
    """The forms a number may take in the facts: '1,356.00' ~ '1356.00' ~ '1356'."""
    token = token.replace(",", "").upper().lstrip("-")
    forms = {token}
    if re.fullmatch(r"\d+\.\d+", token):
        whole, _, frac = token.partition(".")
        if not frac.strip("0"):
            forms.add(whole)
        forms.add(f"{float(token):.2f}")
    elif token.isdigit():
        forms.add(f"{token}.00")
    return forms


def _backed(claim: str, known: set[str]) -> bool:
    if _canonical(claim) & known:
        return True
    parts = claim.split("-")
    # A range or date written differently from the facts ("3-5" for "3 to 5"): each number must be known.
    return len(parts) > 1 and all(p.isdigit() and _canonical(p) & known for p in parts)


def extract_claims(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text)
    return [m.group(0) for m in _CLAIM.finditer(folded)]


def durations(text: str) -> set[str]:
    """Durations as claims: "7 day", or a whole range "3-5 day" (a range is not its two ends)."""
    found = set()
    for m in _DURATION.finditer(unicodedata.normalize("NFKC", text)):
        unit = _UNITS.get(m.group(3).lower(), m.group(3).lower())
        found.add(f"{m.group(1)}-{m.group(2)} {unit}" if m.group(2) else f"{m.group(1)} {unit}")
    return found


def _duration_backed(claim: str, known: set[str]) -> bool:
    if claim in known:
        return True
    number, unit = claim.split(" ", 1)
    # "up to 10 days" is backed by "5 to 10 days": a single number may be a range's end.
    return "-" not in number and any(k.endswith(f" {unit}") and number in k.split(" ")[0].split("-") for k in known)


def _covered(sentence: str, policies: list[tuple[str, set[str]]], promised: str | None = None) -> bool:
    """A policy passage shares the sentence's topic, states any universal word it uses, and for a
    promise, names what is promised (a refund promise needs a passage about refunds)."""
    words = set(tokenize(sentence))
    absolutes = {(m.group(1) or m.group(2)).lower() for m in _ABSOLUTE.finditer(sentence)}
    needed = set(tokenize(promised)) if promised else set()
    return any(
        len(words & tokens) >= MIN_TOPIC_OVERLAP and all(a in text.lower() for a in absolutes) and needed <= tokens
        for text, tokens in policies
    )


def verify(reply: str, fact_texts: Iterable[str], policy_texts: Iterable[str] = ()) -> Verification:
    """Check the reply's claims against the facts (policy_texts: the policy passages among them)."""
    facts = list(fact_texts)
    known: set[str] = set()
    for text in facts:
        for claim in extract_claims(text):
            known |= _canonical(claim)
    claims = extract_claims(reply)
    unsupported = [c for c in claims if not _backed(c, known)]

    known_durations: set[str] = set().union(*(durations(t) for t in facts)) if facts else set()
    for claim in sorted(durations(reply)):
        claims.append(claim)
        if not _duration_backed(claim, known_durations):
            unsupported.append(claim)

    policy_tokens = [(t, set(tokenize(t))) for t in policy_texts]
    for sentence in _SENTENCES.findall(unicodedata.normalize("NFKC", reply)):
        promise = _PROMISE.search(sentence)
        verdict = _VERDICT.search(sentence) and _POLICY_TOPIC.search(sentence)
        if not promise and not verdict:
            continue
        kind = "promise" if promise else "policy verdict"
        claim = f"{kind}: {sentence.strip()[:80]}"
        claims.append(claim)
        promised = (promise.group(1) or promise.group(2)) if promise else None
        if not _covered(sentence, policy_tokens, promised):
            unsupported.append(claim)

    score = 1.0 if not claims else 1.0 - len(unsupported) / len(claims)
    return Verification(score=round(score, 3), claims=claims, unsupported=unsupported)


GROUNDED_RELEVANCE = 0.75


def relevance(question: str, reply: str, backed_claims: int = 0) -> float:
    """How much the reply speaks to the question (0..1): shared content words, or, for a reply that states
    facts grounded for this question (in any language), at least GROUNDED_RELEVANCE."""
    asked = set(tokenize(question))
    if not asked:
        return 1.0
    lexical = len(asked & set(tokenize(reply))) / len(asked)
    return round(max(lexical, GROUNDED_RELEVANCE if backed_claims else 0.0), 3)
