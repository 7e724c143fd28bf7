"""Order references in the customer's own words, resolved among the customer's own orders.

A shop's ids come in any shape (HO-20261014-0047, 2026111800471236, #1001, a1023). Rather than guess the
shape with a pattern, each of the customer's own order ids, tracking and invoice numbers is looked for in
the message however it is written (case, spaces, dashes, '#', digits read out as words), and partial
references are resolved against the same orders: the last digits ("ending in 4471", "尾号4471"), the most
recent order, the month it was placed, an item, its amount. Only the customer's orders are candidates, and
when several fit, the answer is a question back, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from app.grounding.facts import NOT_SENT
from app.grounding.numbers import amounts_as_numbers
from app.grounding.text import CJK_WORD, normalize, tokenize

# Digits read out as words, as speech recognition writes them and customers type them.
_EN_DIGITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ZH_DIGITS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
_EN_RUN = re.compile(
    r"\b(?:(?:double|triple)\s+)?(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|\d)"
    r"(?:[\s,-]+(?:(?:double|triple)\s+)?(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|\d))+\b",
    re.IGNORECASE,
)
_ZH_RUN = re.compile(r"[零〇一二三四五六七八九幺两0-9]{3,}")
_SEPARATORS = r"[\s\-_#/.:：]{0,2}"

# "ending in 4471", "last four digits are 4471", "尾号4471", "后四位是4471"
_SUFFIX_CUE = re.compile(
    r"(?:\.{2,}|…+|end(?:s|ing|ed)?\s+(?:in|with)|finish(?:es|ing)?\s+(?:in|with)|last\s+(?:\w+\s+){0,2}"
    r"(?:digits?|numbers?|characters?)(?:\s+(?:are|is|of|were))?|尾号|尾数|末尾|结尾|后\s*[0-9一二三四五六七八九]\s*位|"
    r"最后\s*[0-9一二三四五六七八九]?\s*位)\s*(?:是|为)?\s*[:：#]?\s*([A-Za-z0-9][A-Za-z0-9\-]*)",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9.,])\d{4,}(?![A-Za-z0-9]|[.,]\d)")
_AMOUNT = re.compile(
    r"(?:[$¥￥€£]|rmb|usd|cny|eur)\s*(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*\.\d{2})(?!\d)"
    r"|(\d[\d,]*(?:\.\d{1,2})?)\s*(?:元|块|dollars?|bucks|yuan|rmb|usd|cny|eur|euros?)"
    # a bare number after a word for what was paid: "the one that came to 166", "花了166"
    r"|(?:came to|comes to|paid|cost|costs|costing|spent|total of|totall?ing|worth|花了|付了|一共|总共|合计)\s*"
    r"(\d[\d,]*(?:\.\d{1,2})?)(?![\d.])",
    re.IGNORECASE,
)
_RECENT = re.compile(
    r"\b(?:last|latest|most recent|newest|recent)\s+(?:\w+\s+)?(?:order|purchase|parcel|package|delivery)"
    r"|最近(?:一|的)?|上一[单笔次个]|最新|刚(?:刚)?(?:买|下)|上次",
    re.IGNORECASE,
)
_MONTH_NAMES = "january february march april may june july august september october november december"
_MONTHS_EN = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_MONTH_EN = re.compile(
    r"\b(?:in|on|from|during|back in|since)\s+(january|february|march|april|may|june|july|august|september"
    r"|october|november|december)\b|\b(january|february|march|april|june|july|august|september|october"
    r"|november|december)\b",
    re.IGNORECASE,
)
# A relative time and how many days ago it can mean (nearest, farthest), generously.
_PERIODS = [
    (re.compile(r"\byesterday\b|\blast night\b|昨天|昨晚"), 0, 2),
    (re.compile(r"\b(?:a )?(?:couple|few) (?:of )?days ago\b|\bthe other day\b|前两天|前几天|前天|这两天"), 0, 5),
    (re.compile(r"\bthis week\b|这周|本周|这个星期|这星期"), 0, 7),
    (re.compile(r"\blast week\b|上周|上个星期|上星期|上礼拜"), 3, 14),
    (re.compile(r"\bthis month\b|这个月|本月"), 0, 31),
    (re.compile(r"\blast month\b|上个月|上月"), 20, 62),
]
_MONTH_ZH = re.compile(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?")
_ZH_MONTH_NUMBERS = {"十": 10, "十一": 11, "十二": 12, **{c: i + 1 for i, c in enumerate("一二三四五六七八九")}}


def spoken_digits(text: str) -> str:
    """Digits read out as words become digits: "A nine three zero five" → "A 9305", "四四七一" → "4471"."""

    def english(match: re.Match[str]) -> str:
        words = re.split(r"[\s,-]+", match.group(0).lower())
        out: list[str] = []
        repeat = 1
        for word in words:
            if word in ("double", "triple"):
                repeat = 2 if word == "double" else 3
                continue
            out.append(_EN_DIGITS.get(word, word) * repeat)
            repeat = 1
        digits = "".join(out)
        # One spoken digit beside plain numbers ("one 2 3") counts; a lone "one" in a sentence doesn't.
        return digits if len(digits) >= 3 else match.group(0)

    text = _EN_RUN.sub(english, text)
    return _ZH_RUN.sub(lambda m: m.group(0).translate(_ZH_DIGITS), text)


def compact(value: str) -> str:
    """An id as letters and digits only, upper case: "#ho-2026 1014" → "HO20261014"."""
    return re.sub(r"[^0-9A-Za-z]", "", normalize(value)).upper()


@lru_cache(maxsize=4096)
def _written(key: str) -> re.Pattern[str]:
    """The id however it is written: any case, up to two separators between its characters."""
    body = _SEPARATORS.join(re.escape(c) for c in key)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9]|[.,]\d)", re.IGNORECASE)


@dataclass
class Resolution:
    """What the message refers to among the customer's orders."""

    orders: list[Any] = field(default_factory=list)  # the orders it names
    ambiguous: list[Any] = field(default_factory=list)  # several fit: ask which
    unmatched: list[str] = field(default_factory=list)  # id-like text that is none of theirs (never echoed)
    suggested: list[Any] = field(default_factory=list)  # one character off one of theirs: "did you mean …?"
    how: str = ""  # id | suffix | digits | described | recent
    spans: list[tuple[int, int]] = field(default_factory=list)  # where ids were found (in the folded text)


