"""Per-day figures for the admin console: volume, auto-sent vs held, agent edits, feedback, latency."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import as_utc, utcnow
from app.models import Conversation, Feedback, Message, Review

STAGES = ("perceive_ms", "ground_ms", "generate_ms", "decide_ms", "total_ms")


def _day(value: datetime) -> date:
    return as_utc(value).astimezone(UTC).date()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def daily(session: Session, days: int = 14) -> dict[str, Any]:
    """One row per day (UTC) over the last `days` days, oldest first."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    rows: dict[date, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for i in range(days):
        rows[first + timedelta(days=i)]["conversations"] += 0  # every day of the range has a row
    latency: dict[date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    moderation: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    for (created,) in session.execute(select(Conversation.created_at).where(Conversation.created_at >= since)):
        rows[_day(created)]["conversations"] += 1
    messages = select(Message.created_at, Message.role, Message.status, Message.turn).where(Message.created_at >= since)
    for created, role, status, turn in session.execute(messages):
        row = rows[_day(created)]
        if role == "customer":
            row["customer_messages"] += 1
        elif role == "assistant" and turn is not None:  # a turn's own reply (not an approved one)
            row[{"sent": "auto_sent", "pending_review": "held", "blocked": "blocked"}.get(status, "other")] += 1
            for category in (turn.get("inbound") or {}).get("categories") or []:
                moderation[_day(created)][category] += 1  # what moderation found in the customer's message
            for stage, ms in (turn.get("timings") or {}).items():
                if stage in STAGES and isinstance(ms, int | float):
                    latency[_day(created)][stage].append(float(ms))
    decided = select(Review.decided_at, Review.status).where(Review.decided_at >= since)
    for decided_at, status in session.execute(decided):
        if decided_at is not None:
            rows[_day(decided_at)][status] += 1
    for created, rating in session.execute(
        select(Feedback.created_at, Feedback.rating).where(Feedback.created_at >= since)
    ):
        rows[_day(created)][f"feedback_{rating}"] += 1

    out = []
    for day, row in sorted(rows.items()):
        if not first <= day <= today:
            continue  # a clock a little ahead
        replies = row["auto_sent"] + row["held"]
        reviewed = row["approved"] + row["edited"] + row["rejected"]
        out.append(
            {
                "day": day.isoformat(),
                "conversations": row["conversations"],
                "customer_messages": row["customer_messages"],
                "auto_sent": row["auto_sent"],
                "held": row["held"],
                "blocked": row["blocked"],
                "held_rate": round(row["held"] / replies, 3) if replies else None,
                "approved": row["approved"],
                "edited": row["edited"],
                "rejected": row["rejected"],
                "edit_rate": round((row["edited"] + row["rejected"]) / reviewed, 3) if reviewed else None,
                "feedback_up": row["feedback_up"],
                "feedback_down": row["feedback_down"],
                "latency_p50_ms": {s: _percentile(v, 0.5) for s, v in latency[day].items()},
                "latency_p95_ms": {s: _percentile(v, 0.95) for s, v in latency[day].items()},
                "moderation": dict(moderation[day]),
            }
        )
    totals: dict[str, int] = defaultdict(int)
    for entry in out:
        for category, count in entry["moderation"].items():
            totals[category] += count
    return {"days": out, "stages": list(STAGES), "moderation": dict(sorted(totals.items()))}
