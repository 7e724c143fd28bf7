"""The verifier: every checkable claim in a reply must be backed by a fact the customer may see."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# An amount ("1,356.00"), or any token with a digit: ids, tracking and invoice numbers, dates.
_CLAIM = re.compile(
    r"(?<![A-Za-z0-9.])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|[A-Za-z0-9]*\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?:\.\d+)?)"
    r"(?![A-Za-z0-9])"
)


@dataclass
class Verification:
    score: float  # 1.0 when every claim is backed (or there are none)
    claims: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def _canonical(token: str) -> set[str]:
    """The forms a claim may take in the facts: '1,356.00' ~ '1356.00' ~ '1356'."""
    token = token.replace(",", "").upper().lstrip("-")
    forms = {token}
    if re.fullmatch(r"\d+\.\d+", token):
        whole, _, frac = token.partition(".")
        if not frac.strip("0"):
            forms.add(whole)
        forms.add(f"{float(token):.2f}")
    elif token.isdigit():
        forms.add(f"{token}.00")
    return forms


def _backed(claim: str, known: set[str]) -> bool:
    if _canonical(claim) & known:
        return True
    parts = claim.split("-")
    # A range or date written differently from the facts ("3-5" for "3 to 5"): each number must be known.
    return len(parts) > 1 and all(p.isdigit() and _canonical(p) & known for p in parts)


def extract_claims(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text)
    return [m.group(0) for m in _CLAIM.finditer(folded)]


def verify(reply: str, fact_texts: Iterable[str]) -> Verification:
    """Check the reply's numbers and ids against the facts' text."""
    known: set[str] = set()
    for text in fact_texts:
        for claim in extract_claims(text):
            known |= _canonical(claim)
    claims = extract_claims(reply)
    unsupported = [c for c in claims if not _backed(c, known)]
    score = 1.0 if not claims else 1.0 - len(unsupported) / len(claims)
    return Verification(score=round(score, 3), claims=claims, unsupported=unsupported)
