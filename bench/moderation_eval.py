"""Moderation on text it was not written beside: the lexicon, the semantic layer, and both, per category.

    .venv/bin/python bench/moderation_eval.py [--corpus FILE] [--json]

Sets (none of them used to tune the lexicon; the semantic model is trained on the train splits only):
  corpus test   moderation/data/corpus/test.jsonl: customer messages and draft replies, zh and en, written
                apart from the train split (other scenarios, phrasings and evasions) and from the rules
  COLD test     moderation/data/cold/test.csv: 5,323 Chinese social-media comments labelled offensive or
                not by COLD's authors (thu-coai/COLDataset); their RoBERTa detector reaches about 81%
--corpus measures another labelled file in the corpus's format instead of test.jsonl: a new writer's round
before it joins the train files is text the shipped model has never seen, by hands it has never seen.
A harmful message is *stopped* when the layer gives it any harmful category (any action); a clean one is
*falsely stopped* when it gets one. Speed: the semantic layer alone, one message at a time, one core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import get_settings  # noqa: E402
from moderation.classifier import CORPUS, get_model, load_cold, load_corpus  # noqa: E402
from moderation.lexicon import DEFAULT_PATH, Lexicon  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--corpus", type=Path, default=CORPUS / "test.jsonl", help="a labelled .jsonl to measure")
    args = parser.parse_args()
    lexicon = Lexicon.from_file(DEFAULT_PATH)
    model = get_model(get_settings().resolved_models_dir)

    # A message is read as what it is: a customer's (the lexicon's categories about messages) or a draft
    # reply (those about replies); COLD's comments are messages.
    layers = {
        "lexicon": lambda t, d="in": bool(lexicon.check(t, d).categories),
        "semantic": lambda t, d="in": bool(model.categories(t)),
    }
    layers["both"] = lambda t, d="in": layers["lexicon"](t, d) or layers["semantic"](t, d)

    report: dict = {"corpus_test": {}, "cold_test": {}, "speed": {}}
    test = load_corpus(args.corpus)
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for example in test:
        groups[(example.label, example.lang)].append(example)
    print(f"corpus test: {len(test)} messages")
    print(f"{'category':<20}{'lang':<5}{'n':>5}" + "".join(f"{name:>10}" for name in layers) + "   (stopped)")
    for (label, lang), examples in sorted(groups.items()):
        row = {}
        for name, stops in layers.items():
            said = [stops(e.text, "out" if e.direction == "outbound" else "in") for e in examples]
            row[name] = round(100 * sum(said) / len(examples), 1)
        report["corpus_test"][f"{label}/{lang}"] = {"n": len(examples), **row}
        kind = "(false)" if label == "clean" else ""
        print(f"{label:<20}{lang:<5}{len(examples):>5}" + "".join(f"{row[n]:>9.1f}%" for n in layers) + f"   {kind}")
    # Which harmful category the semantic layer names, when it names one (a threat read as abuse still stops).
    named = [e for e in test if e.label != "clean"]
    exact = sum(e.label in model.categories(e.text) for e in named)
    print(f"semantic layer names the right category for {100 * exact / len(named):.1f}% of harmful messages")

    cold = load_cold("test")
    truth = [e.label == "abuse" for e in cold]
    offensive = model.offensive
    layers["COLD scorer"] = lambda t, d="in": offensive is not None and offensive.scores(t)["abuse"] >= 0.5
    for name in ("lexicon", "semantic", "COLD scorer"):
        said = [layers[name](e.text) for e in cold]
        tp = sum(s and t for s, t in zip(said, truth, strict=True))
        fp = sum(s and not t for s, t in zip(said, truth, strict=True))
        fn = sum(t and not s for s, t in zip(said, truth, strict=True))
        accuracy = sum(s == t for s, t in zip(said, truth, strict=True)) / len(cold)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        report["cold_test"][name] = {"accuracy": round(accuracy, 4), "f1": round(f1, 4), "recall": round(recall, 4)}
        print(f"COLD test ({len(cold)}), {name:<11} accuracy {100 * accuracy:.1f}%  F1 {f1:.3f}  recall {recall:.3f}")

    texts = [e.text for e in test] * 3
    latencies = []
    started = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        model.check(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    rate = len(texts) / (time.perf_counter() - started)
    p95 = statistics.quantiles(latencies, n=20)[18]
    report["speed"] = {"messages_per_s": round(rate), "p50_ms": round(statistics.median(latencies), 3), "p95_ms": p95}
    print(f"semantic layer, one message at a time, one core: {rate:,.0f} messages/s, "
          f"p50 {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms")  # fmt: skip
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
