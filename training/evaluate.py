"""The eval gate: a candidate model against the active one, on held-out turns and a fixed suite, each asked
with the prompt the turn sends (app/llm/prompts).

Grounded accuracy: the reply states every id, number and amount of the reference reply, and nothing the
facts (and the policy passages among them) don't back. Verifier pass rate: the reply makes checkable claims,
the verifier backs every one, and it says back neither the question nor the prompt (a reply that says nothing
checkable, or that repeats the customer's message, whose order id the facts back, is not a pass: it would
never be sent on its own). Moderation pass rate: no hit in the shop's
lexicon. Sendable: the reply is grounded-correct and the decision stage would let it go out on its own
(eligible, and its score at or above the reply threshold), scored as a turn scores its model's candidate.

A candidate is promoted only when it is not worse than the active model on any measure and better on one
(a model equal on everything is held back: retraining has to earn a swap). Where a run trained DPO after the
fine-tune, the SFT+DPO candidate is kept over SFT alone by the same rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.chat.turn import answer_key, prompt_rules, semantic_model
from app.config import Settings, get_settings
from app.grounding.facts import order_fact_from_record
from app.grounding.intents import detect_intents
from app.llm import onnx_engine, prompts
from app.llm.local import ONNX_ENGINE, EngineChoice, LocalChatModel
from app.shop.service import DEMO_DIR
from moderation.classifier import SemanticModel
from moderation.eligibility import AnswerKey, echoes, leaks_prompt
from moderation.injection import find_injection, without_injection
from moderation.lexicon import Lexicon, get_store
from moderation.reranker import CandidateScore, score_candidate
from moderation.verifier import extract_claims, verify
from training.dataset import kept_values

log = logging.getLogger(__name__)

MEASURES = ("grounded_accuracy", "verifier_pass", "moderation_pass", "sendable")
# How a fact's prompt line (app/grounding/facts.py prompt_line) reads, for the lines the turn counts as policy:
# a passage ("policy [id] title: passage"), an applied rule ("order X: returns … within N days of …", "order X:
# status …; its delivery address …") and an uploaded invoice's verdict.
_POLICY_LINE = re.compile(r"policy \[[^\]]*\] .*?: (?P<passage>.*)", re.DOTALL)
_RULE_LINE = re.compile(r"order \S+: (?:status [^;]*; its delivery address |[^;]* within \S+ days of )")
_INVOICE_LINE = "uploaded invoice "
ANSWERS_FILE = "eval-answers.json"  # in a model's folder: its answers to the last eval set (see answers())


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


SUITE_QUESTIONS = (("en", "Where is my order {id}?"), ("zh", "我的订单{id}到哪了？"))


def fixed_suite() -> list[EvalCase]:
    """Order questions on the demo shop, in English and Chinese: the answer must give the order's status facts."""
    return order_cases(json.loads((DEMO_DIR / "orders.json").read_text())["orders"], SUITE_QUESTIONS)


def order_cases(orders: list[dict[str, Any]], questions: tuple[tuple[str, str], ...]) -> list[EvalCase]:
    """Each order (a record of the seed schema) asked each question ("{id}" in it is the order's id), with the
    order as the one fact: the answer must state the order's id and its tracking number where it has one."""
    cases = []
    for order in orders:
        fact = order_fact_from_record({**order, "items": [], "invoice": None})
        lines = [fact.prompt_line()]
        expected = [order["id"]] + ([order["tracking_no"]] if order.get("tracking_no") else [])
        for lang, template in questions:
            question = template.format(id=order["id"])
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
    return judge(answers(model, cases, max_new_tokens), cases, model.engine, settings)


def score(
    model: LocalChatModel, cases: list[EvalCase], max_new_tokens: int = 48, settings: Settings | None = None
) -> dict[str, Any]:
    """Answer every case greedily with a loaded local model (nothing cached) and score the answers."""
    given = [model.generate(case.messages, n=1, max_tokens=max_new_tokens)[0] for case in cases]
    return judge(given, cases, model.engine, settings)


