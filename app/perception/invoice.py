"""Invoice fields from OCR boxes: geometry (rows, right-of, below) and cross-checks, zh and en.

Labels and values come back as separate boxes ("Amount Due (USD)" | "$186.29"), so each field is read
from the label's own box, then the boxes right of it on its row, then the box below it. Boxes are
straightened by their median angle first: a 3° tilt otherwise breaks the rows. The total is checked
against the Chinese uppercase amount (价税合计（大写）) and against net + tax; a disagreement lowers the
field's confidence and is reported in `checks` rather than guessed away.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.grounding.numbers import ZH_DIGITS
from app.perception.ocr import OcrBox

FIELDS = ("number", "code", "date", "seller", "seller_tax_id", "buyer", "buyer_tax_id", "total", "tax", "currency")
_AMOUNT = re.compile(r"(?<![\d.])[-]?(\d{1,3}(?:[,，]\d{3})+|\d+)[.．](\d{2})(?!\d)")
_CN_DIGITS = {  # 大写 digits on invoices, and the ordinary ones (app/grounding/numbers.py reads amounts said)
    **ZH_DIGITS,
    **dict(zip("壹贰叁肆伍陆柒捌玖", range(1, 10), strict=True)),
}
_CN_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_CN_AMOUNT = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正]{2,}")
_MONTHS = {
    m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
}


@dataclass
class Placed:
    text: str
    score: float
    x0: float
    x1: float
    cy: float
    h: float


def _straighten(boxes: list[OcrBox]) -> list[Placed]:
    wide = [b.angle for b in boxes if _width(b) > 2 * _height(b)]
    angle = statistics.median(wide) if wide else 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)
    placed = []
    for box in boxes:
        xs, ys = [], []
        for x, y in box.points:
            xs.append(x * cos - y * sin)
            ys.append(x * sin + y * cos)
        placed.append(Placed(box.text.strip(), box.score, min(xs), max(xs), sum(ys) / len(ys), max(ys) - min(ys)))
    return placed


def _width(box: OcrBox) -> float:
    return math.dist(box.points[0], box.points[1])


def _height(box: OcrBox) -> float:
    return math.dist(box.points[1], box.points[2])


def group_rows(placed: list[Placed]) -> list[list[Placed]]:
    """Rows of boxes, top to bottom, each left to right."""
    if not placed:
        return []
    tolerance = 0.55 * statistics.median(p.h for p in placed)
    rows: list[list[Placed]] = []
    for box in sorted(placed, key=lambda p: p.cy):
        if rows and abs(box.cy - statistics.mean(p.cy for p in rows[-1])) <= tolerance:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [sorted(row, key=lambda p: p.x0) for row in rows]


def parse_amount(text: str) -> Decimal | None:
    match = _AMOUNT.search(text.replace(" ", ""))
    if not match:
        return None
    try:
        return Decimal(f"{match.group(1).replace(',', '').replace('，', '')}.{match.group(2)}")
    except InvalidOperation:
        return None


def parse_chinese_amount(text: str) -> Decimal | None:
    """壹仟叁佰伍拾陆圆整 → 1356.00; None when the text isn't an uppercase amount."""
    match = _CN_AMOUNT.search(text)
    if not match:
        return None
    s = match.group(0)
    yuan_part, _, rest = s.replace("元", "圆").partition("圆")
    if not _:
        return None

    def integer(part: str) -> int:
        total, section, digit = 0, 0, 0
        for ch in part:
            if ch in _CN_DIGITS:
                digit = _CN_DIGITS[ch]
            elif ch in _CN_UNITS:
                section += (digit or 1) * _CN_UNITS[ch]
                digit = 0
            elif ch == "万":
                total += (section + digit) * 10000
                section, digit = 0, 0
            elif ch == "亿":
                total = (total + section + digit) * 100000000
                section, digit = 0, 0
        return total + section + digit

    cents = 0
    jiao = re.search(r"([零壹贰叁肆伍陆柒捌玖])角", rest)
    fen = re.search(r"([零壹贰叁肆伍陆柒捌玖])分", rest)
    if jiao:
        cents += _CN_DIGITS[jiao.group(1)] * 10
    if fen:
        cents += _CN_DIGITS[fen.group(1)]
    return Decimal(integer(yuan_part)) + Decimal(cents) / 100


