"""The moderation verdict: what every check returns, for customer input and for reply candidates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Action = Literal["allow", "mask", "flag", "block"]
# Stronger actions win when several checks disagree.
SEVERITY: dict[str, int] = {"allow": 0, "mask": 1, "flag": 2, "block": 3}


@dataclass(frozen=True)
class Hit:
    category: str
    action: Action
    start: int  # span in the original text
    end: int
    term: str
    replacement: str | None = None  # how to show the span when masked (default: stars)


@dataclass
class Verdict:
    action: Action = "allow"
    categories: list[str] = field(default_factory=list)
    masked_text: str = ""
    hits: list[Hit] = field(default_factory=list)
    preset_reply: str | None = None

    @property
    def flagged(self) -> bool:
        return self.action != "allow"

    @property
    def allowed(self) -> bool:
        return self.action != "block"

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "action": self.action,
            "categories": self.categories,
            "masked_text": self.masked_text,
        }


def combine(text: str, hits: list[Hit], mask_char: str = "*") -> Verdict:
    """One verdict from many hits: the strongest action, every category, masked spans replaced."""
    if not hits:
        return Verdict(masked_text=text)
    action: Action = max((h.action for h in hits), key=SEVERITY.__getitem__)
    categories = sorted({h.category for h in hits})
    out: list[str] = []
    cursor = 0
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if hit.action not in ("mask", "block") or hit.end <= cursor:
            continue  # flagged text stays readable
        start = max(hit.start, cursor)  # overlapping spans: mask the part not masked yet
        out.append(text[cursor:start])
        span = text[start : hit.end]
        if start == hit.start and hit.replacement is not None:
            out.append(hit.replacement)
        else:
            out.append("".join(c if c.isspace() else mask_char for c in span))
        cursor = hit.end
    out.append(text[cursor:])
    return Verdict(action=action, categories=categories, masked_text="".join(out), hits=hits)