def keys(order: Any) -> list[str]:
    """The order's id, tracking and invoice numbers, compacted."""
    values = [order.id, order.tracking_no or "", order.invoice.number if order.invoice else ""]
    return [k for k in (compact(v) for v in values) if len(k) >= 3]


def _amounts(text: str) -> set[Decimal]:
    found: set[Decimal] = set()
    for match in _AMOUNT.finditer(text):
        raw = next(g for g in match.groups() if g)
        try:
            found.add(Decimal(raw.replace(",", "")).quantize(Decimal("0.01")))
        except InvalidOperation:
            continue
    return found


def stated_amounts(text: str) -> set[Decimal]:
    """The amounts of money the text states ("$46", "139块", "eighty dollars"), as resolve() reads them."""
    return _amounts(_folded(text))


def names_amount(text: str, total: Decimal) -> bool:
    """Whether the text states this amount, as resolve() reads amounts (said in words, too)."""
    return total.quantize(Decimal("0.01")) in _amounts(_folded(text))


def _amount_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _AMOUNT.finditer(text)]


def _months(text: str) -> set[int]:
    months = {_MONTHS_EN[(m.group(1) or m.group(2)).lower()] for m in _MONTH_EN.finditer(text)}
    for match in _MONTH_ZH.finditer(text):
        raw = match.group(1)
        number = int(raw) if raw.isdigit() else _ZH_MONTH_NUMBERS.get(raw, 0)
        if 1 <= number <= 12:
            months.add(number)
    return months


