"""How the semantic layer's settings are chosen: k-fold cross-validation on the train files only.

    .venv/bin/python bench/moderation_cv.py [--folds 4] [--c 20] [--json]

The train files (moderation/data/corpus/train*.jsonl) are split into folds, stratified by label and language;
each fold is scored by a model fitted on the others (the features and classifier of moderation/classifier.py
`train()`). For each threshold on "not clean" it prints, per language, the share of harmful messages stopped
and of clean ones falsely stopped. The shipped threshold is the lowest (the most recall) whose false stops
stay at or under the budget in each language. Beside it, a model fitted on all the train files scores the
development shops' customer questions (bench/shops/dev-*/cases.jsonl, less the categories that hold
abuse, injected codes and pretexts on purpose: abusive_real, other_customer, unknown_ref):
ordinary questions in other words than the corpus's, so the share it stops is a false-stop rate on text the
corpus's writers did not write. The test split (test.jsonl) is never read here: bench/moderation_eval.py
measures it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.classifier import SERVICE_SETTINGS, fit, service_corpus  # noqa: E402

THRESHOLDS = [round(0.40 + 0.05 * i, 2) for i in range(12)]  # 0.40 … 0.95
BUDGET = 0.05  # false stops per language (the limit)
SHOPS = Path(__file__).resolve().parent / "shops"
NOT_CLEAN = {"abusive_real", "other_customer", "unknown_ref"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--c", type=float, default=SERVICE_SETTINGS["c"], help="the regression's C")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    examples = service_corpus("train")
    rng = random.Random(7)
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        strata[(e.label, e.lang)].append(i)
    fold_of = [0] * len(examples)
    for indices in strata.values():
        rng.shuffle(indices)
        for k, i in enumerate(indices):
            fold_of[i] = k % args.folds

    harm = [0.0] * len(examples)
    for fold in range(args.folds):
        train = [e for e, f in zip(examples, fold_of, strict=True) if f != fold]
        held = [i for i, f in enumerate(fold_of) if f == fold]
        scorer = fit(train, **{**SERVICE_SETTINGS, "c": args.c})
        for i, scores in zip(held, scorer.probabilities([examples[i].text for i in held]), strict=True):
            harm[i] = 1.0 - scores.get("clean", 0.0)
        print(f"fold {fold + 1}/{args.folds} scored ({len(held)} messages)", file=sys.stderr)

    questions = [
        json.loads(line)["text"]
        for path in sorted(SHOPS.glob("dev-*/cases.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["category"] not in NOT_CLEAN
    ]
    full = fit(examples, **{**SERVICE_SETTINGS, "c": args.c})
    shop_harm = [1.0 - p.get("clean", 0.0) for p in full.probabilities(questions)]

    rows = []
    print(f"{len(examples)} train messages, {args.folds} folds, C={args.c}; {len(questions)} shop questions")
    print(f"{'threshold':>9}  {'en recall':>9} {'en false':>9}  {'zh recall':>9} {'zh false':>9}  {'shops false':>11}")
    for threshold in THRESHOLDS:
        row: dict[str, float] = {"threshold": threshold}
        for lang in ("en", "zh"):
            harmful = [h for h, e in zip(harm, examples, strict=True) if e.lang == lang and e.label != "clean"]
            clean = [h for h, e in zip(harm, examples, strict=True) if e.lang == lang and e.label == "clean"]
            row[f"{lang}_recall"] = sum(h >= threshold for h in harmful) / len(harmful)
            row[f"{lang}_false"] = sum(h >= threshold for h in clean) / len(clean)
        row["shops_false"] = sum(h >= threshold for h in shop_harm) / len(shop_harm)
        rows.append(row)
        print(
            f"{threshold:>9.2f}  {100 * row['en_recall']:>8.1f}% {100 * row['en_false']:>8.1f}%"
            f"  {100 * row['zh_recall']:>8.1f}% {100 * row['zh_false']:>8.1f}%  {100 * row['shops_false']:>10.1f}%"
        )
    within = [r for r in rows if r["en_false"] <= BUDGET and r["zh_false"] <= BUDGET]
    chosen = min(within, key=lambda r: r["threshold"]) if within else None
    print(f"lowest threshold with ≤ {100 * BUDGET:.0f}% false stops in each language: {chosen and chosen['threshold']}")
    if args.json:
        print(json.dumps({"c": args.c, "rows": rows, "chosen": chosen}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
