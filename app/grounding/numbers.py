"""Amounts said in words, written as numbers: "eighty-nine dollars fifty" → "$89.50", "两百零五块五" → "205.50元".

Speech recognition writes amounts the way they were said, and customers type them that way too (Chinese
customers especially: "两百块"). The references resolver and the verifier compare amounts as numbers, so
the words are turned into digits first. Only number words next to a currency word (or, in Chinese, numerals
with a unit such as 百 or 千, or followed by 元/块) are converted: "one of them", "十分满意" and "一下" stay.
"""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES, r"\d+", "a"])
# A cardinal in words: "two hundred and five", "eighty-nine", "a hundred", "1 thousand two hundred".
_CARDINAL = rf"(?:{_NUMBER_WORD})(?:(?:\s+|-|\s+and\s+)(?:{_NUMBER_WORD}))*"
_MAJOR = r"dollars?|bucks|euros?|pounds?|yuan|rmb|kuai"
_MINOR = r"cents?|pence|p"
# "eighty-nine dollars fifty", "89 dollars and 50 cents", "five dollars", "fifty cents"
_EN_AMOUNT = re.compile(
    rf"\$(?P<dollars>\d+)\s+and\s+(?P<and_cents>{_CARDINAL})\s+(?:{_MINOR})\b"
    rf"|\b(?P<major>{_CARDINAL})\s+(?P<currency>{_MAJOR})\b(?:\s*(?:and\s+)?(?P<minor>{_CARDINAL})(?:\s+(?:{_MINOR}))?\b)?"
    rf"|\b(?P<cents>{_CARDINAL})\s+(?:{_MINOR})\b",
    re.IGNORECASE,
)
_SYMBOLS = {"dollar": "$", "buck": "$", "euro": "€", "pound": "£", "yuan": "¥", "rmb": "¥", "kuai": "¥"}


def _cardinal(words: str) -> int | None:
    """ "two hundred and five" → 205; None when the words are not one number ("one two" is two numbers)."""
    total, current, last = 0, 0, ""
    for i, word in enumerate(w for w in re.split(r"\s+and\s+|[\s-]+", words.lower().strip()) if w):
        if word == "a":
            if i:
                return None
            current = 1  # "a hundred"
        elif word.isdigit():
            if current and last not in _SCALES:
                return None
            current += int(word)
        elif word in _UNITS:
            after_tens = last in _TENS and _UNITS[word] < 10
            if current % 100 and not after_tens:
                return None
            current += _UNITS[word]
        elif word in _TENS:
            if current % 100:
                return None
            current += _TENS[word]
        elif word == "hundred":
            if current >= 100:
                return None
            current = max(current, 1) * 100
        elif word == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        else:
            return None
        last = word
    return total + current


def _english(match: re.Match[str]) -> str:
    if match.group("dollars"):  # "$89 and 50 cents"
        cents = _cardinal(match.group("and_cents"))
        return match.group(0) if cents is None or cents >= 100 else f"${match.group('dollars')}.{cents:02d}"
    if match.group("cents"):
        cents = _cardinal(match.group("cents"))
        return match.group(0) if cents is None or cents >= 100 else f"${Decimal(cents) / 100:.2f}"
    major = _cardinal(match.group("major"))
    minor = _cardinal(match.group("minor")) if match.group("minor") else 0
    if major is None or minor is None or minor >= 100:
        return match.group(0)
    symbol = _SYMBOLS.get(match.group("currency").lower().rstrip("s"), "$")
    return f"{symbol}{major}.{minor:02d}" if minor else f"{symbol}{major}"


ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千万"
# A numeral with a unit in it ("两百零五", "三十"), or any numeral before 元/块 ("五块"); then the jiao/fen:
# "块五" (the digit after 块 is jiao), "四毛", "五角", "三分".
_ZH_AMOUNT = re.compile(
    rf"(?P<major>[一二两三四五六七八九十][{_ZH_NUMERAL}]*)(?P<currency>块钱|块|元|圆)?"
    rf"(?:(?P<jiao>[一二两三四五六七八九])(?:毛|角)?)?(?:(?P<fen>[一二三四五六七八九])分)?"
)


def _zh_integer(numeral: str) -> int | None:
    """ "两百零五" → 205, "一千二" → 1200, "三万五千" → 35000; None when it is not one number."""
    total, section, digit, last_unit = 0, 0, None, 0
    for char in numeral:
        if char in ZH_DIGITS:
            if digit is not None and char not in "零〇":
                return None  # "一二" is two digits, not a number with units
            digit = ZH_DIGITS[char] if char not in "零〇" else None
        elif char in _ZH_UNIT:
            unit = _ZH_UNIT[char]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, last_unit = 0, None, 10000
        else:
            return None
    if digit is not None and last_unit >= 100 and numeral[-2] not in "零〇":
        digit *= last_unit // 10  # "一千二" is 1200, "两百五" is 250
    return total + section + (digit or 0)


def _chinese(match: re.Match[str]) -> str:
    major, currency = match.group("major"), match.group("currency")
    has_unit = any(c in _ZH_UNIT or c == "万" for c in major)
    if not currency and (not has_unit or len(major) < 2 or match.group("jiao") or match.group("fen")):
        return match.group(0)  # "十分", "一下", "三" alone: not an amount
    value = _zh_integer(major)
    if value is None:
        return match.group(0)
    jiao = ZH_DIGITS[match.group("jiao")] if match.group("jiao") else 0
    fen = ZH_DIGITS[match.group("fen")] if match.group("fen") else 0
    if not currency:
        return f"{value}"
    cents = jiao * 10 + fen
    return f"{value}.{cents:02d}元" if cents else f"{value}元"


# A decimal comma, as much of Europe writes prices ("39,99"): two digits after it, so "1,299" is left alone.
_DECIMAL_COMMA = re.compile(r"(?<![\d.,])(\d{1,6}),(\d{2})(?![\d,])")


def amounts_as_numbers(text: str) -> str:
    """Amounts written in words become digits (and Chinese numerals with a unit, "三十天" → "30天"), decimal
    commas points ("39,99" → "39.99"); the rest of the text is left as it is."""
    text = _DECIMAL_COMMA.sub(r"\1.\2", text)
    text = _EN_AMOUNT.sub(_english, text)
    return _ZH_AMOUNT.sub(_chinese, text)