# Words that point at an order in any message ("my order"), whatever an item is called ("roasted to order").
_ORDER_WORDS = frozenset(tokenize("order orders ordered number purchase bought item items 订单 单号 编号"))


def _item_words(order: Any) -> set[str]:
    words: set[str] = set()
    for item in order.items:
        words |= {w for w in tokenize(item.name) if (w.isascii() and w.isalpha() and len(w) >= 3) or len(w) >= 2}
    return {w for w in words if not w.isdigit()} - _ORDER_WORDS


# Chinese nouns said with a suffix that product names leave off: 被子 is the 被 of 蚕丝被, 枕头 the 枕 of 护颈枕.
_NOUN_SUFFIX = frozenset("子头儿")


def _item_overlap(words: set[str], order: Any) -> set[str]:
    """The question's words that name the order's goods: as words, or a Chinese word of two characters or more
    inside an item's name ("绿萝" in 绿萝吊盆, which the segmenter keeps whole), or said with a noun suffix the
    name leaves off (枕头 of 护颈枕, 被子 of 蚕丝被)."""
    names = " ".join(i.name for i in order.items)
    inside = {w for w in words if CJK_WORD.fullmatch(w) and w in names} - _ORDER_WORDS
    suffixed = {w for w in words if len(w) == 2 and w[1] in _NOUN_SUFFIX and CJK_WORD.fullmatch(w) and w[0] in names}
    return (words & _item_words(order)) | inside | (suffixed - _ORDER_WORDS)


_MIN_WRITTEN_DIGITS = 4


def _ends_with(key: str, wanted: str) -> bool:
    """The key ends with these characters, or (digits wanted) its digits end with them before its final letters
    (a check letter, "TPK26-4449E"; a shop's suffix, "20261103-7725-KC")."""
    if key.endswith(wanted):
        return True
    return wanted.isdigit() and bool(re.search(rf"{wanted}[A-Z]{{1,3}}$", key))


_MIN_BARE_DIGITS = 5
# A purchase to come ("if I just order one pack of socks", "如果我买两双"), not an order of theirs.
_HYPOTHETICAL = re.compile(
    r"\bif i (?:just |only |were to |was to )?(?:order|buy|get|purchase)\b|\bthinking of (?:ordering|buying)\b"
    r"|如果(?:我)?(?:只)?(?:买|下单|订)|要是(?:我)?(?:只)?(?:买|下单)|打算买|想买",
    re.IGNORECASE,
)
# "not the lace-up ones", "不是那双系带的"
_NOT_THE = re.compile(
    r"\bnot (?:the|that|those|my) ([a-z][a-z\- ]{1,30}?) (?:ones?|pair|pairs)\b"
    r"|不是(?:那|这)[双件个条款]([^，。,.！？!?]{1,10}?)的",
    re.IGNORECASE,
)
# The customer says the order hasn't left yet ("still haven't shipped", "还没发货").
_UNSHIPPED_SAID = re.compile(
    r"\b(?:has ?n[o']?t|have ?n[o']?t|not|never|yet to)\s+(?:even\s+|yet\s+|been\s+)*(?:shipped|dispatched|sent out)"
    r"|\bnot (?:yet )?(?:been )?(?:shipped|dispatched)"
    r"|还没发货|还没有发货|(?<![发有])没发货|未发货|还没发出|迟迟不发|一直不发|还不发货|还没寄出",
    re.IGNORECASE,
)


def _is_id_end(token: str, orders: list[Any], order_keys: dict[str, list[str]]) -> bool:
    """The token is the last part of one of the customer's ids, letters with it ("A0822" of GL2611A0822): at
    least one letter and four digits, and shorter than the id."""
    wanted = compact(token)
    if not re.search(r"[A-Z]", wanted) or sum(c.isdigit() for c in wanted) < _MIN_WRITTEN_DIGITS:
        return False
    return any(k.endswith(wanted) and len(k) > len(wanted) for o in orders for k in order_keys[o.id][:1])


