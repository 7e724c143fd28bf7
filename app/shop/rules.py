"""Structured policy rules: the numbers and lists answers compute with, beside the articles that explain them.

An article says "returns within 7 days of delivery"; the rule `return_window_days: 7` lets a reply say
"delivered on 20 November, so until 27 November" for this customer's order. Rules are set in the admin
console, by the sync API or with `shopdesk seed --rules FILE.json`; a rule that an article contradicts is
flagged to the admin (`conflicts`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.grounding.intents import detect_intents
from app.models import ShopRule
from app.shop import repository
from app.shop.repository import audit
from app.shop.schemas import ShopRules, describe_error
from moderation.verifier import durations

RULE_KEYS = tuple(ShopRules.model_fields)
# Which articles state each day count: those whose title is about this topic.
_TOPICS = {"return_window_days": "return", "quality_window_days": "return", "price_protection_days": "price_protection"}


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(" ".join(v.split()).lower() for v in values if v.strip()))


def current(session: Session) -> ShopRules:
    """The rules in force (unset ones are None)."""
    stored = {row.key: row.value for row in session.scalars(select(ShopRule)) if row.key in RULE_KEYS}
    return ShopRules.model_validate(stored)


def read(session: Session) -> dict[str, Any]:
    rules = current(session)
    return {"rules": rules.model_dump(), "conflicts": conflicts(session, rules)}


def update(session: Session, body: Any, author: str) -> dict[str, Any]:
    """Set the rules given (`null` clears one); the rest stay. 422 names a bad rule and changes nothing."""
    if not isinstance(body, dict):
        raise AppError(422, "invalid_rules", "expected an object of rules")
    if isinstance(body.get("rules"), dict):
        body = body["rules"]  # what GET answers, sent back
    try:
        ShopRules.model_validate(body)
    except ValidationError as exc:
        raise AppError(422, "invalid_rules", describe_error(exc)) from None
    for key, value in body.items():
        row = session.get(ShopRule, key)
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        value = _clean(value) if isinstance(value, list) else value
        if row is None:
            session.add(ShopRule(key=key, value=value, updated_by=author))
        else:
            row.value, row.updated_by = value, author
    audit(session, author, "rules.update", "rules", body)
    session.flush()
    return read(session)


def load_file(session: Session, path: Path) -> dict[str, Any]:
    """`shopdesk seed --rules FILE.json`: the same object the API takes."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AppError(422, "invalid_rules", f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AppError(422, "invalid_rules", f"{path}: not valid JSON ({exc})") from None
    return update(session, body, author="seed")


def conflicts(session: Session, rules: ShopRules) -> list[dict[str, Any]]:
    """Articles on a rule's topic that state day counts, none of them the rule's: one of the two is out of date."""
    found: list[dict[str, Any]] = []
    articles = repository.all_articles(session)
    for key, topic in _TOPICS.items():
        days = getattr(rules, key)
        if days is None:
            continue
        for article in articles:
            if topic not in detect_intents(article.title):
                continue
            stated = sorted({d for d in durations(article.body) if d.endswith(" day") and "-" not in d})
            if stated and f"{days} day" not in stated:
                found.append(
                    {
                        "rule": key,
                        "value": days,
                        "article_id": article.id,
                        "article_says": [d.replace(" day", " days") for d in stated],
                        "message": f"{key} is {days}, but article {article.id} states "
                        + ", ".join(d.replace(" day", " days") for d in stated),
                    }
                )
    return found
