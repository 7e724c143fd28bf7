"""The eval gate: a candidate model against the active one, on held-out turns and a fixed suite, each asked
with the prompt the turn sends (app/llm/prompts).

Grounded accuracy: the reply states every id, number and amount of the reference reply, and nothing the
facts (and the policy passages among them) don't back. Verifier pass rate: the reply makes checkable claims
and the verifier backs every one (a reply that says nothing checkable, such as a model repeating its
instructions, is not a pass: it would never be sent on its own). Moderation pass rate: no hit in the shop's
lexicon. Sendable: the reply is grounded-correct and the decision stage would let it go out on its own
(eligible, and its score at or above the reply threshold), scored as a turn scores its model's candidate.

A candidate is promoted only when it is not worse than the active model on any measure and better on one
(a model equal on everything is held back: retraining has to earn a swap). Where a run trained DPO after the
fine-tune, the SFT+DPO candidate is kept over SFT alone by the same rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.chat.turn import answer_key, prompt_rules, semantic_model
from app.config import Settings, get_settings
from app.grounding.facts import order_fact_from_record
from app.grounding.intents import detect_intents
from app.llm import prompts
from app.llm.local import EngineChoice, LocalChatModel
from app.shop.service import DEMO_DIR
from moderation.classifier import SemanticModel
from moderation.eligibility import AnswerKey
from moderation.injection import find_injection, without_injection
from moderation.lexicon import Lexicon, get_store
from moderation.reranker import CandidateScore, score_candidate
from moderation.verifier import extract_claims, verify
from training.dataset import kept_values

MEASURES = ("grounded_accuracy", "verifier_pass", "moderation_pass", "sendable")
# How a fact's prompt line (app/grounding/facts.py prompt_line) reads, for the lines the turn counts as policy:
# a passage ("policy [id] title: passage"), an applied rule ("order X: returns … within N days of …", "order X:
# status …; its delivery address …") and an uploaded invoice's verdict.
_POLICY_LINE = re.compile(r"policy \[[^\]]*\] .*?: (?P<passage>.*)", re.DOTALL)
_RULE_LINE = re.compile(r"order \S+: (?:status [^;]*; its delivery address |[^;]* within \S+ days of )")
_INVOICE_LINE = "uploaded invoice "


@dataclass
class EvalCase:
    messages: list[dict[str, str]]  # the prompt as the turn builds it: system (with the facts), history, customer
    facts: list[str]
    expected: list[str]  # claims the answer must state
    question: str = ""  # the customer's text the turn scored candidates against (instructions to the model left out)
    policy_texts: list[str] = field(default_factory=list)  # what backs policy verdicts, as the turn passes it
    lang: str = "en"
    # What the question needs, rebuilt from the facts as objects: the fixed suite has them; a held-out turn's
    # facts are prompt lines only (the training set keeps the prompt), so its key is None and the decision
    # stage skips the "doesn't say …" check for it.
    answer_key: AnswerKey | None = None


def fixed_suite() -> list[EvalCase]:
    """Order questions on the demo shop, in English and Chinese: the answer must give the order's status facts."""
    data = json.loads((DEMO_DIR / "orders.json").read_text())
    cases = []
    for order in data["orders"]:
        fact = order_fact_from_record({**order, "items": [], "invoice": None})
        lines = [fact.prompt_line()]
        expected = [order["id"]] + ([order["tracking_no"]] if order.get("tracking_no") else [])
        for lang, question in (("en", f"Where is my order {order['id']}?"), ("zh", f"我的订单{order['id']}到哪了？")):
            key = answer_key(detect_intents(question), question, [fact])
            messages = prompts.build_messages(lines, [], question, lang)
            cases.append(EvalCase(messages, lines, expected, question, [], lang, key))
    return cases


def held_out(rows: list[dict[str, Any]]) -> list[EvalCase]:
    """Cases from the eval split, asked as the turn asked them (the dataset's prompt is the turn's, rebuilt),
    as the local model is sent them (text alone); the reference is what the customer was finally sent.

    The question, the facts and the language are read back from the prompt; the answer key is not (see
    EvalCase.answer_key)."""
    cases = []
    for row in rows:
        prompt, reference = prompts.without_markers(row["messages"][:-1]), row["messages"][-1]["content"]
        facts, text = prompts.fact_lines(prompt), prompts.customer_text(prompt)
        question = without_injection(text, find_injection(text)) or text  # what the turn grounded on
        language = prompts.prompt_language(prompt)
        cases.append(EvalCase(prompt, facts, extract_claims(reference), question, policy_texts(facts), language))
    return cases


