"""Jinja2 templates, and the LLM's prompt built from them: one builder for the turn, the training set and the
eval gate, so the model is trained and judged on the prompt it is sent in service."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.llm.base import ChatMessage

PROMPTS_DIR = Path(__file__).resolve().parent
HISTORY_MESSAGES = 6
SHOP_NAME = "the shop"
# ms-swift's placeholders for media, by content-part type: the OpenAI parts the turn sends a server, and the
# transformers-style parts (`{"type": "image", "image": path}`) the training set is built with.
MARKERS = {"image_url": "<image>", "image": "<image>", "input_audio": "<audio>", "audio": "<audio>"}
_TRAILING_MARKERS = re.compile("(?:<image>|<audio>)+\\Z")
_SLOT = "\x00"  # stands for the customer's text in customer.j2, to find what surrounds it
_FACTS_HEADING = "\nFACTS:\n"
_NO_FACTS = "- (none)"  # system.j2's line where there are no facts


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


def system_prompt(fact_lines: Sequence[str], lang: str) -> str:
    """The rules, in the customer's language, and the facts the reply may use."""
    return render("system.j2", facts=list(fact_lines), lang=lang, shop_name=SHOP_NAME)


def build_messages(
    fact_lines: Sequence[str],
    history: Sequence[Sequence[str]],
    customer_text: str,
    lang: str,
    attachments: Sequence[dict[str, Any]] = (),
) -> list[ChatMessage]:
    """The LLM prompt: rules and facts in the system message, the last HISTORY_MESSAGES messages of the
    conversation as (role, text), then the customer's text delimited as data, with their images and clips
    (content parts, in upload order) after it."""
    messages: list[ChatMessage] = [{"role": "system", "content": system_prompt(fact_lines, lang)}]
    for role, said in list(history)[-HISTORY_MESSAGES:]:
        messages.append({"role": "user" if role == "customer" else "assistant", "content": said})
    text = render("customer.j2", text=customer_text)
    content: str | list[dict[str, Any]] = [{"type": "text", "text": text}, *attachments] if attachments else text
    messages.append({"role": "user", "content": content})
    return messages


def marked(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """The prompt as ms-swift reads it: each media part replaced by its marker where the part stood (its file
    is listed beside the messages), so the model's template puts the media where the server's did."""
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = "".join(p["text"] if p["type"] == "text" else MARKERS[p["type"]] for p in content)
        out.append({"role": message["role"], "content": content})
    return out


def without_markers(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """A marked prompt as a text-only model is sent it: without the media markers that follow the customer's
    last message (the turn sends such a model the text alone; text the customer typed is left as it is)."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    return [
        {**m, "content": _TRAILING_MARKERS.sub("", m["content"])} if i == last else m for i, m in enumerate(messages)
    ]


# The inverse of build_messages, for a prompt read back from the training set (the eval gate scores a model's
# answer against the question and the facts the turn had).


def customer_text(messages: Sequence[ChatMessage]) -> str:
    """The customer's text build_messages wrapped (customer.j2) as the last user message: what the turn
    grounded and scored its candidates on. Media parts or markers after it are left out; "" without one."""
    last = next((m for m in reversed(messages) if m["role"] == "user"), None)
    if last is None:
        return ""
    content = last["content"]
    if isinstance(content, list):
        content = "".join(p["text"] for p in content if p["type"] == "text")
    content = _TRAILING_MARKERS.sub("", content)
    before, _, after = render("customer.j2", text=_SLOT).partition(_SLOT)
    if len(content) < len(before) + len(after) or not (content.startswith(before) and content.endswith(after)):
        return ""
    return content[len(before) : len(content) - len(after)]


def fact_lines(messages: Sequence[ChatMessage]) -> list[str]:
    """The fact lines in the system prompt (system.j2's FACTS list), as the turn passed them."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    _, heading, listed = system.partition(_FACTS_HEADING)
    lines = [line[2:] for line in listed.splitlines() if line.startswith("- ")] if heading else []
    return [] if listed.strip() == _NO_FACTS else lines


def prompt_language(messages: Sequence[ChatMessage]) -> str:
    """The language the system prompt's rules were written in ("zh" or "en")."""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    zh_rules = system_prompt([], "zh").partition(_FACTS_HEADING)[0]
    return "zh" if system.startswith(zh_rules) else "en"
