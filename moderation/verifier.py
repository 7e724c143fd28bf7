"""The verifier: every checkable claim in a reply must be backed by a fact the customer may see."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# A number, or an id/amount with digits: "A1023", "SF1234567890", "1,356.00", "7".
_CLAIM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{0,4}-?\d(?:[\d,]*\d)?(?:\.\d+)?(?![A-Za-z0-9])")


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
    unsupported = [c for c in claims if not (_canonical(c) & known)]
    score = 1.0 if not claims else 1.0 - len(unsupported) / len(claims)
    return Verification(score=round(score, 3), claims=claims, unsupported=unsupported)