def policy_texts(fact_lines: list[str]) -> list[str]:
    """The policy texts a turn passes the decision stage (app/chat/turn.py), from the facts' prompt lines:
    each policy passage's text, and the whole line of an applied rule or an uploaded invoice's verdict. (A
    policy title with ": " in it leaves its tail at the start of the passage.)"""
    texts = []
    for line in fact_lines:
        if passage := _POLICY_LINE.fullmatch(line):
            texts.append(passage["passage"])
        elif _RULE_LINE.match(line) or line.startswith(_INVOICE_LINE):
            texts.append(line)
    return texts


def run(
    model_path: str | Path,
    cases: list[EvalCase],
    max_new_tokens: int = 48,
    *,
    engine: EngineChoice = "auto",
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Answer every case greedily with the model at model_path, through the local backend's engine as it
    will serve it (int4 ONNX where the folder has a conversion), and score the answers.

    One case at a time, as turns are served: batched greedy decoding on the int4 engine does not give
    exactly the answers of single requests (batch kernels round differently), so the gate would judge
    answers the customers never get.
    """
    model = LocalChatModel(model_path, Path(model_path).parent, engine=engine)
    return score(model, cases, max_new_tokens, settings)


def score(
    model: LocalChatModel, cases: list[EvalCase], max_new_tokens: int = 48, settings: Settings | None = None
) -> dict[str, Any]:
    """Answer every case greedily with a loaded local model and score the answers, with the moderation the
    turn runs and the reply threshold it sends at (the app's settings unless given)."""
    settings = settings or get_settings()
    lexicon = get_store(settings.resolved_lexicon_path).get()
    semantic = semantic_model(settings)
    grounded = verified = clean = sendable = 0
    samples: list[str] = []
    for case in cases:
        [answer] = model.generate(case.messages, n=1, max_tokens=max_new_tokens)
        check = verify(answer, case.facts, case.policy_texts)
        correct = all(claim in answer for claim in case.expected) and not check.unsupported
        grounded += correct
        verified += bool(check.claims) and not check.unsupported
        clean += lexicon.check(answer).action == "allow"
        if correct:
            decided = decision(answer, case, lexicon, semantic)
            sendable += decided.eligible and decided.score >= settings.reply_threshold
        if len(samples) < 3:
            samples.append(answer)
    n = max(1, len(cases))
    return {
        "engine": model.engine,
        "cases": len(cases),
        "grounded_accuracy": round(grounded / n, 3),
        "verifier_pass": round(verified / n, 3),
        "moderation_pass": round(clean / n, 3),
        "sendable": round(sendable / n, 3),
        "samples": samples,
    }


def decision(answer: str, case: EvalCase, lexicon: Lexicon, semantic: SemanticModel | None) -> CandidateScore:
    """The decision stage's score of the answer as one of a turn's model candidates (app/chat/turn.py).

    Not recoverable from the training set, and left out: the inbound checks (input_injection is False: a
    turn whose message tried to instruct the model holds every model answer, whichever model gives it), the
    customer's abuse terms (the prompt has them masked already), and, for held-out turns, the answer key.
    The values the customer may see in full are the facts' words with digits, as the training set keeps
    them (they only decide what is masked, not whether the reply may go out)."""
    return score_candidate(
        "llm",
        answer,
        question=case.question,
        fact_texts=case.facts,
        policy_texts=case.policy_texts,
        lexicon=lexicon,
        allowed_values=kept_values(case.facts),
        input_injection=False,
        semantic=semantic,
        answer_key=case.answer_key,
        prompt_rules=prompt_rules(case.lang),
    )


def gate(candidate: dict[str, Any], active: dict[str, Any]) -> tuple[bool, list[str]]:
    """Promote only when not worse than the active model on any measure and better on one; why not otherwise.

    A candidate whose answers the verifier accepts less often, or that would send fewer correct replies on
    their own, holds more for the agents even if it is as accurate: that is worse, too. One equal on
    everything is held back ("no measure improved"): swapping models is not free, and it would gain nothing.
    """
    promote, why = prefer(candidate, active)
    return promote, [] if promote else why


def prefer(challenger: dict[str, Any], incumbent: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the challenger beats the incumbent (SFT+DPO over SFT alone, a candidate over the active model):
    not worse on any measure and better on one; the reasons either way. A tie keeps the incumbent: the
    change has to earn its place."""
    worse = [f"{k} fell from {incumbent[k]} to {challenger[k]}" for k in MEASURES if challenger[k] < incumbent[k]]
    if worse:
        return False, worse
    better = [f"{k} rose from {incumbent[k]} to {challenger[k]}" for k in MEASURES if challenger[k] > incumbent[k]]
    return (True, better) if better else (False, ["no measure improved"])
