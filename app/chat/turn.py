"""The turn pipeline: ground → generate → verify → decide, for one customer message.

It reads the shop's data and writes nothing (the chat service stores what it returns); it does end its
read transaction before generating, so a slow model holds no database transaction open.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.grounding import orders as order_grounding
from app.grounding import policies
from app.grounding.facts import (
    Fact,
    InvoiceFact,
    OrderChoiceFact,
    OrderFact,
    OrderNotFoundFact,
    PolicyFact,
    RuleFact,
    fact_to_dict,
)
from app.grounding.intents import (
    ANSWER_TYPES,
    ASKS_AMOUNT,
    ASKS_WINDOW,
    ASKS_YES_NO,
    ORDER_INTENTS,
    REFERENCE_WORDS,
    STATUS_DEPENDENT,
    WINDOW_VERDICT,
    detect_intents,
    mentions_order,
)
from app.grounding.invoices import ground_invoice
from app.grounding.policies import (
    applies_to,
    excludes_every_item,
    excludes_outright,
    item_names,
    names_items,
    states_deadline,
    status_heading,
    status_words,
)
from app.grounding.references import spoken_digits
from app.grounding.rules import NO_INVOICE, ground_rules
from app.grounding.text import detect_language, tokenize
from app.llm import prompts
from app.llm.base import ChatModel, LLMUnavailable
from app.llm.composer import compose, holding_reply
from app.perception.audio import wav_bytes
from app.perception.media import Upload
from app.perception.service import PerceivedInvoice
from app.shop import repository
from moderation.base import SEVERITY, Verdict, combine
from moderation.classifier import SemanticModel
from moderation.classifier import get_model as get_semantic_model
from moderation.eligibility import AnswerKey
from moderation.guard import UNAVAILABLE as GUARD_UNAVAILABLE
from moderation.guard import GuardClient
from moderation.injection import find_injection, without_injection
from moderation.lexicon import get_store
from moderation.links import find_links
from moderation.reranker import CandidateScore, choose, score_candidate, settled

log = logging.getLogger(__name__)

UNTRUSTED_CATEGORIES = frozenset({"fraud", "social_engineering"})
ANSWERED_THROUGH = frozenset({"abuse"})  # inbound categories masked rather than blocked when a question remains
WINDOW_INTENTS = frozenset({"return", "refund", "price_protection", "shipping"})  # "can I still…" asks a limit
# Why a reply is held when the customer asked for a person (the agent console finds hand-over requests by it).
HANDOVER_REASON = "the customer asked for a human agent"
# Why the assistant's answer is only a suggestion while a person has the conversation.
WITH_AGENT_REASON = "an agent is handling this conversation"
SMALL_TALK_WORDS = 3  # topic words a message without a recognised intent may have ("hi, order A1023?")


@dataclass
class Candidate:
    source: str  # composer | llm
    text: str
    scores: dict[str, Any] = field(default_factory=dict)


@dataclass
class TurnOutcome:
    status: str  # sent | pending_review | blocked
    text: str  # what the customer sees now
    scores: dict[str, Any]
    candidates: list[Candidate]
    chosen: int | None  # index into candidates of the reply sent (or held)
    reasons: list[str]  # why the reply was held, for the agent
    hands_over: bool
    record: dict[str, Any]  # facts, intents, timings: stored with the reply for replay and training


def run_turn(
    session: Session,
    settings: Settings,
    *,
    text: str,
    locale: str,
    customer_id: int | None,
    model: ChatModel | None,
    history: list[tuple[str, str]] | None = None,
    invoices: list[PerceivedInvoice] | None = None,
    media: list[tuple[Upload, Any]] | None = None,
    heard: str = "",
    with_agent: bool = False,
) -> TurnOutcome:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    lang = detect_language(text, default=locale)
    lexicon = get_store(settings.resolved_lexicon_path).get()

    inbound = lexicon.check(text, "in")
    semantic = semantic_model(settings)
    # Categories in words the lexicon never listed, from the semantic layer and the guard model if any.
    meaning = semantic.check(text) if semantic is not None else Verdict(masked_text=text)
    links = find_links(text, tuple(settings.shop_domains))  # a look-alike of a known site: phishing
    if links:
        meaning = combine(text, meaning.hits + links)
    guard = guard_model(settings)
    if guard is not None:
        meaning = combine(text, meaning.hits + guard.check_message(text).hits)
    guard_down = GUARD_UNAVAILABLE in meaning.categories  # fail closed: whatever is answered is held
    # An insult is masked and the question under it still answered (a customer's anger is no reason to drop
    # their question); the abuse itself is never repeated. Threats, sexual content and the like are blocked.
    abuse_terms = [text[h.start : h.end] for h in inbound.hits if h.category in ANSWERED_THROUGH]
    original = text
    if (
        inbound.action == "block"
        and set(inbound.categories) <= ANSWERED_THROUGH
        and asks_something(inbound.masked_text)
    ):
        text = inbound.masked_text
    # Abuse the model recognised without a listed word is answered through too when there is a question.
    abusive_question = set(meaning.categories) <= ANSWERED_THROUGH and asks_something(text)
    # A threat or harassment the model reads in words no list names, in a message that asks something: a
    # person reads it and answers (held, never answered on its own), since the model's reading of an angry
    # customer can be wrong; a listed word, or a message that asks nothing, gets the shop's preset reply.
    listed = inbound.action == "block" and text == original  # a listed word that isn't answered through
    sure = meaning.action == "block" and not abusive_question  # the model is sure of a harm not answered through
    guessed = sure and not listed and asks_something(text)
    blocked = (sure and not guessed) or listed
    # A scam or a pretext for someone else's data is never obeyed: model answers to it need a person.
    untrusted = bool(set(meaning.categories) & UNTRUSTED_CATEGORIES) or guessed
    injection = find_injection(text)
    # OCR'd invoice text is untrusted too: a seller named "ignore your rules…" reaches the facts.
    invoice_injection = [
        h for invoice in invoices or [] for h in find_injection("\n".join(invoice.fields.get("lines", [])))
    ]
    timings["guard_in_ms"] = _ms(started)
    categories = sorted(set(inbound.categories) | set(meaning.categories))
    record: dict[str, Any] = {
        "lang": lang,
        "inbound": {
            "action": "block"
            if blocked
            else "flag"
            if guessed
            else max(inbound.action, meaning.action, key=SEVERITY.__getitem__),
            "categories": categories,
            "semantic": [h.term for h in meaning.hits],
            "injection": [h.term for h in injection + invoice_injection],
            "answered_through": not blocked and (text != original or "abuse" in meaning.categories),
        },
    }
    if blocked:
        # Threats, sexual content, abuse with no question: the shop's preset reply; nothing is generated.
        reply = lexicon.preset_replies.get("zh" if lang == "zh" else "en") or holding_reply(lang)
        timings["total_ms"] = _ms(started)
        record.update(intents=[], facts=[], timings=timings, llm_error=None)
        scores = {
            "chosen": None,
            "score": 0.0,
            "reasons": [f"customer message blocked ({', '.join(categories)})"],
            "inbound": record["inbound"],
            "candidates": [],
        }
        return TurnOutcome("blocked", reply, scores, [], None, scores["reasons"], False, record)

    mark = time.perf_counter()
    # A sentence that tries to instruct the model is not part of the question: ground on the rest.
    question = without_injection(text, injection)
    intents = detect_intents(question)
    wants_orders = bool(ORDER_INTENTS.intersection(intents)) or mentions_order(question)
    facts: list[Fact] = order_grounding.ground_orders(
        session,
        customer_id,
        question,
        settings.order_id_pattern,
        wants_orders,
        list_recent="order_status" in intents or (not intents and mentions_order(question)),
        heard=heard,
    )
    orders = [f for f in facts if isinstance(f, OrderFact)]
    statuses = [f.status for f in orders]
    items = policies.item_names(orders)
    # What the customer pays in (fee tables priced per currency): the orders asked about, else their recent ones.
    currencies = repository.recent_currencies(session, customer_id, 5) if customer_id is not None else frozenset()
    paid_in = frozenset(o.currency.upper() for o in orders if o.currency) or currencies
    facts += (
        policies.retrieve(session, question, lang, settings.policy_top_k, statuses, [items], paid_in)
        if question
        else []
    )
    # The shop's structured rules applied to these orders ("delivered on …, so until …").
    facts += ground_rules(session, intents, question, facts, utcnow().date())
    for invoice in invoices or []:
        facts.append(ground_invoice(session, customer_id, invoice.fields, invoice.attachment_id, invoice.sent_before))
    timings["ground_ms"] = _ms(mark)
    session.commit()  # end the read transaction: generation takes seconds and must not hold it open

    mark = time.perf_counter()
    candidates: list[Candidate] = []
    composition = compose(intents, facts, lang, question, currencies)
    if composition:
        candidates.append(
            Candidate("composer", composition.text, {"intent": composition.intent, "sources": composition.sources})
        )
    fact_texts = [f.prompt_line() for f in facts]
    # Policy passages, and the invoice policy as applied to an uploaded invoice, back policy verdicts.
    policy_texts = [
        # A passage says what it says under its title ("Items that can't be returned: opened food …").
        f"{f.title}: {f.text}" if isinstance(f, PolicyFact) else f.prompt_line()
        for f in facts
        if isinstance(f, PolicyFact | InvoiceFact | RuleFact)
    ]
    allowed = _visible_values(facts)
    key = answer_key(intents, question, facts)
    rules = prompt_rules(lang)

    def score(c: Candidate) -> CandidateScore:
        return score_candidate(
            c.source,
            c.text,
            question=question or text,
            fact_texts=fact_texts,
            policy_texts=policy_texts,
            lexicon=lexicon,
            allowed_values=allowed,
            input_injection=bool(injection or invoice_injection or untrusted),
            semantic=semantic,
            answer_key=key,
            prompt_rules=rules,
            abuse_terms=abuse_terms,
            from_facts=bool(c.scores.get("sources")),
        )

    llm_error = None
    hands_over = bool(composition and composition.hands_over)
    # The composer's reply goes out without waiting for the model when it would go out on its own
    # (SHOPDESK_LLM_SKIP=eligible), or only when no model answer could outrank it (settled).
    first = score(candidates[0]) if composition and not hands_over else None
    wanted = model is not None and settings.llm_samples > 0 and not hands_over
    threshold = settings.reply_threshold
    sends = first is not None and (
        settled(first, threshold) if settings.llm_skip == "settled" else first.eligible and first.score >= threshold
    )
    skip_llm = wanted and sends
    if model is not None and wanted and not skip_llm:
        try:
            # A text-only model is sent the text alone; the images and clips go to one that reads them.
            parts = media_parts(media or []) if model.multimodal else []
            messages = prompts.build_messages(fact_texts, history or [], text, lang, parts)
            texts = model.generate(
                messages,
                n=settings.llm_samples,
                max_tokens=settings.llm_max_new_tokens,
                temperature=settings.llm_temperature,
            )
            candidates += [Candidate("llm", t) for t in texts if t.strip()]
        except LLMUnavailable as exc:
            llm_error = str(exc)
            log.warning("LLM unavailable for this turn: %s", exc)
    timings["generate_ms"] = _ms(mark)

    mark = time.perf_counter()
    scored = [first if first is not None and c is candidates[0] else score(c) for c in candidates]
    for candidate, result in zip(candidates, scored, strict=True):
        candidate.scores.update(result.as_dict())
    if hands_over:
        status, chosen, reasons = "pending_review", None, [HANDOVER_REASON]
    else:
        status, chosen, reasons = choose(scored, settings.reply_threshold)
        if llm_error:
            reasons.append(f"the model was unavailable: {llm_error}")
    timings["decide_ms"] = _ms(mark)
    timings["total_ms"] = _ms(started)

    if guessed:
        status = "pending_review"
        reasons.append(f"the message reads as {', '.join(meaning.categories)}: held for a person")
    if status == "sent" and guard_down:
        status = "pending_review"
        reasons.append("the guard model was unavailable: held for a person")
    if status == "sent" and chosen is not None and guard is not None:
        # The guard reads the reply about to go out, in the context of the customer's message.
        outbound = guard.check_reply(question or text, scored[chosen].text)
        if outbound.action in ("flag", "block"):
            status = "pending_review"
            reasons.append(f"the guard model held the reply ({', '.join(outbound.categories)})")
    if status == "sent" and with_agent:
        # A person has the conversation: the assistant's answer becomes the agent's suggestion, not a reply.
        status = "pending_review"
        reasons.append(WITH_AGENT_REASON)
    if status == "sent" and chosen is not None:
        reply_text = scored[chosen].text
    elif hands_over and composition:
        reply_text = composition.text
    else:
        reply_text = holding_reply(lang)
    best = scored[chosen] if chosen is not None else None
    scores = {
        "chosen": best.source if best else None,
        "score": best.score if best else 0.0,
        "grounded": best.verifier if best else 0.0,
        "relevance": best.relevance if best else 0.0,
        "moderation": best.moderation if best else None,
        "unsupported": best.unsupported if best else [],
        "threshold": settings.reply_threshold,
        # The reply sent is a question back: which of the customer's own orders do they mean?
        "asks_which_order": bool(
            status == "sent"
            and best
            and best.source == "composer"
            and any(isinstance(f, OrderChoiceFact) for f in facts)
        ),
        "reasons": reasons,
        "inbound": record["inbound"],
        "candidates": [
            {"source": s.source, "score": s.score, "grounded": s.verifier, "eligible": s.eligible} for s in scored
        ],
    }
    record.update(
        intents=intents,
        facts=[fact_to_dict(f) for f in facts],
        # What the prompt is built from (with lang): training/dataset.py rebuilds the model's prompt from it.
        fact_lines=fact_texts,
        text=text,
        history=[list(pair) for pair in history or []],
        media=[{"kind": upload.kind, "mime": upload.mime, "sha256": upload.sha256} for upload, _ in media or []],
        timings=timings,
        llm_error=llm_error,
        llm_skipped=skip_llm,  # the composer's reply went out without waiting: no model ran
        citations=citations(facts, candidates[chosen] if chosen is not None else None),
    )
    return TurnOutcome(status, reply_text, scores, candidates, chosen, reasons, hands_over, record)


def citations(facts: list[Fact], chosen: Candidate | None) -> list[dict[str, Any]]:
    """The policy articles (with their versions) the chosen reply was written from: the composer's own
    sources, or every passage the model was shown."""
    if chosen is None:
        return []
    used = set(chosen.scores.get("sources") or []) if chosen.source == "composer" else None
    cited: dict[str, int] = {}
    for fact in facts:
        if isinstance(fact, PolicyFact) and (used is None or fact.source in used):
            cited[fact.article_id] = fact.version
    return [{"article_id": a, "version": v} for a, v in cited.items()]


def guard_model(settings: Settings) -> GuardClient | None:
    """The guard model's client when one is configured (SHOPDESK_GUARD_URL), one per process and server."""
    if not settings.guard_url:
        return None
    return _guard_client(settings.guard_url, settings.guard_model, settings.guard_api_key, settings.guard_timeout_s)


