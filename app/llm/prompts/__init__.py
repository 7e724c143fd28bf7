"""Jinja2 templates: the LLM's prompt and the composer's phrasing."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROMPTS_DIR = Path(__file__).resolve().parent


@lru_cache
def environment() -> Environment:
    # Plain text out (never HTML), so no autoescape; untrusted text is delimited, not escaped.
    return Environment(
        loader=FileSystemLoader(PROMPTS_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context).strip()


def phrasebook(lang: str) -> Any:
    """The composer's macros for a language (zh or en)."""
    return environment().get_template(f"composer/{'zh' if lang == 'zh' else 'en'}.j2").module
