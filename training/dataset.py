"""Training data from logged turns: ms-swift JSONL (`messages`, `images`, `audios`) and preference pairs.

A turn counts when its final reply reached the customer: auto-sent and not thumbed down, approved, or
edited by an agent. Preference pairs (for DPO) come from edits (chosen = the edit, rejected = the model's
candidate) and from rejections that sent the agent's own reply (chosen = that reply, rejected = the
candidate); a rejection gives a pair only, not a fine-tuning example. Its prompt is the one the turn
sent: rebuilt from the turn's record (facts' lines, history, text, language, media) by the turn's own
builder (app/llm/prompts), the media as markers after the customer's text. Text is PII-scrubbed, examples
are deduplicated, and the split is by conversation, so no conversation is in both train and eval.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat import repository as chat_repository
from app.llm import prompts
from app.models import Attachment, Feedback, Message, Review
from app.perception.media import stored_path
from moderation.base import combine
from moderation.pii import find_pii


@dataclass
class DatasetConfig:
    out_dir: Path
    eval_fraction: float = 0.2
    data_dir: Path = Path("data")


@dataclass
class Example:
    conversation_id: str
    messages: list[dict[str, str]]
    images: list[str] = field(default_factory=list)
    audios: list[str] = field(default_factory=list)
    rejected: str | None = None  # the model's candidate an agent replaced
    pair_only: bool = False  # a rejection: a preference pair, not a fine-tuning example

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.messages, ensure_ascii=False).encode()).hexdigest()


@dataclass
class DatasetInfo:
    train_path: Path
    eval_path: Path
    preferences_path: Path
    train: int
    eval: int
    preferences: int
    sha256: str


def scrub(text: str, keep: list[str]) -> str:
    """Mask personal data, keeping the values the turn's facts show (tracking numbers and the like)."""
    return combine(text, find_pii(text, keep)).masked_text


def kept_values(fact_lines: list[str]) -> list[str]:
    """The values scrub() leaves alone: the words with digits in the facts the customer was shown."""
    return [v for line in fact_lines for v in line.split() if any(c.isdigit() for c in v)]


def scrub_prompt(messages: list[dict[str, str]], keep: list[str]) -> list[dict[str, str]]:
    """The prompt with scrub() applied to the conversation's messages (the system prompt holds only the rules
    and the customer's own facts)."""
    return [m if m["role"] == "system" else {**m, "content": scrub(m["content"], keep)} for m in messages]


def _final_replies(session: Session) -> list[tuple[Message, str, str | None, bool]]:
    """(the held or sent reply, the text the customer got, the model text an agent replaced, whether only as
    a preference pair: a rejection's reply is the agent's own, sent instead of a proposal it refused)."""
    thumbs_down = select(Feedback.message_id).where(Feedback.rating == "down")
    sent = session.scalars(
        select(Message)
        .where(Message.role == "assistant", Message.status == "sent", Message.turn.is_not(None))
        .where(Message.id.not_in(thumbs_down))
    ).all()
    out: list[tuple[Message, str, str | None, bool]] = [(m, m.text, None, False) for m in sent]
    decided = session.execute(
        select(Review, Message)
        .join(Message, Message.id == Review.message_id)
        .where(Review.status.in_(("approved", "edited", "rejected")), Review.final_text.is_not(None))
    ).all()
    for review, held in decided:
        replaced = review.candidate_text.strip() if review.status != "approved" else ""
        if review.status == "rejected" and not replaced:
            continue  # no proposal was refused: nothing to prefer the agent's reply over
        out.append((held, review.final_text or "", replaced or None, review.status == "rejected"))
    return out


