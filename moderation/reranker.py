"""The reranker: one score per reply candidate from verifier, relevance and moderation; then the decision.

A candidate can go out on its own only if it is *eligible* (no unsupported claim, nothing blocked or
flagged, not a model answer to a message that tried to instruct the model, and an answer: see
moderation/eligibility.py) and its score clears the threshold. Everything else is held for an agent, with the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from moderation.base import combine
from moderation.classifier import SemanticModel
from moderation.eligibility import AnswerKey, non_answer_reasons
from moderation.lexicon import Lexicon
from moderation.links import hosts
from moderation.pii import find_pii
from moderation.verifier import relevance, verify

WEIGHTS = {"verifier": 0.6, "relevance": 0.25, "source": 0.15}
SOURCE_PRIOR = {"composer": 1.0, "llm": 0.6}


@dataclass
class CandidateScore:
    source: str
    score: float
    verifier: float
    relevance: float
    moderation: str
    categories: list[str]
    claims: list[str]
    unsupported: list[str]
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    text: str = ""  # what would be sent: PII masked, masked terms starred

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("text")
        return data


def score_candidate(
    source: str,
    text: str,
    *,
    question: str,
    fact_texts: list[str],
    policy_texts: list[str],
    lexicon: Lexicon,
    allowed_values: Iterable[str] = (),
    input_injection: bool = False,
    answer_key: AnswerKey | None = None,
    prompt_rules: str = "",
    abuse_terms: list[str] | None = None,
    from_facts: bool = False,
    semantic: SemanticModel | None = None,
) -> CandidateScore:
    """Score one candidate reply against the facts, the question and the moderation rules."""
    # A term the shop's own data uses (a policy's "full refund", the carrier 京东物流) is the shop's word when
    # the reply states it: only blocked terms and terms no fact or passage contains need a person.
    own_words = " ".join([*policy_texts, *fact_texts]).lower()
    terms = lexicon.hits(text, "out")
    lexical = [h for h in terms if h.action == "block" or not _quoted(text, h.start, h.end, own_words)]
    verdict = combine(text, lexical + find_pii(text, allowed_values))
    checked = verify(text, fact_texts, policy_texts)
    # A reply composed from this question's facts ("I couldn't find that order", "which order?") speaks to
    # the question even when it states no number.
    backed = len(checked.claims) - len(checked.unsupported) + int(from_facts)
    related = relevance(question, text, backed_claims=backed)
    reasons = [f"{source} reply states what no fact backs: {claim}" for claim in checked.unsupported]
    if lexical:
        # Any lexicon term in a reply needs a human (masking a competitor's name mid-sentence reads badly);
        # personal data alone is masked and may go out.
        categories = sorted({h.category for h in lexical})
        kind = "blocked content" if verdict.action == "block" else "terms to review"
        reasons.append(f"{source} reply contains {kind} ({', '.join(categories)})")
    if input_injection and source != "composer":
        reasons.append("the customer's message tried to instruct the model; its answers need a human")
    reasons += non_answer_reasons(source, text, question, answer_key, prompt_rules, abuse_terms)
    if source != "composer":
        # A generated link goes only where the shop's own facts or passages point ("paypa1.com" never does).
        unknown = [h for h in hosts(text) if h.lower() not in own_words]
        if unknown:
            reasons.append(f"{source} reply links to a site no fact or policy names ({', '.join(unknown)})")
    if semantic is not None and source != "composer":
        # Generated text only: the composer's replies are the shop's own policy sentences and facts.
        # What a reply must never be, in words no list names: abusive, threatening, a scam, a pretext.
        harmful = semantic.categories(text)
        if harmful:
            listed = ", ".join(f"{c} {p:.2f}" for c, p in harmful.items())
            reasons.append(f"{source} reply reads as harmful ({listed})")
    eligible = not reasons
    score = (
        WEIGHTS["verifier"] * checked.score
        + WEIGHTS["relevance"] * related
        + WEIGHTS["source"] * SOURCE_PRIOR.get(source, 0.5)
    )
    return CandidateScore(
        source=source,
        score=round(score, 4),
        verifier=checked.score,
        relevance=related,
        moderation=verdict.action,
        categories=verdict.categories,
        claims=checked.claims,
        unsupported=checked.unsupported,
        eligible=eligible,
        reasons=reasons,
        text=verdict.masked_text,
    )


QUOTE_CONTEXT = 2  # characters around a term that must match the shop's own text too


def _quoted(text: str, start: int, end: int, own_words: str) -> bool:
    """The span, with a little of what surrounds it, is the shop's own text ("京东物流" in the facts covers
    京东 in "承运商：京东物流", not in "去京东买")."""
    folded = text.lower()
    for left in range(QUOTE_CONTEXT + 1):
        right = QUOTE_CONTEXT - left
        if start - left < 0 or end + right > len(folded):
            continue
        if folded[start - left : end + right] in own_words:
            return True
    return False


def best_possible(source: str) -> float:
    """The highest score a candidate from this source can get (every claim backed, fully relevant)."""
    return round(WEIGHTS["verifier"] + WEIGHTS["relevance"] + WEIGHTS["source"] * SOURCE_PRIOR.get(source, 0.5), 4)


def settled(first: CandidateScore, threshold: float, others: str = "llm") -> bool:
    """`first` goes out whatever candidates from `others` say: it is eligible, clears the threshold, and none
    of them can outrank it (choose() keeps the earlier of equal scores), so there is no need to wait for them."""
    return first.eligible and first.score >= threshold and first.score >= best_possible(others)


def choose(scored: list[CandidateScore], threshold: float) -> tuple[str, int | None, list[str]]:
    """(status, index of the reply to send or to propose to the agent, reasons when held)."""
    ranked = sorted(range(len(scored)), key=lambda i: (scored[i].eligible, scored[i].score), reverse=True)
    if ranked and scored[ranked[0]].eligible and scored[ranked[0]].score >= threshold:
        return "sent", ranked[0], []
    reasons = [reason for s in scored for reason in s.reasons]
    if not scored:
        reasons.append("no candidate reply for this question")
    elif scored[ranked[0]].eligible:
        best = scored[ranked[0]]
        reasons.append(
            f"best reply scores {best.score:.2f}, under the threshold {threshold:.2f} (relevance {best.relevance:.2f})"
        )
    proposal = next((i for i in ranked if scored[i].moderation != "block"), None)
    return "pending_review", proposal, reasons
