"""The grounded template composer: answers the common intents from facts alone, in zh or en."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.grounding.facts import (
    Fact,
    InvoiceFact,
    OrderChoiceFact,
    OrderFact,
    OrderNotFoundFact,
    PolicyFact,
    RuleFact,
)
from app.grounding.intents import ORDER_INTENTS, STATUS_DEPENDENT
from app.grounding.policies import is_exclusion, named_conditions, states_limit, status_words
from app.llm.prompts import phrasebook

POLICY_INTENTS = ("return", "refund", "shipping", "address_change", "invoice", "cancel", "price_protection")
MAX_ORDERS = 3
MAX_POLICY_PASSAGES = 2
MIN_POLICY_SCORE = 1.0


@dataclass
class Composition:
    text: str
    intent: str
    sources: list[str] = field(default_factory=list)
    hands_over: bool = False  # the customer asked for a person: the conversation goes to the agents


def compose(intents: list[str], facts: list[Fact], lang: str, question: str = "") -> Composition | None:
    """A reply built only from the facts, or None where the composer has nothing grounded to say."""
    book = phrasebook(lang)
    if "human" in intents:
        return Composition(str(book.human()), "human", hands_over=True)

    uploaded = [f for f in facts if isinstance(f, InvoiceFact)]
    covered = {f.order_id for f in uploaded}
    orders = [f for f in facts if isinstance(f, OrderFact) and f.order_id not in covered][:MAX_ORDERS]
    missing = [f for f in facts if isinstance(f, OrderNotFoundFact)]
    choices = [f for f in facts if isinstance(f, OrderChoiceFact)]
    policies = [f for f in facts if isinstance(f, PolicyFact) and f.score >= MIN_POLICY_SCORE]
    # Quote one article, the best match: passages from several read as a list of loose ends.
    policies = [p for p in policies if p.article_id == policies[0].article_id] if policies else []
    if uploaded and "invoice" not in intents:
        intents = ["invoice", *intents]  # an invoice picture is itself the question
    intent = intents[0] if intents else ("order_status" if orders or missing or choices else "")
    if not intent:
        return None

    parts: list[str] = []
    sources: list[str] = []
    for invoice in uploaded:
        parts.append(str(book.uploaded_invoice(invoice)))
        sources.append(invoice.source)
    if uploaded:
        policies = []  # the invoice verdict already applies the policy
    for fact in missing:
        parts.append(str(book.not_found(fact)))
        sources.append(fact.source)
    for choice in choices:
        parts.append(str(book.choose_order(choice)))
        sources.append(choice.source)
    if intent in ORDER_INTENTS or orders:
        for order in orders:
            line = book.order_invoice(order) if intent == "invoice" else book.order_status(order)
            parts.append(str(line))
            sources.append(order.source)
        if intent == "order_status" and not orders and not missing and not choices:
            parts.append(str(book.no_orders()))
    if intent in POLICY_INTENTS:
        # The shop's rules applied to these orders: the dates that answer "can I still …".
        shown = {o.order_id for o in orders}
        for rule in (f for f in facts if isinstance(f, RuleFact) and f.order_id in shown):
            parts.append(str(book.rule(rule)))
            sources.append(rule.source)
        quoted = policies[:MAX_POLICY_PASSAGES]
        if intent in STATUS_DEPENDENT and orders:
            # Whether it can still be cancelled or changed depends on the order's status: quote what the
            # policy says for that status, not the rules for the others.
            words = status_words([o.status for o in orders])
            quoted = [p for p in policies if any(w in p.text.lower() for w in words)][:MAX_POLICY_PASSAGES] or quoted
        texts = [p.text for p in quoted]
        # The best passage excludes what the question names ("Flash sales" under "Not covered"): that is
        # the answer, whatever limits the article's other sections give.
        excluded = bool(policies) and is_exclusion(policies[0])
        sections, named = ([], []) if excluded else named_conditions(question, policies)
        if len(named) == 1:
            # The question names the case: that section's passages (and those under no heading), not the others'.
            quoted = [p for p in policies if p.condition in (named[0], "")][:MAX_POLICY_PASSAGES]
            texts = [p.text for p in quoted]
        elif sections:
            # Different limits for different cases and the question doesn't say which is its own: each
            # case with its limit, named, so the customer reads the one that applies.
            quoted = [next(p for p in policies if p.condition == c and states_limit(p.text)) for c in sections]
            quoted = quoted[:MAX_POLICY_PASSAGES]
            texts = [f"{p.condition.rstrip(':：')}{'：' if lang == 'zh' else ': '}{p.text}" for p in quoted]
        if quoted:
            parts.append(str(book.policy(quoted[0].title, texts)))
            sources += [p.source for p in quoted]
    if not parts or (intent in POLICY_INTENTS and not (orders or missing or choices or policies or uploaded)):
        return None
    separator = "" if lang == "zh" else " "
    return Composition(separator.join(parts), intent, sources)


def hand_over_reply(lang: str) -> str:
    return str(phrasebook(lang).human())


def holding_reply(lang: str) -> str:
    return str(phrasebook(lang).holding())
