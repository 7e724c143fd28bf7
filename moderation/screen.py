"""One text through every moderation check, as `shopdesk moderate` and the admin API see it.

The lexicon (listed words, with jieba word starts for Chinese), injection patterns, look-alike links
(moderation/links.py), the semantic layer
(categories of harm in words no list names; moderation/classifier.py), the guard model when one is
configured (moderation/guard.py) and, for replies, personal data.
The turn (app/chat/turn.py) runs the same checks and adds its own policy on top: abuse with a real question
in it is answered through, scams and pretexts are never obeyed.
"""

from __future__ import annotations

from typing import Literal

from moderation.base import Verdict, combine
from moderation.classifier import SemanticModel
from moderation.guard import GuardClient
from moderation.injection import find_injection
from moderation.lexicon import Lexicon
from moderation.links import find_links
from moderation.pii import find_pii

Direction = Literal["in", "out"]


def screen(
    text: str,
    direction: Direction,
    lexicon: Lexicon,
    semantic: SemanticModel | None,
    guard: GuardClient | None = None,
    own_domains: tuple[str, ...] = (),
) -> Verdict:
    """The strongest action of every check, every category, and the reasons an agent is shown."""
    hits = lexicon.hits(text, direction) + find_injection(text) + find_links(text, own_domains)
    if direction == "out":
        hits += find_pii(text)  # replies mask personal data; customers may send their own
    if semantic is not None:
        hits += semantic.check(text).hits
    if guard is not None:
        hits += (guard.check_message(text) if direction == "in" else guard.check_reply("", text)).hits
    return combine(text, hits)


def reasons(verdict: Verdict) -> list[str]:
    """Why, one line per check that fired: "threat (semantic:threat:0.93)", "abuse (傻逼)"."""
    return list(dict.fromkeys(f"{h.category} ({h.term})" for h in verdict.hits))