# "Order nr NL-20931", "订单号：NL-20931": text the customer gives as an order's id, whatever its shape.
_ID_CUE = re.compile(
    r"(?:\border\s*(?:nr|no|num|number|id|ref|reference|code|#)?\.?"
    r"|\b(?:confirmation|reference|booking|tracking)\s*(?:nr|no|num|number|id|code|#)\.?|订单号?|单号|订单编号|确认码)"
    r"\s*(?:is|was|是|为)?\s*[:：#]?\s*$",
    re.IGNORECASE,
)


def shape(value: str) -> str:
    """An id's shape: letters as A, digits as 9, separators kept ("W2611-0418" → "A9999-9999")."""
    return re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", value.strip().lstrip("#")))


def _written_id(token: str, orders: list[Any]) -> bool:
    """The token is written in the shape of the customer's own order ids ("W2611-0418" beside W2612-0440), with
    letters and at least four digits: an id, not a date, an amount, a tax id or a model number."""
    if not re.search(r"[A-Za-z]", token) or sum(c.isdigit() for c in token) < _MIN_WRITTEN_DIGITS:
        return False
    return shape(token.upper()) in {shape(o.id.upper()) for o in orders}


# Letters and digits with dashes, or dots between them when it starts with a letter ("MK.25.204417"; "25.20" is
# an amount).
_ID_LIKE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z](?:[A-Za-z0-9-]|\.(?=[A-Za-z0-9]))*\d[A-Za-z0-9-]*(?:\.[A-Za-z0-9][A-Za-z0-9-]*)*"
    r"(?![A-Za-z0-9])|(?<![A-Za-z0-9.])[A-Za-z0-9][A-Za-z0-9-]*\d[A-Za-z0-9-]*(?![A-Za-z0-9]|\.\d)"
)
MIN_NEAR_LENGTH = 5  # shorter ids are one edit from too many others
MIN_FRAGMENT = 4  # characters of an id quoted from its middle ("4G9S" of LMN-4G9S2L)
_MIXED = re.compile(r"(?=.*[A-Z])(?=.*\d)[A-Z0-9]+")  # letters and digits both: a code, not a word or a number
MAX_SUGGESTIONS = 2


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by one substitution, insertion, deletion or swap of neighbours (not equal)."""
    if a == b or min(len(a), len(b)) < MIN_NEAR_LENGTH or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1 :]


def _near_totals(orders: list[Any], amounts: set[Decimal]) -> list[Any]:
    """The orders whose total is one digit off an amount stated (one changed, added, dropped or two swapped,
    the cents written out: 617.90 for 607.90), when none is exactly that amount."""
    totals = {o.id: Decimal(o.total).quantize(Decimal("0.01")) for o in orders}
    if set(totals.values()) & amounts:
        return []
    said = [f"{a:.2f}".replace(".", "") for a in amounts]
    return [o for o in orders if any(_one_edit(f"{totals[o.id]:.2f}".replace(".", ""), a) for a in said)]


def _folded(text: str) -> str:
    return spoken_digits(amounts_as_numbers(normalize(text)))


def writes_id(text: str, order_id: str) -> bool:
    """Whether the text names this id whole, as resolve() reads it (any case and separators, digits said as
    words; not inside a longer run of digits)."""
    key = compact(order_id)
    return bool(key) and _written(key).search(_folded(text)) is not None


# Spoken ids as speech recognition writes them: letters and digit groups with separators between them
# ("H O 2026 1019-6030", "L2-6 1"), at least three digits in all.
_HEARD_TOKEN = r"(?:[A-Za-z]{0,3}\d[A-Za-z0-9]*|[A-Za-z](?![A-Za-z]))"
_HEARD_RUN = re.compile(rf"(?<![A-Za-z0-9]){_HEARD_TOKEN}(?:[\s,.:#-]{{1,3}}{_HEARD_TOKEN})*")
_SAME = {("O", "0"), ("0", "O"), ("I", "1"), ("1", "I"), ("L", "1"), ("1", "L")}  # what the ear confuses


def _distance_inside(key: str, run: str) -> int:
    """Edits to make the key appear somewhere in the run (approximate substring match; O/0 and I/1 free)."""
    previous = [0] * (len(run) + 1)
    for i, k in enumerate(key, start=1):
        current = [i] + [0] * len(run)
        for j, r in enumerate(run, start=1):
            same = k == r or (k, r) in _SAME
            current[j] = min(previous[j - 1] + (0 if same else 1), previous[j] + 1, current[j - 1] + 1)
        previous = current
    return min(previous)


def _near_heard(folded: str, orders: list[Any], order_keys: dict[str, list[str]]) -> list[Any]:
    """Their orders whose id is closest to an id-like run in a voice message, if close enough: a few edits,
    by the id's length (a dropped or extra digit, "for" heard as 4, O heard as 0). Ties are all offered."""
    runs = [compact(m.group(0)) for m in _HEARD_RUN.finditer(folded)]
    runs = [r for r in runs if sum(c.isdigit() for c in r) >= 3]
    best: dict[str, int] = {}
    for order in orders:
        for key in order_keys[order.id]:
            allowed = 1 + (len(key) >= 9) + (len(key) >= 14)
            for run in runs:
                if len(run) > len(key) + allowed or len(run) < len(key) - allowed:
                    continue
                distance = _distance_inside(key, run)
                if distance <= allowed:
                    best[order.id] = min(best.get(order.id, distance), distance)
    if not best:
        return []
    closest = min(best.values())
    return [o for o in orders if best.get(o.id) == closest][:MAX_SUGGESTIONS]