def judge(
    given: list[str], cases: list[EvalCase], engine: str | None, settings: Settings | None = None
) -> dict[str, Any]:
    """The gate's measures of the answers given to the cases, with the moderation the turn runs and the reply
    threshold it sends at (the app's settings unless given)."""
    settings = settings or get_settings()
    lexicon = get_store(settings.resolved_lexicon_path).get()
    semantic = semantic_model(settings)
    grounded = verified = clean = sendable = 0
    for case, answer in zip(cases, given, strict=True):
        check = verify(answer, case.facts, case.policy_texts)
        correct = all(claim in answer for claim in case.expected) and not check.unsupported
        grounded += correct
        # The customer's message said back ("<customer_message> Where is my order A1?"), order id and all, is
        # no claim the model made: the decision stage's own tests for an echo of the question or the prompt.
        said_back = echoes(answer, case.question) or leaks_prompt(answer, prompt_rules(case.lang))
        verified += bool(check.claims) and not check.unsupported and not said_back
        clean += lexicon.check(answer, "out").action == "allow"
        if correct:
            decided = decision(answer, case, lexicon, semantic)
            sendable += decided.eligible and decided.score >= settings.reply_threshold
    n = max(1, len(cases))
    return {
        "engine": engine,
        "cases": len(cases),
        "grounded_accuracy": round(grounded / n, 3),
        "verifier_pass": round(verified / n, 3),
        "moderation_pass": round(clean / n, 3),
        "sendable": round(sendable / n, 3),
        "samples": given[:3],
    }


def answers(model: LocalChatModel, cases: list[EvalCase], max_new_tokens: int) -> list[str]:
    """Each case's greedy answer. Those the same weights gave before, through the same engine and to the
    same prompt, are read back from the model folder's eval-answers.json instead of generated again.

    The active model answers the same suite and, as the eval side of the split keeps its conversations, mostly
    the same held-out turns run after run: its half of the evaluate stage is then a lookup. Greedy decoding
    gives the same answer to the same prompt (one request at a time, as run() asks), and the key covers the
    served files (their names, sizes and times), so new or reconverted weights answer afresh. The file keeps
    the answers of the last eval set only; a folder that can't be written just isn't cached."""
    model.load()
    assert model.path is not None
    served = onnx_engine.onnx_dir(model.path) if model.engine == ONNX_ENGINE else model.path
    weights = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in served.iterdir() if f.is_file())
    identity = _digest([model.engine, [w for w in weights if w[0] != ANSWERS_FILE]])
    store = Path(model.path) / ANSWERS_FILE
    try:
        saved = json.loads(store.read_text(encoding="utf-8"))
        known = saved["answers"] if saved.get("identity") == identity else {}
    except (OSError, ValueError, KeyError, TypeError):
        known = {}
    keys = [_digest([max_new_tokens, case.messages]) for case in cases]
    given: dict[str, str] = {}
    for key, case in zip(keys, cases, strict=True):
        if key in known:
            given[key] = known[key]
        elif key not in given:
            given[key] = model.generate(case.messages, n=1, max_tokens=max_new_tokens)[0]
    reused = sum(key in known for key in given)
    if reused:
        log.info("%s: %d of %d eval answers read back from %s", model.path, reused, len(given), ANSWERS_FILE)
    try:
        partial = store.with_suffix(".tmp")
        partial.write_text(json.dumps({"identity": identity, "answers": given}, ensure_ascii=False), encoding="utf-8")
        partial.replace(store)
    except OSError as exc:
        log.warning("eval answers not cached in %s: %s", store, exc)
    return [given[key] for key in keys]


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """A result of run() or judge() without its sample answers: the measures, the engine, the case count."""
    return {k: v for k, v in result.items() if k != "samples"}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


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
