"""Personal data in replies: phone numbers, Chinese ID numbers, bank cards, emails; found and masked."""

from __future__ import annotations

import re
from collections.abc import Iterable

from moderation.base import Hit

_CN_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d{4}){2})(?![\dA-Za-z])")
_INTL_PHONE = re.compile(r"(?<![\dA-Za-z+])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\dA-Za-z])")
_CN_ID = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{4})(\d{2})(\d{2})\d{3}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<![\dA-Za-z])\d(?:[\s-]?\d){12,18}(?![\dA-Za-z])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """The GB 11643 check digit of an 18-character Chinese resident ID."""
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _keep_last(text: str, keep: int, head: int = 0) -> str:
    """Star every digit but the first `head` and the last `keep`, keeping the layout ("**** 1234")."""
    seen, total = 0, sum(c.isdigit() for c in text)
    out = []
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= head or seen > total - keep else "*")
        else:
            out.append(c)
    return "".join(out)


def find_pii(text: str, allowed: Iterable[str] = ()) -> list[Hit]:
    """PII spans with their masked form; values in `allowed` (the customer's own facts) are left alone."""
    allow = {_digits(a) or a.lower() for a in allowed if a}
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, term: str, replacement: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        value = text[start:end]
        if (_digits(value) or value.lower()) in allow:
            return
        taken.append((start, end))
        hits.append(Hit("pii", "mask", start, end, term, replacement))

    for m in _CN_ID.finditer(text):
        month, day = int(m.group(3)), int(m.group(4))
        if 1 <= month <= 12 and 1 <= day <= 31 and id_checksum_ok(m.group(0)):
            add(m.start(), m.end(), "id_number", "*" * 14 + m.group(0)[-4:])
    for m in _CN_MOBILE.finditer(text):
        country_code = len(_digits(m.group(0))) - 11  # "+86 " keeps its digits: 138****5678
        add(m.start(), m.end(), "phone", _keep_last(m.group(0), 4, head=country_code + 3))
    for m in _INTL_PHONE.finditer(text):
        if 8 <= len(_digits(m.group(0))) <= 15:
            add(m.start(), m.end(), "phone", _keep_last(m.group(0), 4))
    for m in _CARD.finditer(text):
        digits = _digits(m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            add(m.start(), m.end(), "bank_card", _keep_last(m.group(0), 4))
    for m in _EMAIL.finditer(text):
        add(m.start(), m.end(), "email", f"{m.group(1)}***@{m.group(2)}")
    return sorted(hits, key=lambda h: h.start)
