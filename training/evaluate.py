"""The eval gate: a candidate model against the active one, on held-out turns and a fixed suite, each asked
with the prompt the turn sends (app/llm/prompts).

Grounded accuracy: the reply states every id, number and amount of the reference reply, and nothing the
facts don't back. Verifier pass rate: the reply makes checkable claims and the verifier backs every one
(a reply that says nothing checkable, such as a model repeating its instructions, is not a pass: it would
never be sent on its own). Moderation pass rate: no lexicon hit. A candidate is promoted only when it is
not worse than the active model on any of the three. Where a run trained DPO after the fine-tune, the
SFT+DPO candidate is kept over SFT alone only when it is not worse on any of the three and better on one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.grounding.facts import order_fact_from_record
from app.llm import prompts
from app.llm.local import EngineChoice, LocalChatModel
from app.shop.service import DEMO_DIR
from moderation.lexicon import DEFAULT_PATH, Lexicon
from moderation.verifier import extract_claims, verify

MEASURES = ("grounded_accuracy", "verifier_pass", "moderation_pass")


@dataclass
class EvalCase:
    messages: list[dict[str, str]]  # the prompt as the turn builds it: system (with the facts), history, customer
    facts: list[str]
    expected: list[str]  # claims the answer must state


def fixed_suite() -> list[EvalCase]:
    """Order questions on the demo shop, in English and Chinese: the answer must give the order's status facts."""
    data = json.loads((DEMO_DIR / "orders.json").read_text())
    cases = []
    for order in data["orders"]:
        fact = order_fact_from_record({**order, "items": [], "invoice": None})
        lines = [fact.prompt_line()]
        expected = [order["id"]] + ([order["tracking_no"]] if order.get("tracking_no") else [])
        for lang, question in (("en", f"Where is my order {order['id']}?"), ("zh", f"我的订单{order['id']}到哪了？")):
            cases.append(EvalCase(prompts.build_messages(lines, [], question, lang), lines, expected))
    return cases


def held_out(rows: list[dict[str, Any]]) -> list[EvalCase]:
    """Cases from the eval split, asked as the turn asked them (the dataset's prompt is the turn's, rebuilt),
    as the local model is sent them (text alone); the reference is what the customer was finally sent."""
    cases = []
    for row in rows:
        prompt, reference = prompts.without_markers(row["messages"][:-1]), row["messages"][-1]["content"]
        facts = [line[2:] for line in prompt[0]["content"].splitlines() if line.startswith("- ")]
        cases.append(EvalCase(prompt, facts, extract_claims(reference)))
    return cases


def run(
    model_path: str | Path, cases: list[EvalCase], max_new_tokens: int = 48, *, engine: EngineChoice = "auto"
) -> dict[str, Any]:
    """Answer every case greedily with the model at model_path, through the local backend's engine as it
    will serve it (int4 ONNX where the folder has a conversion), and score the answers.

    One case at a time, as turns are served: batched greedy decoding on the int4 engine does not give
    exactly the answers of single requests (batch kernels round differently), so the gate would judge
    answers the customers never get.
    """
    return score(LocalChatModel(model_path, Path(model_path).parent, engine=engine), cases, max_new_tokens)


def score(model: LocalChatModel, cases: list[EvalCase], max_new_tokens: int = 48) -> dict[str, Any]:
    """Answer every case greedily with a loaded local model and score the answers."""
    lexicon = Lexicon.from_file(DEFAULT_PATH)
    grounded = verified = clean = 0
    samples: list[str] = []
    for case in cases:
        [answer] = model.generate(case.messages, n=1, max_tokens=max_new_tokens)
        check = verify(answer, case.facts)
        states_all = all(claim in answer for claim in case.expected)
        grounded += states_all and not check.unsupported
        verified += bool(check.claims) and not check.unsupported
        clean += lexicon.check(answer).action == "allow"
        if len(samples) < 3:
            samples.append(answer)
    n = max(1, len(cases))
    return {
        "engine": model.engine,
        "cases": len(cases),
        "grounded_accuracy": round(grounded / n, 3),
        "verifier_pass": round(verified / n, 3),
        "moderation_pass": round(clean / n, 3),
        "samples": samples,
    }


def gate(candidate: dict[str, Any], active: dict[str, Any]) -> tuple[bool, list[str]]:
    """Promote only when not worse on grounded accuracy, on the verifier and on moderation; say why not otherwise.

    A candidate whose answers the verifier accepts less often would send fewer replies on their own and
    hold more for the agents, even if it is as accurate: that is worse, too.
    """
    reasons = []
    for key in MEASURES:
        if candidate[key] < active[key]:
            reasons.append(f"{key} fell from {active[key]} to {candidate[key]}")
    return not reasons, reasons


def prefer(challenger: dict[str, Any], incumbent: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the challenger (SFT+DPO) beats the incumbent (SFT alone): not worse on any measure and better
    on one; the reasons either way. A tie keeps the incumbent: the extra stage has to earn its place."""
    worse = [f"{k} fell from {incumbent[k]} to {challenger[k]}" for k in MEASURES if challenger[k] < incumbent[k]]
    if worse:
        return False, worse
    better = [f"{k} rose from {incumbent[k]} to {challenger[k]}" for k in MEASURES if challenger[k] > incumbent[k]]
    return (True, better) if better else (False, ["not better on any measure"])