@lru_cache(maxsize=4)
def _guard_client(url: str, model: str, api_key: str, timeout_s: float) -> GuardClient:
    return GuardClient(url, model, api_key=api_key, timeout_s=timeout_s)


def semantic_model(settings: Settings) -> SemanticModel | None:
    """The semantic moderation layer, unless it is turned off (SHOPDESK_MODERATION_SEMANTIC=false)."""
    if not settings.moderation_semantic:
        return None
    model = get_semantic_model(settings.resolved_models_dir)
    if not settings.moderation_thresholds:
        return model
    # A copy with this turn's thresholds (the admin's, per category); the scorers are shared, not copied.
    return dataclasses.replace(model, thresholds={**model.thresholds, **settings.moderation_thresholds})


@lru_cache(maxsize=4)
def prompt_rules(lang: str) -> str:
    """The system prompt without facts: what a reply must not repeat (moderation/eligibility.py)."""
    return prompts.system_prompt([], lang)


def asks_something(text: str) -> bool:
    """The message carries a question or a request the shop can act on."""
    return bool(detect_intents(text) or mentions_order(text) or "?" in text or "？" in text)


def answer_key(intents: list[str], question: str, facts: list[Fact]) -> AnswerKey:
    """What a reply to this question must supply (by its leading intent), and the facts that supply it."""
    orders = [f for f in facts if isinstance(f, OrderFact)]
    items = item_names(orders)
    words = status_words([o.status for o in orders])
    needs = list(ANSWER_TYPES.get(intents[0], ())) if intents else []
    if intents and intents[0] == "refund" and ASKS_AMOUNT.search(question):
        needs.append("amount")
    # Passages that exclude what the question names, without a condition the customer may meet ("cat
    # litter: unopened bags only" is a condition, not the answer).
    outright = [f for f in facts if isinstance(f, PolicyFact) and excludes_outright(f, question)]
    # An exclusion of the order's items answers "can I still…" with a no: no window applies to them.
    # Or one that excludes every good of the one order, whatever the question calls it.
    one = orders[0] if len(orders) == 1 else None
    whole = [f for f in facts if isinstance(f, PolicyFact) and one and excludes_every_item(f, question, one)]
    excluded = any(names_items(f.text, items) for f in outright) or bool(whole)
    if "policy" in needs and intents[0] in WINDOW_INTENTS and ASKS_WINDOW.search(question) and not excluded:
        needs.append("window")
    if intents and intents[0] in STATUS_DEPENDENT and orders:
        needs.append("status_rule")
    rules = [f for f in facts if isinstance(f, RuleFact)]
    if intents and intents[0] in WINDOW_VERDICT and len(orders) == 1 and ASKS_YES_NO.search(question):
        needs.append("verdict")
    said = tokenize(spoken_digits(question))
    topic_words = {w for w in said if not any(c.isdigit() for c in w)} - REFERENCE_WORDS
    if not intents and len(topic_words) > SMALL_TALK_WORDS:
        # A question about something no intent covers: no reply to it can be checked, so a person answers.
        needs = ["topic"]
    if intents and intents[0] == "invoice" and orders:
        needs = ["order"]  # the invoice of their order, not the invoice policy
        # "Can I still get an invoice for it?" where the policy sets a deadline: yes or no for this order.
        late = bool(ASKS_YES_NO.search(question) and ASKS_WINDOW.search(question))
        requestable = len(orders) == 1 and not orders[0].invoice_number and orders[0].status not in NO_INVOICE
        if late and requestable and any(isinstance(f, PolicyFact) and states_deadline(f.text) for f in facts):
            needs.append("verdict")
    if any(isinstance(f, InvoiceFact) for f in facts):
        needs = []  # an uploaded invoice's verdict is the answer (the verifier checks its claims)
    return AnswerKey(
        needs=needs,
        order_ids=[o.order_id for o in orders],
        order_unresolved=any(isinstance(f, OrderNotFoundFact | OrderChoiceFact) for f in facts),
        amounts=[o.total for o in orders],
        # (a passage that speaks for the status under its heading is quoted with it: composer.py)
        policy_texts=[
            f"{f.condition}: {f.text}" if status_heading(f, words) else f.text
            for f in facts
            if isinstance(f, PolicyFact)
        ],
        status_words=words,
        # What says yes or no for the order: its window's last day (or that it hasn't started), or a passage
        # that excludes what the question names.
        verdicts=[r.until or r.order_id for r in rules if r.rule != "address_change_statuses"]
        + [
            f.text
            for f in facts
            if isinstance(f, PolicyFact)
            and (f in outright or f in whole or (f.verdict == "no" and f.subject and applies_to(f, question, items)))
        ],
    )


def _visible_values(facts: list[Fact]) -> list[str]:
    """Values the customer may see in full (their own tracking and invoice numbers)."""
    values: list[str] = []
    for fact in facts:
        if isinstance(fact, OrderFact):
            values += [v for v in (fact.order_id, fact.tracking_no, fact.invoice_number, fact.invoice_tax_id) if v]
        elif isinstance(fact, InvoiceFact):
            values += [v for v in (fact.number, fact.buyer_tax_id, fact.order_id) if v]
    return values


def media_parts(media: list[tuple[Upload, Any]]) -> list[dict[str, Any]]:
    """The customer's images and clips as OpenAI content parts, as vLLM takes them for Qwen3-Omni: images as
    `image_url` data URIs, audio as `input_audio` (re-encoded to 16 kHz WAV from the decoded samples, so every
    container the widget sends arrives in a format the server reads)."""
    parts: list[dict[str, Any]] = []
    for upload, samples in media:
        if upload.kind == "image":
            data = base64.b64encode(upload.data).decode()
            parts.append({"type": "image_url", "image_url": {"url": f"data:{upload.mime};base64,{data}"}})
        elif samples is not None:
            audio = base64.b64encode(wav_bytes(samples)).decode()
            parts.append({"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}})
    return parts


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
