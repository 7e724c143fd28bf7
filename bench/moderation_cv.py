"""How the semantic layer's settings are chosen: k-fold cross-validation on the train files only.

    .venv/bin/python bench/moderation_cv.py [--folds 4] [--c 20] [--extra candidate.jsonl] [--json]

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

Evasions: each held-out message is also scored once rewritten the way people write around a filter, by
rules that know nothing of the message (seeded): English words with a vowel masked ("f*ck"), spread
letters ("k i l l") or leet ("$h1t"); Chinese characters swapped for homophones, or a run of 2–4 written
in pinyin or its initials ("shabi", "sb"). The "evaded" columns are recall and false stops on those.

--extra weighs a candidate training file without the test split: it joins every fold's training side (and
the model that scores the shop questions) and is never held out, so the folds scored are the same as
without it and the two runs compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.classifier import DEFAULT_THRESHOLD, SERVICE_SETTINGS, fit, load_corpus, service_corpus  # noqa: E402
from moderation.folding import pinyin  # noqa: E402

THRESHOLDS = [round(0.40 + 0.05 * i, 2) for i in range(12)]  # 0.40 … 0.95
BUDGET = 0.05  # false stops per language (the limit)
SHOPS = Path(__file__).resolve().parent / "shops"
NOT_CLEAN = {"abusive_real", "other_customer", "unknown_ref"}
CJK = re.compile(r"[\u4e00-\u9fa5]")
LEET = {"a": "@", "e": "3", "i": "1", "o": "0", "s": "$"}


def homophones() -> dict[str, list[str]]:
    """Toneless pinyin → the common characters read that way."""
    out: dict[str, list[str]] = defaultdict(list)
    for code in range(0x4E00, 0x9FA6):
        out[pinyin(chr(code))[0]].append(chr(code))
    return out


def evade(text: str, rng: random.Random, sounds: dict[str, list[str]]) -> str:
    """The message rewritten by one evasion, chosen at random (see the module's docstring)."""
    if CJK.search(text):
        kind = rng.choice(["homophone", "pinyin", "initials"])
        if kind == "homophone":
            return "".join(rng.choice(sounds[pinyin(c)[0]]) if CJK.match(c) and rng.random() < 0.4 else c for c in text)
        runs = list(re.finditer(r"[\u4e00-\u9fa5]{2,}", text))
        if not runs:
            return text
        run = rng.choice(runs)
        n = min(len(run.group()), rng.randint(2, 4))
        start = run.start() + rng.randint(0, len(run.group()) - n)
        syllables = pinyin(text[start : start + n])
        spelled = "".join(syllables) if kind == "pinyin" else "".join(s[0] for s in syllables)
        return text[:start] + spelled + text[start + n :]
    words = text.split(" ")
    kind = rng.choice(["mask", "spread", "leet"])
    long = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 4]
    for i in rng.sample(long, min(len(long), max(1, len(long) // 3))):
        word = words[i]
        if kind == "mask":
            vowels = [k for k in range(1, len(word) - 1) if word[k] in "aeiou"]
            if vowels:
                k = rng.choice(vowels)
                word = word[:k] + "*" + word[k + 1 :]
        elif kind == "spread":
            word = " ".join(word)
        else:
            word = "".join(LEET.get(c, c) if rng.random() < 0.6 else c for c in word)
        words[i] = word
    return " ".join(words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--c", type=float, default=SERVICE_SETTINGS["c"], help="the regression's C")
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="JSONL",
        help="a candidate file added to every fold's training side and never scored: its effect on the same "
        "held-out folds (repeatable)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    examples = service_corpus("train")
    extra = [e for path in args.extra for e in load_corpus(Path(path))]
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
    evaded_harm = [0.0] * len(examples)
    sounds, evasion_rng = homophones(), random.Random(11)
    evaded = [evade(e.text, evasion_rng, sounds) for e in examples]
    for fold in range(args.folds):
        train = [e for e, f in zip(examples, fold_of, strict=True) if f != fold] + extra
        held = [i for i, f in enumerate(fold_of) if f == fold]
        scorer = fit(train, **{**SERVICE_SETTINGS, "c": args.c})
        for i, scores in zip(held, scorer.probabilities([examples[i].text for i in held]), strict=True):
            harm[i] = 1.0 - scores.get("clean", 0.0)
        for i, scores in zip(held, scorer.probabilities([evaded[i] for i in held]), strict=True):
            evaded_harm[i] = 1.0 - scores.get("clean", 0.0)
        print(f"fold {fold + 1}/{args.folds} scored ({len(held)} messages)", file=sys.stderr)

    questions = [
        json.loads(line)["text"]
        for path in sorted(SHOPS.glob("dev-*/cases.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["category"] not in NOT_CLEAN
    ]
    full = fit(examples + extra, **{**SERVICE_SETTINGS, "c": args.c})
    shop_harm = [1.0 - p.get("clean", 0.0) for p in full.probabilities(questions)]

    rows = []
    print(
        f"{len(examples)} train messages, {args.folds} folds, C={args.c}; {len(questions)} shop questions"
        + (f"; {len(extra)} extra messages on every training side" if extra else "")
    )
    print(
        f"{'threshold':>9}  {'en recall':>9} {'en false':>9}  {'zh recall':>9} {'zh false':>9}  {'shops false':>11}"
        f"   evaded: {'en recall':>9} {'en false':>9}  {'zh recall':>9} {'zh false':>9}"
    )
    for threshold in THRESHOLDS:
        row: dict[str, float] = {"threshold": threshold}
        for prefix, harms in (("", harm), ("evaded_", evaded_harm)):
            for lang in ("en", "zh"):
                harmful = [h for h, e in zip(harms, examples, strict=True) if e.lang == lang and e.label != "clean"]
                clean = [h for h, e in zip(harms, examples, strict=True) if e.lang == lang and e.label == "clean"]
                row[f"{prefix}{lang}_recall"] = sum(h >= threshold for h in harmful) / len(harmful)
                row[f"{prefix}{lang}_false"] = sum(h >= threshold for h in clean) / len(clean)
        row["shops_false"] = sum(h >= threshold for h in shop_harm) / len(shop_harm)
        rows.append(row)
        keys = ("en_recall", "en_false", "zh_recall", "zh_false")
        plain = "  ".join(f"{100 * row[a]:>8.1f}% {100 * row[b]:>8.1f}%" for a, b in (keys[:2], keys[2:]))
        evaded_cells = " ".join(f"{100 * row['evaded_' + k]:>9.1f}%" for k in keys)
        print(f"{threshold:>9.2f}  {plain}  {100 * row['shops_false']:>10.1f}%           {evaded_cells}")
    within = [r for r in rows if r["en_false"] <= BUDGET and r["zh_false"] <= BUDGET]
    chosen = min(within, key=lambda r: r["threshold"]) if within else None
    print(f"lowest threshold with ≤ {100 * BUDGET:.0f}% false stops in each language: {chosen and chosen['threshold']}")
    # Recall per category and language at the chosen threshold (or the shipped one if none is within budget).
    at = chosen["threshold"] if chosen else DEFAULT_THRESHOLD
    categories: dict[str, dict[str, float]] = {}
    print(f"stopped at {at:.2f}, per category:   en        zh")
    for label in sorted({e.label for e in examples}):
        cells = {}
        for lang in ("en", "zh"):
            said = [h >= at for h, e in zip(harm, examples, strict=True) if e.lang == lang and e.label == label]
            cells[lang] = sum(said) / len(said) if said else 0.0
        categories[label] = cells
        print(f"  {label:<20} {100 * cells['en']:>7.1f}%  {100 * cells['zh']:>7.1f}%")
    if args.json:
        print(json.dumps({"c": args.c, "rows": rows, "chosen": chosen, "categories": categories}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
