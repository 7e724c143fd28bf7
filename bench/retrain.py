"""The retraining loop measured: the embedded model before and after one run on generated approved turns.

    .venv/bin/python bench/retrain.py [--customers 40] [--steps 30] [--json FILE]

Seeds a generated shop (customers with orders, carriers and tracking numbers) beside the demo shop, runs
real turns for --customers of its customers through the pipeline (the composer's grounded answers are sent, as
an agent would approve them), then runs one training run on the CPU as an admin would start it, with the
settings' defaults, and prints its wall time by stage and, for the base model, the merged fine-tune and
the candidate as it is served (int4 ONNX on the local engine), the gate's measures on two sets:

- the run's own eval set: held-out turns (conversations on the eval side of the split, never trained on)
  and the fixed demo-shop suite, which the gate decides on;
- unseen customers, unseen wording: a quarter as many customers again, who had no conversation at all,
  each order asked in four phrasings no logged turn used (two en, two zh), as the fixed suite is asked.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embedded import fresh_embedded  # noqa: E402


def generated_shop(path: Path, customers: int, rng: random.Random) -> None:
    carriers = [("SF Express", "SF"), ("UPS", "1Z"), ("FedEx", ""), ("DHL", "JD")]
    data: dict = {"customers": [], "orders": []}
    for c in range(customers):
        ref = f"g{c:04d}"
        data["customers"].append({"ref": ref, "name": f"Customer {c}"})
        for k in range(2):
            status = rng.choice(["shipped", "delivered", "processing", "in_transit"])
            carrier, prefix = rng.choice(carriers)
            order = {
                "id": f"G{c:03d}{k}{rng.randint(10, 99)}",
                "customer_ref": ref,
                "status": status,
                "total": f"{rng.randint(500, 90000) / 100:.2f}",
                "currency": rng.choice(["CNY", "USD"]),
                "placed_at": f"2026-11-{rng.randint(1, 25):02d}T10:00:00+00:00",
                "items": [],
                "invoice": None,
            }
            if status != "processing":
                order["carrier"] = carrier
                order["tracking_no"] = prefix + "".join(rng.choice("0123456789") for _ in range(10))
            data["orders"].append(order)
    path.write_text(json.dumps(data))


# Phrasings no logged turn used (those ask "Where is my order X?" and "我的订单X到哪了？").
UNSEEN_QUESTIONS = (
    ("en", "Has {id} shipped yet? I need the tracking number."),
    ("en", "Any news on order {id}?"),
    ("zh", "请问{id}这个订单发货了吗？"),
    ("zh", "帮我查一下{id}的物流"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()

    data_dir = fresh_embedded(
        "shopdesk-retrain-", SHOPDESK_LLM_SAMPLES="0", SHOPDESK_TRAINING_MAX_STEPS=str(args.steps)
    )
    from app.chat import service as chat_service
    from app.config import get_settings
    from app.db import get_sessionmaker, migrate, session_scope
    from app.models import ModelVersion, TrainingRun
    from app.shop import repository
    from app.shop.service import seed_demo, seed_orders
    from training import runs

    settings = get_settings()
    migrate()
    rng = random.Random(7)
    shop = data_dir / "generated.json"
    unseen_count = max(1, args.customers // 4)
    generated_shop(shop, args.customers + unseen_count, rng)  # the last ones never talk to the shop
    with session_scope() as s:
        seed_demo(s)
        seed_orders(s, shop)
    orders = json.loads(shop.read_text())["orders"]
    trained_refs = {f"g{c:04d}" for c in range(args.customers)}
    started = time.perf_counter()
    turns = 0
    for order in (o for o in orders if o["customer_ref"] in trained_refs):
        questions = [f"Where is my order {order['id']}?", f"我的订单{order['id']}到哪了？"]
        with get_sessionmaker()() as session:
            customer = repository.get_customer_by_ref(session, order["customer_ref"])
            conversation = chat_service.open_for_customer(session, settings, customer.id, "en")
            for question in questions:
                chat_service.post_message(session, settings, conversation, question, None, None)
                turns += 1
    print(f"{turns} turns logged in {time.perf_counter() - started:.0f} s; training…", file=sys.stderr)

    with session_scope() as s:
        run = TrainingRun(status="queued", progress={}, metrics={})
        s.add(run)
        s.flush()
        run_id = run.id
    started = time.perf_counter()
    status = runs.execute(run_id, settings)
    wall = time.perf_counter() - started
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        metrics, error = run.metrics, run.error
        version = s.get(ModelVersion, run.model_version_id) if run.model_version_id else None
        served = Path(version.path) if version else None
    if status != "succeeded":
        print(f"run {status}: {error}")
        return 1
    from training import evaluate
    from training.finetune import read_jsonl

    before, after = metrics["active_before"], metrics["candidate"]
    tune = metrics["finetune"]
    work = settings.resolved_models_dir / "runs" / f"run-{run_id}"
    tokens = settings.training_eval_tokens
    own = evaluate.held_out(read_jsonl(work / "data" / "eval.jsonl"))
    own += evaluate.fixed_suite()[: settings.training_eval_suite]
    unseen = evaluate.order_cases([o for o in orders if o["customer_ref"] not in trained_refs], UNSEEN_QUESTIONS)
    base = settings.resolved_models_dir / "smollm2-135m-instruct"
    # The merged weights through transformers (what training gained before 4-bit weights take part of it back).
    merged_own = evaluate.run(work / "merged", own, tokens, engine="transformers")
    tables = {
        "own": {"before": before, "merged": merged_own, "served": after},
        "unseen": {
            "before": evaluate.run(base, unseen, tokens),
            "merged": evaluate.run(work / "merged", unseen, tokens, engine="transformers"),
            "served": evaluate.run(served, unseen, tokens),
        },
    }
    print(
        f"\nRetraining the embedded model (SmolLM2-135M) on {tune['train_examples']} approved turns, "
        f"{args.steps} LoRA steps on the CPU ({metrics['finetune'].get('precision', 'fp32')}); "
        f"wall time {wall:.0f} s"
    )
    print("wall time by stage (s): " + ", ".join(f"{k} {v}" for k, v in metrics["timings"].items()))
    names = {
        "own": f"the run's eval set: {tune['eval_examples']} held-out turns + {len(own) - tune['eval_examples']} "
        "suite questions",
        "unseen": f"unseen customers, unseen wording: {len(unseen)} questions",
    }
    for key, table in tables.items():
        print(f"\n{names[key]}")
        print(f"{'':<22}{'before':>10}{'merged':>10}{'served (' + str(after['engine']) + ')':>26}")
        for measure in evaluate.MEASURES:
            row = [table[c][measure] for c in ("before", "merged", "served")]
            print(f"{measure:<22}{row[0]:>10.3f}{row[1]:>10.3f}{row[2]:>26.3f}")
    print(f"{'eval loss':<22}{tune['eval_loss_before']:>10}{tune['eval_loss_after']:>10}")
    print(f"promoted: {metrics['promoted']} {metrics['not_promoted_because'] or ''}")
    print(f"sample before: {before['samples'][0]!r}")
    print(f"sample after:  {after['samples'][0]!r}")
    if args.json:
        figures = {
            "customers": args.customers,
            "steps": args.steps,
            "wall_s": round(wall, 1),
            "timings": metrics["timings"],
            "finetune": tune,
            "quantize": metrics.get("quantize"),
            "promoted": metrics["promoted"],
            "not_promoted_because": metrics["not_promoted_because"],
            "tables": {k: {c: evaluate.summary(v) for c, v in t.items()} for k, t in tables.items()},
        }
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