def collect(session: Session, data_dir: Path) -> list[Example]:
    """One example per final reply: the prompt the turn sent (rebuilt from its record by the turn's own
    builder, its media as ms-swift markers and files), scrubbed, and the reply the customer got."""
    examples: dict[str, Example] = {}
    for reply, final, replaced, pair_only in _final_replies(session):
        record = reply.turn or {}
        question = session.get(Message, reply.reply_to_id) if reply.reply_to_id else None
        if question is None or not final.strip():
            continue
        keep = kept_values(record.get("fact_lines", []))
        parts = [_media_part(data_dir, m) for m in _media(session, record, question)]
        prompt = prompts.build_messages(
            record.get("fact_lines", []),
            _history(session, record, question),
            record.get("text") or question.text,
            record.get("lang", "en"),
            parts,
        )
        answer = {"role": "assistant", "content": scrub(final, keep)}
        example = Example(
            conversation_id=reply.conversation_id,
            messages=[*scrub_prompt(prompts.marked(prompt), keep), answer],
            images=[p["image"] for p in parts if p["type"] == "image"],
            audios=[p["audio"] for p in parts if p["type"] == "audio"],
            rejected=scrub(replaced, keep) if replaced else None,
            pair_only=pair_only,
        )
        examples.setdefault(example.key(), example)  # the same turn twice teaches nothing new
    return list(examples.values())


def _history(session: Session, record: dict[str, Any], question: Message) -> list[list[str]]:
    """The conversation the turn was sent; for turns logged before it was recorded, as the database has it now."""
    if "history" in record:
        return record["history"]
    earlier = chat_repository.history(session, question.conversation_id, question.id, prompts.HISTORY_MESSAGES)
    return [list(pair) for pair in earlier]


def _media(session: Session, record: dict[str, Any], question: Message) -> list[dict[str, str]]:
    """The customer's images and clips in the turn's prompt, in upload order (for older turns: the message's)."""
    if "media" in record:
        return record["media"]
    attachments = session.scalars(
        select(Attachment).where(Attachment.message_id == question.id).order_by(Attachment.id)
    ).all()
    return [{"kind": a.kind, "mime": a.mime, "sha256": a.sha256} for a in attachments]


def _media_part(data_dir: Path, media: dict[str, str]) -> dict[str, str]:
    """A stored file as a content part that names it (`{"type": "image", "image": path}`)."""
    path = str(stored_path(data_dir, media["sha256"], media["mime"]))
    return {"type": media["kind"], media["kind"]: path}


FEW_CONVERSATIONS = 20


def split(examples: list[Example], eval_fraction: float) -> tuple[list[Example], list[Example]]:
    """By conversation, stably: a conversation's hash decides its side.

    Many conversations: those hashing below eval_fraction go to eval, so a conversation keeps its side as the
    data grows (the active model, trained in an earlier run, is then never judged on what it trained on).
    Few (under FEW_CONVERSATIONS): a threshold's luck could send most of them to eval and leave nothing to
    train on, so the round(fraction × n) lowest hashes go there instead, at least one when there are two.
    """

    def side(conversation_id: str) -> float:
        return int(hashlib.sha256(conversation_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    conversations = sorted({e.conversation_id for e in examples}, key=side)
    if len(conversations) >= FEW_CONVERSATIONS:
        held_out = {c for c in conversations if side(c) < eval_fraction} or (
            {conversations[0]} if eval_fraction > 0 else set()
        )
    elif eval_fraction > 0 and len(conversations) > 1:
        held_out = set(conversations[: max(1, round(eval_fraction * len(conversations)))])
    else:
        held_out = set()
    train = [e for e in examples if e.conversation_id not in held_out]
    evaluation = [e for e in examples if e.conversation_id in held_out]
    return train, evaluation


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(session: Session, config: DatasetConfig) -> DatasetInfo:
    examples = collect(session, config.data_dir)
    train, evaluation = split(examples, config.eval_fraction)

    def row(e: Example) -> dict[str, Any]:
        return {"messages": e.messages, "images": e.images, "audios": e.audios}

    paths = (config.out_dir / "train.jsonl", config.out_dir / "eval.jsonl", config.out_dir / "preferences.jsonl")
    train_rows = [row(e) for e in train if not e.pair_only]
    eval_rows = [row(e) for e in evaluation if not e.pair_only]
    _write(paths[0], train_rows)
    _write(paths[1], eval_rows)
    # The prompt as the turn sent it (the example's own), the reply the customer got, the candidate it replaced.
    preferences = [
        {"messages": e.messages[:-1], "chosen": e.messages[-1]["content"], "rejected": e.rejected}
        for e in train
        if e.rejected and e.rejected != e.messages[-1]["content"]
    ]
    _write(paths[2], preferences)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
    return DatasetInfo(*paths, len(train_rows), len(eval_rows), len(preferences), digest)