def heard_marks(text: str, orders: list[Any]) -> list[dict[str, Any]]:
    """What a transcript names that matters for the answer, for the agent console to mark: the customer's
    own order ids as heard (kind "order"), amounts ("amount"), and ids heard nearly right ("near", with the
    order it may be: the reply asks the customer to confirm). Spans index the transcript as stored."""
    marks: list[dict[str, Any]] = []
    for order in orders:
        for key in keys(order):
            for match in _written(key).finditer(text):
                marks.append({"start": match.start(), "end": match.end(), "kind": "order", "value": order.id})
    for match in _AMOUNT.finditer(text):
        if not any(m["start"] <= match.start() < m["end"] for m in marks):
            marks.append({"start": match.start(), "end": match.end(), "kind": "amount", "value": match.group(0)})
    if not any(m["kind"] == "order" for m in marks):
        order_keys = {o.id: keys(o) for o in orders}
        for order in _near_heard(_folded(text), orders, order_keys):
            marks.append({"start": 0, "end": 0, "kind": "near", "value": order.id})
    return sorted(marks, key=lambda m: (m["start"], m["end"]))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _period(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """When the order was placed, by a relative time ("last week", "前两天"): generous bounds."""
    for pattern, nearest, farthest in _PERIODS:
        if pattern.search(text):
            return now - timedelta(days=farthest), now - timedelta(days=nearest)
    return None


_RECEIVED_SAID = re.compile(
    r"\b(?:received|arrived|came(?! to\b)|turned up|showed up|delivered|got (?:it|them))\b"
    r"|收到|到货|签收|送到|到了|送达",
    re.IGNORECASE,
)


def _when(order: Any, received: bool) -> datetime:
    """When the order was placed, or (received) when it was delivered, where its history says."""
    if received:
        history = order.status_history or []
        delivered = next((e.get("at") for e in reversed(history) if e.get("status") == "delivered"), None)
        if delivered:
            return datetime.fromisoformat(str(delivered).replace("Z", "+00:00"))
    placed: datetime = order.placed_at
    return placed


def _placed_month(order: Any) -> int:
    placed: datetime = order.placed_at
    return placed.month


def resolve(
    text: str, orders: list[Any], about_orders: bool = True, now: datetime | None = None, heard: str = ""
) -> Resolution:
    """Find which of these orders (the customer's own, newest first) the text refers to.

    Whole ids and cued last digits count in any message; bare numbers and descriptions (an item, a month,
    an amount, "my last order") only when the message is about orders (about_orders), so a question about
    a product is not answered with the customer's order of it. `heard` is the part of the text that came
    from a voice message: what speech recognition got nearly right is offered for confirmation.
    """
    folded = _folded(text)
    result = Resolution()
    taken: set[str] = set()
    order_keys = {o.id: keys(o) for o in orders}

    # 1. Whole ids, tracking or invoice numbers, however written.
    for order in orders:
        for key in order_keys[order.id]:
            match = _written(key).search(folded)
            if match:
                if order.id not in taken:
                    result.orders.append(order)
                    taken.add(order.id)
                result.spans.append(match.span())
                break
    if result.orders:
        result.how = "id"
        if heard and len(result.orders) > 1:
            # Several of their ids in one voice message: biasing the recogniser with their ids can make it
            # "hear" one that was not said. Ask which, rather than answer about all of them.
            result.ambiguous, result.orders, result.how = result.orders, [], "heard"
        return result

    amount_spans = _amount_spans(folded)

    def is_amount(span: tuple[int, int]) -> bool:
        return any(s <= span[0] < e for s, e in amount_spans)

    # 2. The last characters, with a cue ("ending in 4471"), or a bare run of digits that ends one id.
    tails = [m.group(1) for m in _SUFFIX_CUE.finditer(folded)]
    id_like = list(_ID_LIKE.finditer(folded))  # id-like text, read once for this step and the next two
    # (five digits or more also when the message isn't otherwise about orders: "where is 118095??")
    # (never the digits inside an id written with its letters: "20261118-4471-KC" is one id, none of theirs)
    written_ids = [m.span() for m in id_like if re.search(r"[A-Za-z]", m.group(0))]
    bare = [
        m.group(0)
        for m in _DIGIT_RUN.finditer(folded)
        if (about_orders or len(m.group(0)) >= _MIN_BARE_DIGITS)
        and not is_amount(m.span())
        and not any(s <= m.start() < e for s, e in written_ids)
    ]
    # The end of one of their ids with its letter, uncued ("where's order A0822?" of GL2611A0822).
    ends = [m.group(0) for m in id_like if _is_id_end(m.group(0), orders, order_keys)]
    cued = set(tails)
    for tail, how in [*((t, "suffix") for t in tails), *((e, "suffix") for e in ends), *((b, "digits") for b in bare)]:
        wanted = compact(tail)
        # (two characters only when cued and mixed: "尾号4N", "ending in 2S" of LMN-5E9C4N, LMN-9H7K2S)
        if len(wanted) < 3 and not (tail in cued and len(wanted) == 2 and _MIXED.fullmatch(wanted)):
            continue
        # "ending in 4449" of TPK26-4449X: the digits an id ends with, before a check letter.
        fits = [o for o in orders if any(_ends_with(k, wanted) for k in order_keys[o.id])]
        if how == "digits":
            # A bare number is also an id without its letters ("1023" for A1023, as speech often hears it).
            fits = fits or [o for o in orders if re.sub(r"\D", "", compact(o.id)) == wanted]
        if len(fits) == 1:
            result.orders, result.how = fits, how
            return result
        if len(fits) > 1:
            result.ambiguous, result.how = fits, how
            return result
        if how == "suffix":
            result.unmatched.append(tail.upper())

    # 2b. A run of letters and digits from inside one of their ids ("4G9S那个订单" of LMN-4G9S2L): codes are
    # quoted by their memorable part.
    heard_ids = [compact(m.group(0)) for m in id_like]
    inside = [t for t in heard_ids if len(t) >= MIN_FRAGMENT and _MIXED.fullmatch(t)]
    fits = [o for o in orders if any(t in k for t in inside for k in order_keys[o.id])]
    if len(fits) == 1:
        result.orders, result.how = fits, "suffix"
        return result

    # 3. One character off one of their ids (a typo, a digit misheard): ask, never assume.
    near = [o for o in orders if any(_one_edit(t, k) for t in heard_ids for k in order_keys[o.id])]
    if not near and heard:
        near = _near_heard(_folded(heard), orders, order_keys)
    if near:
        result.suggested, result.how = near[:MAX_SUGGESTIONS], "near"
        return result

    # 4. A description: the most recent order, a month, an item, an amount; not when the customer wrote out
    # an id that is none of theirs ("where is W2611-0418?"): that id is what they mean, and it isn't theirs.
    if not about_orders:
        return result
    written = [
        m.group(0)
        for m in id_like
        if _written_id(m.group(0), orders) or (_ID_CUE.search(folded[: m.start()]) and len(compact(m.group(0))) >= 5)
    ]
    if written:
        result.unmatched += [t.upper() for t in written]
        return result
    if _HYPOTHETICAL.search(folded):
        return result  # "if I just order one pack of socks": a purchase to come, not one of their orders
    recent = bool(_RECENT.search(folded))
    months = _months(folded)
    period = _period(folded, now or datetime.now(UTC))
    amounts = _amounts(folded)
    # "the boots (NOT the lace-up ones)": the order whose items those words name is not the one meant
    unwanted = {w for m in _NOT_THE.finditer(folded) for w in tokenize(m.group(1) or m.group(2))} - _ORDER_WORDS
    words = set(tokenize(folded)) - unwanted
    # The item named is the surest clue; a time ("last week") or an amount narrows among those orders, but a
    # customer's sense of when is loose: when it excludes every order with the item, the item decides.
    overlap = {o.id: len(_item_overlap(words, o)) for o in orders}
    most = max(overlap.values(), default=0)
    named = [o for o in orders if most and overlap[o.id] == most]  # "standing desk" over "desk lamp"
    named = [o for o in named if not unwanted & _item_words(o)] or named
    fits = named or list(orders)
    described = bool(named)
    if _UNSHIPPED_SAID.search(folded):
        # "My glasses still haven't shipped": an order that has shipped is not the one meant, unless the item
        # named says it is (then either may be meant: ask).
        waiting = [o for o in orders if o.status in NOT_SENT]
        if waiting:
            fits = [o for o in named if o in waiting] or named + waiting
            described = True
    if months:
        fits = [o for o in fits if _placed_month(o) in months] or (named if named else [])
        described = True
    if period:
        # "昨天收到的", "the one that arrived last week": the time is when it came, not when it was ordered.
        received = bool(_RECEIVED_SAID.search(folded))
        fits = [o for o in fits if period[0] <= _aware(_when(o, received)) <= period[1]] or (named if named else [])
        described = True
    if amounts:
        fits = [o for o in fits if Decimal(o.total).quantize(Decimal("0.01")) in amounts] or (named if named else [])
        described = True
        if not fits and (near := _near_totals(orders, amounts)):
            # "the one that came to 617.90" when one of theirs came to 607.90 (a digit misheard or mistyped):
            # ask about it, never assume it.
            result.suggested, result.how = near[:MAX_SUGGESTIONS], "near"
            return result
    if described and fits:
        if len(fits) == 1 or recent:
            result.orders, result.how = fits[:1], "described"
        else:
            result.ambiguous, result.how = fits, "described"
        return result
    if recent and orders and not described:
        result.orders, result.how = orders[:1], "recent"
    return result
