"""Moderation on another writer's words: each round of the train files scored by a model that never saw it.

    .venv/bin/python bench/moderation_writers.py [--rounds en-5,zh-5 en-4,zh-4] [--candidate train-en-6.jsonl,…]

The train files were written in rounds, each by hands that read no other round (moderation/data/corpus/:
train-en-N.jsonl and train-zh-N.jsonl are round N). Cross-validation (bench/moderation_cv.py) scores
messages whose neighbours, written by the same hand in the same session, sit in the training folds; this
bench holds out whole rounds instead, which is closer to what the shipped model meets: text from people
who wrote nothing it learnt from. For each held-out round it fits the classifier of moderation/classifier.py
on every other train file and prints, at the shipped threshold, the share of each category stopped (for
clean messages: falsely stopped).

--candidate names train files to weigh: each held-out round is scored twice, by a model fitted without
them and by one fitted with them, so the difference is what they add on words their writers never saw
(the candidate files are never held out). The test split (test.jsonl) is never read here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.classifier import CORPUS, DEFAULT_THRESHOLD, SERVICE_SETTINGS, Example, fit, load_corpus  # noqa: E402


def stopped(train: list[Example], held: list[Example], threshold: float) -> dict[tuple[str, str], float]:
    """Per (label, lang): the share of the held-out messages a model fitted on `train` gives a harmful category."""
    scorer = fit(train, **SERVICE_SETTINGS)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for example, probabilities in zip(held, scorer.probabilities([e.text for e in held]), strict=True):
        harmful = 1 - probabilities.get("clean", 0.0) >= threshold
        counts[(example.label, example.lang)][0] += harmful
        counts[(example.label, example.lang)][1] += 1
    return {key: 100 * hit / n for key, (hit, n) in counts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--rounds", nargs="+", default=["en-5,zh-5", "en-4,zh-4"], help="rounds to hold out, each a comma list"
    )
    parser.add_argument("--candidate", default="", help="train files to weigh (comma list of names)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    files = {p.name: p for p in sorted(CORPUS.glob("train*.jsonl"))}
    candidate = {name for name in args.candidate.split(",") if name}
    if unknown := candidate - files.keys():
        parser.error(f"no such train file: {', '.join(sorted(unknown))}")

    for spec in args.rounds:
        held_names = {f"train-{part}.jsonl" for part in spec.split(",")}
        if unknown := held_names - files.keys():
            parser.error(f"no such train file: {', '.join(sorted(unknown))}")
        held = [e for name in sorted(held_names) for e in load_corpus(files[name])]
        rest = [name for name in files if name not in held_names | candidate]
        models = {"shipped files" if not candidate else "without candidate": rest}
        if candidate:
            models["with candidate"] = rest + sorted(candidate)
        print(f"\nheld out: {', '.join(sorted(held_names))} ({len(held)} messages), threshold {args.threshold}")
        rows = {
            name: stopped([e for n in names for e in load_corpus(files[n])], held, args.threshold)
            for name, names in models.items()
        }
        keys = sorted(next(iter(rows.values())))
        print(f"{'category':<20}{'lang':<5}" + "".join(f"{name:>20}" for name in rows) + "   (stopped)")
        for label, lang in keys:
            kind = "(false)" if label == "clean" else ""
            shares = "".join(f"{row[(label, lang)]:>19.1f}%" for row in rows.values())
            print(f"{label:<20}{lang:<5}{shares}   {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
