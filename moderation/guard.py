"""A guard model for production: Qwen3Guard-Gen served by vLLM's OpenAI-compatible API.

Qwen3Guard-Gen reads a conversation and answers in a fixed format (its model card):

    Safety: Unsafe
    Categories: Violent

for a customer's message (prompt moderation), and, when the last turn is the assistant's (response
moderation), the same lines plus `Refusal: Yes|No`. Safety is Safe, Unsafe or Controversial; the
categories are Violent, Non-violent Illegal Acts, Sexual Content or Sexual Acts, PII, Suicide & Self-Harm,
Unethical Acts, Politically Sensitive Topics, Copyright Violation, Jailbreak, or None.

Its verdicts map onto Shopdesk's (moderation/base.py): an Unsafe category takes the action configured
for the Shopdesk category it maps to; Controversial is a flag (a person looks before anything is sent).
The guard fails closed: a server that is down, slow past its timeout or answering something that is not
its format gives a `guard_unavailable` flag, which holds the reply for a person instead of sending it.
Settings: SHOPDESK_GUARD_URL (empty: no guard model), SHOPDESK_GUARD_MODEL, SHOPDESK_GUARD_API_KEY,
SHOPDESK_GUARD_TIMEOUT_S.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import httpx

from moderation.base import Action, Hit, Verdict, combine

log = logging.getLogger(__name__)

# Qwen3Guard's categories → Shopdesk's.
CATEGORIES = {
    "violent": "threat",
    "suicide & self-harm": "threat",
    "sexual content or sexual acts": "sexual",
    "non-violent illegal acts": "fraud",
    "jailbreak": "social_engineering",
    "unethical acts": "abuse",
    "pii": "pii",
    "politically sensitive topics": "sensitive",
    "copyright violation": "sensitive",
}
ACTIONS: dict[str, Action] = {
    "threat": "block",
    "sexual": "block",
    "abuse": "block",
    "fraud": "flag",
    "social_engineering": "flag",
    "pii": "flag",
    "sensitive": "flag",
}
UNAVAILABLE = "guard_unavailable"
_SAFETY = re.compile(r"^\s*Safety:\s*(Safe|Unsafe|Controversial)\s*$", re.IGNORECASE | re.MULTILINE)
_CATEGORIES = re.compile(r"^\s*Categories:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_REFUSAL = re.compile(r"^\s*Refusal:\s*(Yes|No)\s*$", re.IGNORECASE | re.MULTILINE)


class GuardFormatError(ValueError):
    """The guard's answer is not in Qwen3Guard's format."""


@dataclass
class GuardResult:
    safety: str  # safe | unsafe | controversial
    categories: list[str] = field(default_factory=list)  # Qwen3Guard's names, lower case
    refusal: bool | None = None  # response moderation only


def parse(output: str) -> GuardResult:
    """Qwen3Guard-Gen's answer as data; GuardFormatError when it isn't one."""
    safety = _SAFETY.search(output)
    if safety is None:
        raise GuardFormatError(f"no 'Safety:' line in the guard's answer: {output[:200]!r}")
    found = _CATEGORIES.search(output)
    names = [c.strip().lower() for c in found.group(1).split(",")] if found else []
    refusal = _REFUSAL.search(output)
    return GuardResult(
        safety=safety.group(1).lower(),
        categories=[c for c in names if c and c != "none"],
        refusal=None if refusal is None else refusal.group(1).lower() == "yes",
    )


def verdict_of(result: GuardResult, text: str) -> Verdict:
    """Shopdesk's verdict for the guard's: whole-message hits (nothing masked), reasons naming the guard."""
    if result.safety == "safe":
        return Verdict(masked_text=text)
    hits = []
    for name in result.categories or ["unspecified"]:
        category = CATEGORIES.get(name, "sensitive")
        action: Action = ACTIONS.get(category, "flag") if result.safety == "unsafe" else "flag"
        hits.append(Hit(category, action, 0, 0, f"guard:{result.safety}:{name}"))
    return combine(text, hits)


def unavailable(text: str, why: str) -> Verdict:
    """Fail closed: nothing the guard could not check goes out on its own."""
    return combine(text, [Hit(UNAVAILABLE, "flag", 0, 0, f"guard:{why}")])


class GuardClient:
    """Calls the guard model over the OpenAI-compatible chat API, once per check, within a timeout."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(2.0, timeout_s)),
            transport=transport,
        )

    def check_message(self, text: str) -> Verdict:
        """A customer's message (prompt moderation)."""
        return self._check([{"role": "user", "content": text}], text)

    def check_reply(self, question: str, reply: str) -> Verdict:
        """A reply the assistant would send, in the context of the customer's message (response moderation)."""
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
        return self._check(messages, reply)

    def _check(self, messages: list[dict[str, str]], text: str) -> Verdict:
        payload = {"model": self.model, "messages": messages, "max_tokens": 32, "temperature": 0.0}
        try:
            response = self._client.post("/chat/completions", json=payload)
            response.raise_for_status()
            output = response.json()["choices"][0]["message"]["content"] or ""
            return verdict_of(parse(output), text)
        except httpx.TimeoutException:
            log.warning("guard model timed out: holding")
            return unavailable(text, "timed out")
        except httpx.HTTPError as exc:
            log.warning("guard model unreachable (%s): holding", exc)
            return unavailable(text, f"unreachable: {type(exc).__name__}")
        except (GuardFormatError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("guard model answered outside its format (%s): holding", exc)
            return unavailable(text, "unreadable answer")

    def close(self) -> None:
        self._client.close()
