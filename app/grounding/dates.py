"""When the customer says their order arrived: "got it on Nov 24", "it came end of October", "前两天刚签收的".

A return window counts from delivery. When the shop recorded no delivery date, the customer's own account is
the best there is, and it is often given in the question itself. It is read as a range of days (earliest,
latest): "last week" is not a day, and a verdict is given only where the whole range agrees
(app/grounding/rules.py). Only a time said next to an arrival word counts: "I ordered it last week" says when
it was bought, not when it came.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from app.grounding.text import normalize

_ARRIVED = re.compile(
    r"\b(?:got|gotten|received|recieved|arrived|arrive|came|delivered|showed up|turned up|landed|had (?:it|them))\b"
    r"|签收|收到|到货|送到|送达|到的|到了",
    re.IGNORECASE,
)
NEAR = 30  # characters between the arrival word and the time it is said with
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
_ZH_NUMBER = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_COUNT = r"(\d{1,2}|a|an|one|two|three|four|five|six|couple of|few|[一两二三四五六七八九十])"
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

# Each pattern and how it maps onto a range of days: (match, today) -> (earliest, latest).
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "iso"),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"), "month_day"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"), "day_month"),
    (re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[号日]"), "zh_month_day"),
    (re.compile(rf"\b(?:the\s+)?(end|beginning|start|early|mid|middle|late)(?:\s+of)?\s+{_MONTH}"), "part_month"),
    (re.compile(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月\s*(初|上旬|中旬|中|下旬|底|末)"), "zh_part_month"),
    (re.compile(rf"\b(?:in|during|back in)\s+{_MONTH}"), "month"),
    (re.compile(r"\byesterday\b|昨天"), "yesterday"),
    (re.compile(r"\btoday\b|今天"), "today"),
    (
        re.compile(r"\b(?:a\s+)?(?:couple of|few)\s+days\s+ago\b|\bthe other day\b|前两天|前几天|这两天|前天"),
        "days_few",
    ),
    (re.compile(r"\blast week\b|上周|上个星期|上星期|上礼拜"), "last_week"),
    (re.compile(r"\blast month\b|上个月|上月"), "last_month"),
    (re.compile(rf"\b{_COUNT}\s+(day|week|month)s?\s+ago\b"), "ago"),
    (re.compile(r"([一两二三四五六七八九十\d]{1,2})\s*(天|周|个星期|星期|个月|个多月)前"), "zh_ago"),
    (re.compile(r"半个月前"), "half_month"),
    (re.compile(rf"\b(?:for|been)\s+(?:about\s+|like\s+)?{_COUNT}\s+(day|week|month)s?\b"), "for"),
    (
        re.compile(
            r"(?:签收|收到|到货)(?:了|都)?(?:已经)?\s*([一两二三四五六七八九十\d]{1,2})\s*(天|周|个星期|星期|个月|个多月)"
        ),
        "zh_for",
    ),
]


def _count(word: str) -> int:
    word = word.strip().lower()
    if word.isdigit():
        return int(word)
    if word in ("couple of",):
        return 2
    if word in ("few",):
        return 3
    if word in _WORDS:
        return _WORDS[word]
    if word.startswith("十") and len(word) == 2:
        return 10 + _ZH_NUMBER.get(word[1], 0)
    return _ZH_NUMBER.get(word, 0)


def _past(month: int, day: int, today: date) -> date | None:
    """The most recent such day on or before today (a customer talks about a delivery that happened)."""
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate <= today:
            return candidate
    return None


def _month_range(month: int, first: int, last: int | None, today: date) -> tuple[date, date] | None:
    start = _past(month, first, today)
    if start is None:
        return None
    end_day = last or calendar.monthrange(start.year, month)[1]
    end = min(date(start.year, month, min(end_day, calendar.monthrange(start.year, month)[1])), today)
    return start, end


_PARTS: dict[str, tuple[int, int | None]] = {
    "beginning": (1, 10),
    "start": (1, 10),
    "early": (1, 10),
    "mid": (11, 20),
    "middle": (11, 20),
}
_PARTS.update({"end": (21, None), "late": (21, None), "初": (1, 10), "上旬": (1, 10), "中旬": (11, 20)})
_PARTS.update({"中": (11, 20), "下旬": (21, None), "底": (21, None), "末": (21, None)})
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "天": 1, "周": 7, "个星期": 7, "星期": 7, "个月": 30, "个多月": 30}


def _range(kind: str, match: re.Match[str], today: date) -> tuple[date, date] | None:
    g = match.groups()
    if kind == "iso":
        try:
            day = date(int(g[0]), int(g[1]), int(g[2]))
        except ValueError:
            return None
        return (day, day) if day <= today else None
    if kind in ("month_day", "day_month", "zh_month_day"):
        month_name, number = (g[1], g[0]) if kind == "day_month" else (g[0], g[1])
        month = int(month_name) if kind == "zh_month_day" else _MONTHS.get(month_name[:4].rstrip("."), 0)
        month = month or _MONTHS.get(month_name[:3], 0)
        found = _past(month, int(number), today) if 1 <= month <= 12 else None
        return (found, found) if found else None
    if kind in ("part_month", "zh_part_month"):
        part, month_name = (g[0], g[1]) if kind == "part_month" else (g[1], g[0])
        if kind == "part_month":
            month = _MONTHS.get(month_name[:3], 0)
        else:
            month = int(month_name) if month_name.isdigit() else _count(month_name)
        first, last = _PARTS[part.lower()]
        return _month_range(month, first, last, today) if 1 <= month <= 12 else None
    if kind == "month":
        month = _MONTHS.get(g[0][:3], 0)
        return _month_range(month, 1, None, today) if month else None
    if kind == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if kind == "today":
        return today, today
    if kind == "days_few":
        return today - timedelta(days=5), today - timedelta(days=1)
    if kind == "last_week":
        return today - timedelta(days=13), today - timedelta(days=4)
    if kind == "last_month":
        return today - timedelta(days=62), today - timedelta(days=20)
    if kind == "half_month":
        return today - timedelta(days=18), today - timedelta(days=12)
    if kind in ("ago", "zh_ago", "for", "zh_for"):
        count, unit = _count(g[0]), g[1]
        days = count * _UNIT_DAYS.get(unit.lower(), 0)
        if days <= 0:
            return None
        slack = 0 if unit.lower() in ("day", "天") else max(2, days // 7)  # "3 weeks" is not to the day
        if unit in ("个多月",):
            return today - timedelta(days=days + 20), today - timedelta(days=days)
        return today - timedelta(days=days + slack), today - timedelta(days=max(days - slack, 0))
    return None


def delivered_said(text: str, today: date) -> tuple[date, date] | None:
    """(earliest, latest) day the customer says the order arrived, or None when they don't say."""
    folded = normalize(text).lower()
    arrivals = [m.span() for m in _ARRIVED.finditer(folded)]
    if not arrivals:
        return None
    for pattern, kind in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            near = any(
                (a_start - end) <= NEAR and (start - a_end) <= NEAR for a_start, a_end in arrivals
            )  # the arrival word within NEAR characters before or after the time
            if near and (found := _range(kind, match, today)) is not None:
                return found
    return None