def parse_date(text: str) -> str | None:
    """An ISO date from the common invoice spellings; None if none is found."""
    t = text.replace(" ", "")
    patterns = [
        (r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", "ymd"),
        (r"(20\d{2})[-/.](\d{1,2})[-/.](\d{1,2})", "ymd"),
        (r"(\d{1,2})/(\d{1,2})/(20\d{2})", "mdy"),
        (r"(\d{1,2})\.(\d{1,2})\.(20\d{2})", "dmy"),
    ]
    for pattern, order in patterns:
        m = re.search(pattern, t)
        if m:
            a, b, c = (int(g) for g in m.groups())
            y, mo, d = {"ymd": (a, b, c), "mdy": (c, a, b), "dmy": (c, b, a)}[order]
            return _iso(y, mo, d)
    m = re.search(r"([A-Za-z]{3})[a-z]*\.?\s*(\d{1,2}),?\s*(20\d{2})", text)
    if m and m.group(1).lower() in _MONTHS:
        return _iso(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    m = re.search(r"(\d{1,2})\s*([A-Za-z]{3})[a-z]*\.?,?\s*(20\d{2})", text)
    if m and m.group(2).lower() in _MONTHS:
        return _iso(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    return None


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


class Page:
    """The boxes of one image, with look-ups by label."""

    def __init__(self, boxes: list[OcrBox]) -> None:
        self.rows = group_rows(_straighten(boxes))
        self.text = "\n".join(" ".join(p.text for p in row) for row in self.rows)

    def find(
        self, label: str, value: re.Pattern[str] | None = None, *, exclude: str | None = None
    ) -> tuple[str, float, Placed] | None:
        """The value for a label: in the label's box after it, right of it on its row, or just below it."""
        label_re = re.compile(label, re.IGNORECASE)
        exclude_re = re.compile(exclude, re.IGNORECASE) if exclude else None
        for r, row in enumerate(self.rows):
            for i, box in enumerate(row):
                m = label_re.search(box.text)
                if not m or (exclude_re and exclude_re.search(box.text)):
                    continue
                rest = box.text[m.end() :].lstrip(" :：#.")
                candidates = [(rest, box)] if rest else []
                candidates += [(p.text, p) for p in row[i + 1 :]]
                if r + 1 < len(self.rows):
                    below = [p for p in self.rows[r + 1] if p.x1 > box.x0 - box.h and p.x0 < box.x1 + 4 * box.h]
                    candidates += [(p.text, p) for p in below]
                for text, placed in candidates:
                    if value is None:
                        if text.strip():
                            return text.strip(), placed.score, placed
                        continue
                    vm = value.search(text)
                    if vm:
                        return (vm.group(1) if vm.groups() else vm.group(0)), placed.score, placed
        return None


_NUMBER_VALUE = re.compile(r"([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)", re.IGNORECASE)
_TAX_ID = re.compile(r"([0-9A-Z]{15,20})")
_EN_TAX_ID = re.compile(r"([A-Z]{0,3}\s?\d[\dA-Z -]{5,18}[\dA-Z])")
_TOTAL_LABELS = [
    r"[（(]\s*小写\s*[)）]",
    r"价税合计",
    r"amount\s*due",
    r"balance\s*due",
    r"grand\s*total",
    r"total\s*due",
    r"total\s*amount",
    r"invoice\s*total",
    r"^\s*total\b",
    r"\btotal\b",
]


def extract(boxes: list[OcrBox]) -> dict[str, Any]:
    """The invoice object of DESIGN.md (less attachment_id) with per-field confidence, checks and lines."""
    page = Page(boxes)
    fields: dict[str, Any] = dict.fromkeys(FIELDS)
    confidence: dict[str, float] = {}
    checks: list[str] = []
    chinese = bool(re.search(r"发票|价税|纳税人", page.text))

    def put(name: str, found: tuple[str, float, Any] | None, transform=lambda v: v) -> None:  # type: ignore[no-untyped-def]
        if found and fields[name] is None:
            value = transform(found[0])
            if value:
                fields[name] = value
                confidence[name] = round(found[1], 3)

    put("number", page.find(r"发票号码|号码", re.compile(r"(\d{8,20})")))
    put("code", page.find(r"发票代码", re.compile(r"(\d{10,12})")))
    put(
        "number",
        page.find(r"invoice\s*(?:no|number|#)|receipt\s*(?:no|number|#)|\bno\.", _NUMBER_VALUE, exclude=r"vat|tax"),
    )
    put("date", page.find(r"开票日期|invoice\s*date|issue\s*date|date\s*issued|\bdate\b", None), parse_date)
    if fields["date"] is None:
        found_date = parse_date(page.text)
        if found_date:
            fields["date"], confidence["date"] = found_date, 0.6

    if chinese:
        _parties_zh(page, fields, confidence)
    else:
        put("buyer", page.find(r"bill(?:ed)?\s*to|sold\s*to|customer|buyer", None))
        put("seller", page.find(r"sold\s*by|seller|supplier|from:", None))
        if fields["seller"] is None and page.rows:
            # The seller's name heads the page in the largest type; skip screen chrome (a clock, "< Back").
            head = [
                p
                for row in page.rows[: max(3, len(page.rows) // 4)]
                for p in row
                if len(re.findall(r"[A-Za-z\u4e00-\u9fff]", p.text)) >= 3
                and not re.search(r"(?i)^(tax\s*)?invoice$|^receipt$|back|\.pdf|\d{1,2}:\d{2}", p.text)
            ]
            if head:
                top = max(head, key=lambda p: p.h)
                fields["seller"], confidence["seller"] = top.text, round(top.score * 0.9, 3)
        put(
            "seller_tax_id",
            page.find(r"vat\s*(?:no|number|reg\w*)|tax\s*id|\btin\b|\bein\b|\babn\b|gst\s*no", _EN_TAX_ID),
            lambda v: v.replace(" ", ""),
        )

    _amounts(page, fields, confidence, checks, chinese)
    return {**fields, "confidence": confidence, "checks": checks, "lines": page.text.splitlines()}


def _parties_zh(page: Page, fields: dict[str, Any], confidence: dict[str, float]) -> None:
    """购买方 and 销售方 blocks: each 名称 / 纳税人识别号 belongs to the nearest header above or beside it."""
    headers = []
    for row in page.rows:
        for box in row:
            if "购买方" in box.text or "购方" in box.text:
                headers.append(("buyer", box))
            elif "销售方" in box.text or "销方" in box.text:
                headers.append(("seller", box))
    for row in page.rows:
        for box in row:
            for key, pattern in (
                ("", re.compile(r"名\s*称\s*[:：]?\s*(.+)")),
                ("_tax_id", re.compile(r"识别号\s*[:：]?\s*([0-9A-Z]{15,20})")),
            ):
                m = pattern.search(box.text)
                if not m:
                    continue
                party = _nearest(box, headers) or ("buyer" if fields["buyer" + key] is None else "seller")
                name = party + key
                if fields[name] is None:
                    fields[name] = m.group(1).strip()
                    confidence[name] = round(box.score, 3)


def _nearest(box: Placed, headers: list[tuple[str, Placed]]) -> str | None:
    above = [(abs(box.x0 - h.x0) + max(0.0, box.cy - h.cy), party) for party, h in headers if h.cy <= box.cy + h.h]
    return min(above)[1] if above else None


def _amounts(
    page: Page, fields: dict[str, Any], confidence: dict[str, float], checks: list[str], chinese: bool
) -> None:
    money = re.compile(r"([¥￥$€£]?\s*-?(?:\d{1,3}(?:[,，]\d{3})+|\d+)[.．]\d{2})")
    total = None
    for label in _TOTAL_LABELS:
        found = page.find(label, money, exclude=r"sub\s*-?\s*total|小计")
        if found:
            total = found
            break
    if total:
        fields["total"] = f"{parse_amount(total[0]):.2f}"
        confidence["total"] = round(total[1], 3)
        fields["currency"] = _currency(total[0] + " " + page.text)
        confidence["currency"] = 0.9 if re.search(r"[¥￥$€£]", total[0]) else 0.7

    if chinese:
        row = next((r for r in page.rows if r and re.match(r"^合\s*计$", r[0].text)), None)
        amounts = [a for a in (parse_amount(p.text) for p in row[1:]) if a is not None] if row else []
        if len(amounts) >= 2:
            fields["tax"], confidence["tax"] = f"{amounts[-1]:.2f}", round(row[-1].score, 3)  # type: ignore[index]
            net = amounts[0]
        else:
            net = None
    else:
        tax = page.find(r"^(?:sales\s*)?tax\b|^vat\b|^gst\b|税额", money, exclude=r"tax\s*id|vat\s*no|reg")
        if tax:
            fields["tax"], confidence["tax"] = f"{parse_amount(tax[0]):.2f}", round(tax[1], 3)
        sub = page.find(r"sub\s*-?\s*total|小计", money)
        net = parse_amount(sub[0]) if sub else None

    upper = next((v for v in (parse_chinese_amount(line) for line in page.text.splitlines()) if v), None)
    if upper is not None:
        if fields["total"] is None:
            fields["total"], confidence["total"] = f"{upper:.2f}", 0.8
            checks.append("total read from the uppercase amount only")
        elif Decimal(fields["total"]) == upper:
            confidence["total"] = max(confidence["total"], 0.99)
            checks.append("total matches the uppercase amount")
        else:
            confidence["total"] = min(confidence["total"], 0.5)
            checks.append(f"total {fields['total']} disagrees with the uppercase amount {upper:.2f}")
    if net is not None and fields["tax"] and fields["total"]:
        if net + Decimal(fields["tax"]) == Decimal(fields["total"]):
            confidence["total"] = max(confidence["total"], 0.97)
            checks.append("net + tax = total")
        else:
            confidence["total"] = min(confidence["total"], 0.6)
            checks.append(f"net {net:.2f} + tax {fields['tax']} ≠ total {fields['total']}")
    if any("disagrees" in c or "≠" in c for c in checks):
        confidence["total"] = min(confidence["total"], 0.5)  # one agreeing check doesn't outvote a disagreeing one
    if fields["currency"] is None and chinese:
        fields["currency"], confidence["currency"] = "CNY", 0.8


def _currency(text: str) -> str | None:
    for pattern, code in (
        (r"\b(USD|CNY|RMB|EUR|GBP|JPY|HKD|CAD|AUD)\b", None),
        (r"[¥￥]|元|人民币", "CNY"),
        (r"€", "EUR"),
        (r"£", "GBP"),
        (r"\$", "USD"),
    ):
        m = re.search(pattern, text)
        if m:
            found = code or m.group(1)
            return "CNY" if found == "RMB" else found
    return None
