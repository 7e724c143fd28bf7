"""Latency of a text turn with the local backend, split by stage.

    .venv/bin/python bench/turn.py [--turns 30] [--samples 1] [--max-new-tokens 48]

Runs whole turns in-process (store → ground → generate → verify/decide → store) on a fresh SQLite
database seeded with the demo shop, and prints p50/p95 per stage. "overhead" is everything in the
turn except generation: the pipeline's own cost, which the target (< 50 ms p95) is about.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embedded import fresh_embedded  # noqa: E402

QUESTIONS = [
    ("c1001", "Where is my order A1023?"),
    ("c1001", "我的订单A1024发货了吗？"),
    ("c1002", "How long does a refund take?"),
    ("c1002", "Can I return the headphones from B4712?"),
    ("c1003", "退款多久到账"),
    ("c1001", "Where is order B4712?"),  # another customer's order
    ("c1002", "Is shipping free?"),
    ("c1001", "能开发票报销吗 A1023"),
    ("c1002", "Hello, what can you do?"),
    ("c1003", "Can I change the address of my order?"),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--samples", type=int, default=1, help="LLM candidates per turn (0: composer only)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument(
        "--skip",
        choices=["eligible", "settled"],
        default="eligible",
        help="when the turn doesn't wait for the model (SHOPDESK_LLM_SKIP)",
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()

    fresh_embedded(
        "shopdesk-bench-",
        SHOPDESK_LLM_BACKEND="local",
        SHOPDESK_LLM_SAMPLES=str(args.samples),
        SHOPDESK_LLM_MAX_NEW_TOKENS=str(args.max_new_tokens),
        SHOPDESK_LLM_SKIP=args.skip,
    )
    from app.chat import service as chat_service
    from app.config import get_settings
    from app.db import get_sessionmaker, migrate, session_scope
    from app.llm.registry import get_chat_model
    from app.models import Message
    from app.shop import repository
    from app.shop.service import seed_demo

    settings = get_settings()
    migrate()
    with session_scope() as s:
        seed_demo(s)
    model = get_chat_model(settings)
    started = time.perf_counter()
    if args.samples:
        model.load()  # type: ignore[attr-defined]
    print(f"model ready in {time.perf_counter() - started:.1f}s; running {args.turns} turns…", file=sys.stderr)

    stages: dict[str, list[float]] = {"ground": [], "generate": [], "decide": [], "turn": [], "overhead": []}
    statuses: dict[str, int] = {}
    model_ran = 0
    for i in range(args.turns):
        ref, text = QUESTIONS[i % len(QUESTIONS)]
        with get_sessionmaker()() as session:
            customer = repository.get_customer_by_ref(session, ref)
            conversation = chat_service.open_for_customer(session, settings, customer.id, "en")
            t0 = time.perf_counter()
            response, _, _ = chat_service.post_message(session, settings, conversation, text, f"bench-{i}", model)
            total = (time.perf_counter() - t0) * 1000
            turn = session.get(Message, response["reply"]["id"]).turn
            timings = turn["timings"]
            model_ran += bool(args.samples) and not turn.get("llm_skipped") and "generate_ms" in timings
        stages["ground"].append(timings["ground_ms"])
        stages["generate"].append(timings["generate_ms"])
        stages["decide"].append(timings["decide_ms"])
        stages["turn"].append(total)
        stages["overhead"].append(total - timings["generate_ms"])
        statuses[response["reply"]["status"]] = statuses.get(response["reply"]["status"], 0) + 1
        print(f"  {i + 1:>3}/{args.turns} {total:8.1f} ms  {response['reply']['status']}", file=sys.stderr)

    print(
        f"\nText turn, local backend ({model.name}), {args.turns} turns, {args.samples} LLM sample(s), "
        f"max {args.max_new_tokens} new tokens, model skipped when the composer's reply is {args.skip}, SQLite, "
        f"{os.cpu_count()} CPUs; the model ran in {model_ran} of {args.turns} turns"
    )
    print(f"{'stage':<10}{'p50 ms':>10}{'p95 ms':>10}")
    summary = {}
    for name, values in stages.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        summary[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{name:<10}{p50:>10.1f}{p95:>10.1f}")
    print(f"statuses: {statuses}")
    if args.json:
        record = {"turns": args.turns, "samples": args.samples, "skip": args.skip, "model_ran": model_ran}
        print(json.dumps({**record, "stages": summary, "statuses": statuses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
