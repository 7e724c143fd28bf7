"""The retraining loop measured: the embedded model before and after one run on generated approved turns.

    .venv/bin/python bench/retrain.py [--customers 40] [--steps 30]

Seeds a generated shop (customers with orders, carriers and tracking numbers) beside the demo shop, runs
real turns for them through the pipeline (the composer's grounded answers are sent, as an agent would
approve them), then runs one training run on the CPU and prints, for the base model and the retrained
one: the share of answers the verifier accepts and the grounded accuracy on held-out turns (conversations
the run never saw) and on the fixed demo-shop suite, plus the run's wall time by stage.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()

    data_dir = fresh_embedded(
        "shopdesk-retrain-", SHOPDESK_LLM_SAMPLES="0", SHOPDESK_TRAINING_MAX_STEPS=str(args.steps)
    )
    from app.chat import service as chat_service
    from app.config import get_settings
    from app.db import get_sessionmaker, migrate, session_scope
    from app.models import TrainingRun
    from app.shop import repository
    from app.shop.service import seed_demo, seed_orders
    from training import runs

    settings = get_settings()
    migrate()
    rng = random.Random(7)
    shop = data_dir / "generated.json"
    generated_shop(shop, args.customers, rng)
    with session_scope() as s:
        seed_demo(s)
        seed_orders(s, shop)
    orders = json.loads(shop.read_text())["orders"]
    started = time.perf_counter()
    turns = 0
    for order in orders:
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
    status = runs.execute(run_id, settings)
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        metrics, error = run.metrics, run.error
    if status != "succeeded":
        print(f"run {status}: {error}")
        return 1
    before, after = metrics["active_before"], metrics["candidate"]
    tune = metrics["finetune"]
    # The served candidate is the AWQ one; score the merged model too, to tell the fine-tune's gain from
    # what 4-bit quantization takes back.
    merged = after
    if metrics.get("quantize"):
        from training import evaluate
        from training.finetune import read_jsonl

        work = settings.resolved_models_dir / "runs" / f"run-{run_id}"
        cases = evaluate.held_out(read_jsonl(work / "data" / "eval.jsonl"))
        cases += evaluate.fixed_suite()[: settings.training_eval_suite]
        merged = evaluate.run(work / "merged", cases, settings.training_eval_tokens)
    print(
        f"\nRetraining the embedded model (SmolLM2-135M) on {tune['train_examples']} approved turns, "
        f"{args.steps} LoRA steps on the CPU; {after['cases']} eval answers "
        f"({tune['eval_examples']} held-out turns + the fixed suite)"
    )
    print(f"{'':<22}{'before':>10}{'merged':>10}{'AWQ':>10}")
    for key in ("verifier_pass", "grounded_accuracy", "moderation_pass"):
        print(f"{key:<22}{before[key]:>10.3f}{merged[key]:>10.3f}{after[key]:>10.3f}")
    print(f"{'eval loss':<22}{tune['eval_loss_before']:>10}{tune['eval_loss_after']:>10}{'':>10}")
    print(f"promoted: {metrics['promoted']} {metrics['not_promoted_because'] or ''}")
    print("wall time by stage (s): " + ", ".join(f"{k} {v}" for k, v in metrics["timings"].items()))
    print(f"sample before: {before['samples'][0]!r}")
    print(f"sample after:  {after['samples'][0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
