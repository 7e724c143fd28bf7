"""Safety figures on the labelled sets (bench/safety_data.py), and the speed of the checks.

    .venv/bin/python bench/safety.py

Prints moderation precision/recall per category (lexicon + PII + injection on each message), the
verifier/reranker's held-vs-sent precision/recall at the configured threshold (positive = held), wrong
replies sent and correct replies held, then throughput: the lexicon filter in messages/s on one core,
and verifier + reranker latency per candidate (generation excluded).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # noqa: E402
from bench.safety_data import MESSAGES, labelled_replies, score_reply  # noqa: E402
from moderation.injection import find_injection  # noqa: E402
from moderation.lexicon import DEFAULT_PATH, Lexicon  # noqa: E402
from moderation.pii import find_pii  # noqa: E402
from moderation.reranker import choose  # noqa: E402


def moderation_figures(lexicon: Lexicon) -> None:
    categories = sorted({c for _, cats in MESSAGES for c in cats})
    print(f"Moderation on {len(MESSAGES)} labelled messages")
    print(f"{'category':<12}{'precision':>10}{'recall':>8}{'  (tp/fp/fn)'}")
    for category in categories:
        tp = fp = fn = 0
        for text, expected in MESSAGES:
            found = {h.category for h in lexicon.hits(text) + find_pii(text) + find_injection(text)}
            tp += category in found and category in expected
            fp += category in found and category not in expected
            fn += category not in found and category in expected
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{category:<12}{precision:>10.2f}{recall:>8.2f}  ({tp}/{fp}/{fn})")
    innocent = [t for t, cats in MESSAGES if not cats]
    false_hits = [t for t in innocent if lexicon.hits(t) or find_injection(t)]
    print(f"innocent messages flagged: {len(false_hits)}/{len(innocent)} {false_hits or ''}")


def reply_figures(lexicon: Lexicon, threshold: float) -> None:
    items = labelled_replies()
    tp = fp = fn = 0
    wrong_sent, correct_held = [], []
    for scenario, label, text in items:
        score = score_reply(scenario, text, lexicon)
        held = choose([score], threshold)[0] != "sent"
        tp += held and label == "hold"
        fp += held and label == "send"
        fn += not held and label == "hold"
        if not held and label == "hold":
            wrong_sent.append(text)
        if held and label == "send":
            correct_held.append(text)
    correct = sum(label == "send" for _, label, _ in items)
    print(f"\nVerifier + reranker on {len(items)} labelled replies, threshold {threshold:.2f} (positive = held)")
    print(
        f"precision {tp / (tp + fp) if tp + fp else 1:.2f}, recall {tp / (tp + fn) if tp + fn else 1:.2f}; "
        f"wrong replies sent: {len(wrong_sent)}; correct replies held: {len(correct_held)}/{correct} "
        f"({100 * len(correct_held) / correct:.0f}%)"
    )
    for text in wrong_sent:
        print(f"  SENT though wrong: {text}")


def speed(lexicon: Lexicon) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    texts = [t for t, _ in MESSAGES]
    batch = (texts * (20000 // len(texts) + 1))[:20000]
    started = time.perf_counter()
    for text in batch:
        lexicon.check(text)
    rate = len(batch) / (time.perf_counter() - started)
    print(
        f"\nLexicon filter: {rate:,.0f} messages/s on one core ({len(batch)} messages, "
        f"{statistics.mean(len(t) for t in texts):.0f} characters on average)"
    )

    items = labelled_replies()
    timings = []
    for _ in range(10):
        for scenario, _, text in items:
            t0 = time.perf_counter()
            score = score_reply(scenario, text, lexicon)
            choose([score], 0.79)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    print(
        f"Verifier + reranker per candidate: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms ({len(timings)} candidates)"
    )


def main() -> int:
    lexicon = Lexicon.from_file(DEFAULT_PATH)
    moderation_figures(lexicon)
    reply_figures(lexicon, Settings().reply_threshold)
    speed(lexicon)
    return 0


if __name__ == "__main__":
    sys.exit(main())
