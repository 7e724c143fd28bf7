"""Calibrate the send threshold (SHOPDESK_REPLY_THRESHOLD) on the labelled replies.

    .venv/bin/python bench/calibrate.py

Scores every labelled candidate with the real reranker, sweeps the threshold, and recommends the one
that sends no `hold` reply and holds the fewest `send` replies (ties: the middle of the best range, so
neither edge is a hair away).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.safety_data import labelled_replies, score_reply  # noqa: E402
from moderation.lexicon import DEFAULT_PATH, Lexicon  # noqa: E402
from moderation.reranker import CandidateScore, choose  # noqa: E402


def scored_set(lexicon: Lexicon) -> list[tuple[str, CandidateScore]]:
    return [(label, score_reply(s, text, lexicon)) for s, label, text in labelled_replies()]


def outcome(items: list[tuple[str, CandidateScore]], threshold: float) -> tuple[int, int, int, int]:
    """(wrong sent, correct held, correct total, wrong total) at this threshold."""
    wrong_sent = correct_held = 0
    for label, score in items:
        status = choose([score], threshold)[0]
        wrong_sent += label == "hold" and status == "sent"
        correct_held += label == "send" and status != "sent"
    correct = sum(label == "send" for label, _ in items)
    return wrong_sent, correct_held, correct, len(items) - correct


def main() -> int:
    items = scored_set(Lexicon.from_file(DEFAULT_PATH))
    rows = []
    for step in range(30, 100):
        threshold = step / 100
        rows.append((threshold, *outcome(items, threshold)))
    print(f"{'threshold':>9} {'wrong sent':>10} {'correct held':>12}")
    for threshold, wrong, held, correct, _ in rows[::5]:
        print(f"{threshold:>9.2f} {wrong:>10} {held:>5}/{correct:<6}")
    feasible = [r for r in rows if r[1] == 0]
    if not feasible:
        print("no threshold sends zero wrong replies: the verifier, not the threshold, must catch them")
        return 1
    fewest = min(r[2] for r in feasible)
    best = [r[0] for r in feasible if r[2] == fewest]
    pick = best[len(best) // 2]
    print(
        f"\nrecommended SHOPDESK_REPLY_THRESHOLD={pick:.2f} (zero wrong sent, {fewest} of {rows[0][3]} "
        f"correct replies held; equally good from {best[0]:.2f} to {best[-1]:.2f})"
    )
    for label, score in items:
        if label == "send" and choose([score], pick)[0] != "sent":
            print(f"  held though correct: score {score.score:.2f} {score.reasons or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
