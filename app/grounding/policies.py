"""Policy retrieval: BM25 over article passages, zh and en."""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from app.grounding.facts import OrderFact, PolicyFact
from app.grounding.intents import (
    ASKS_AMOUNT,
    ASKS_WINDOW,
    ASKS_YES_NO,
    ASPECTS,
    INTENT_WORDS,
    REFERENCE_WORDS,
    RETURN_ASPECTS,
    detect_aspects,
    detect_intents,
    expand_query,
)
from app.grounding.references import stated_amounts
from app.grounding.text import CJK_WORD, tokenize
from app.models import PolicyArticle
from app.shop import repository
from app.shop.service import ArticleText

K = TypeVar("K")
V = TypeVar("V")
# A sentence ends at 。！？!? or a full stop and a space, not after "e.g." / "i.e." / "etc." / "approx.".
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bapprox\.)(?<=\.)\s+")
_DURATION = re.compile(
    r"\d+\s*(?:business |working |calendar )?(?:days?|weeks?|months?|hours?)"
    r"|\d+\s*(?:个)?(?:工作日|天|周|小时|个月)|[一二三四五六七八九十]+\s*(?:天|日|周|个月)",
    re.IGNORECASE,
)
# A warranty's term ("2 years", "保修1年", "6 months", "两年").
# "保修多久", "how long is the warranty", "what's the warranty period on …": the term itself is asked.
_ASKS_TERM = re.compile(
    r"(?:保修|质保|保固)(?:期)?(?:是)?(?:多久|多长|几年|多少年|几个月)|(?:多久|多长时间|几年)的?(?:保修|质保)"
    r"|\bhow long\b.{0,30}\b(?:warranty|guarantee)|\b(?:warranty|guarantee)\b.{0,20}\b(?:period|length|last|how long)",
    re.IGNORECASE,
)
_TERM = re.compile(
    r"\d+\s*(?:years?|months?)\b|\d+\s*(?:年|个月)|[一二两三四五六七八九十]+\s*(?:年|个月)", re.IGNORECASE
)
WINDOW_BOOST = 1.5
STATUS_BOOST = 1.5
ROW_KEY_BOOST = 2.0
MIN_PASSAGE_CHARS = 6
# How policies name an order's status, in en and zh.
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "pending": ("pending", "unpaid", "awaiting payment", "not paid", "before payment", "待付款", "未付款", "付款前"),
    "paid": ("paid", "after payment", "已付款", "付款后", "待发货"),
    "processing": ("processing", "being prepared", "packed", "处理中", "备货", "拣货", "打包"),
    "shipped": ("shipped", "dispatched", "in transit", "on its way", "已发货", "发货后", "已发出", "运输"),
    "delivered": ("delivered", "delivery", "received", "签收", "送达", "收到"),
    "cancelled": ("cancelled", "canceled", "已取消", "取消"),
    "refunded": ("refunded", "refund", "已退款", "退款"),
}
LIMIT_BOOST = 1.2
EXCLUSION_BOOST = 3.0
NAMED_WORD_BOOST = 0.25  # each further word of an exclusion the question (or the order's items) names
# A limit counted from an event ("within 7 days of payment", "签收后 15 天内") is a deadline: it answers "can I
# (still)…", where "refunded within 1–3 business days" (how long something takes) does not.
DEADLINE_BOOST = 1.5
_DEADLINE = re.compile(
    r"\d+\s*(?:business |working |calendar )?(?:days?|hours?|weeks?|months?)\s+(?:of|after|from)\s+"
    r"(?:the\s+|your\s+|you\s+)?(?:delivery|payment|purchase|receipt|receiving|order|paying|buying|arrival|dispatch"
    r"|paid|ordered|bought|received)"
    r"(?!\s+(?:of\s+)?(?:the\s+|your\s+|our\s+|a\s+)?(?:return\s+)?(?:label|e-?mail|code|refund|confirmation|approval|instructions))"
    r"|(?:付款|支付|签收|收货|下单|购买|到货|发货)(?:之日)?(?:后|起)\s*\d+\s*(?:个)?(?:天|日|小时|周|个月)",
    re.IGNORECASE,
)
# "How long does the refund take", "多久到账": a question about timing, not about a deadline.
_ASKS_TIMING = re.compile(
    r"how long (?:does|will|until|till)|how long do(?! (?:i|we|you) (?:have|get))|how long\b.{0,30}\btak(?:e|es|ing)\b"
    r"|when will"
    r"|多久(?:能|才|会)?到|几天(?:能|才)?到|到账",
    re.I,
)
AMOUNT_BOOST = 1.5  # "how much…": a passage that states an amount of money
RANGE_BOOST = 2.0  # the question states an amount that falls in the range a passage is about ("up to 49 USD")
_MONEY = r"[¥￥$€£]?\s*(\d+(?:\.\d+)?)\s*(?:USD|CNY|EUR|GBP|RMB|元|块)?"
_NOT_TIME = (
    r"(?!\s*(?:business |working |calendar )?"
    r"(?:days?|hours?|weeks?|months?|years?|天|日|小时|工作日|周|个|年|kg|g\b|cm|ml|%))"
)
# The amounts a passage is about: "USD orders up to 49 USD", "over ¥500", "¥199 – ¥500", "满 800", "199 元以下".
_RANGES = (
    (re.compile(rf"{_MONEY}{_NOT_TIME}\s*(?:–|—|-|~|to|至|到)\s*{_MONEY}{_NOT_TIME}", re.IGNORECASE), "between"),
    (
        re.compile(
            rf"(?:\bover|\babove|\bmore than|\bat least|满|超过|高于)\s*{_MONEY}{_NOT_TIME}"
            rf"|{_MONEY}{_NOT_TIME}\s*(?:and (?:over|above|up)|or more|\+|及以上|以上)",
            re.IGNORECASE,
        ),
        "from",
    ),
    (
        re.compile(
            rf"(?:\bunder|\bbelow|\bup to|\bless than|不满|未满|低于|不足)\s*{_MONEY}{_NOT_TIME}"
            rf"|{_MONEY}{_NOT_TIME}\s*(?:or less|and under|以下)",
            re.IGNORECASE,
        ),
        "upto",
    ),
)
# A shipping table's rows: a faster, dearer service ("Express", "Next Day Air", "顺丰特快") answers a question
# about speed; "how much is shipping", "满多少包邮" are asked of the ordinary service (the free-shipping
# threshold, the usual fee and days), so there a row about an expedited service alone ranks lower.
EXPEDITED_BOOST = 2.0
# The fast services' names, which both a passage about one and a question asking for one use.
_FAST_SERVICE = r"express|expedited|next[- ]day|overnight|same[- ]day"
_FAST_SERVICE_ZH = "特快|加急|次日达|当日达|极速"
_EXPEDITED = re.compile(rf"\b(?:{_FAST_SERVICE}|(?:2nd|second)[- ]day)\b|{_FAST_SERVICE_ZH}|急件", re.IGNORECASE)
_ORDINARY_SERVICE = re.compile(r"\b(?:standard|regular|economy|ground|normal)\b|标快|标准|普通|经济", re.IGNORECASE)
_ASKS_SPEED = re.compile(
    rf"\b(?:{_FAST_SERVICE}|priority|rush|asap|urgent(?:ly)?|hurry|fast(?:er|est)?|quick(?:er|est|ly)?|speed(?:y| up)?"
    r"|in time for|by (?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
    rf"|{_FAST_SERVICE_ZH}|最快|更快|尽快|快点|急用|赶时间|来得及",
    re.IGNORECASE,
)


# A courier's name is not a service: "SF Express", "JD Express", "ZTO Express" carry ordinary parcels too.
_COURIER_NAME = re.compile(r"\b[A-Z]{2,4} Express\b")


def expedited_only(text: str) -> bool:
    """The passage is about an expedited service and not the ordinary one beside it."""
    return bool(_EXPEDITED.search(_COURIER_NAME.sub(" ", text))) and not _ORDINARY_SERVICE.search(text)


CONDITION_BOOST = 2.0  # the question names the section a passage sits under ("eggs" in "Fresh food (…, eggs)")
# "**Fresh food** (fruit, vegetables, …)": a bold label with only a parenthetical after it names a section.
_LABEL_HEADING = re.compile(r"^\*\*[^*]+\*\*\s*[(（][^)）]*[)）]\s*[:：]?$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MAX_SPECIFIC_DF = 2  # a term in at most this many passages is specific enough to pick an exclusion out
# An exclusion names an item of the customer's order when two of its words are in the item's name (one, when
# it has one word): "Presale gift sets …" for "Christmas Skincare Gift Set (Presale)", not "Opened skincare,
# makeup, perfume" for an engraved perfume.
MIN_ITEM_TERMS = 2
# A list introduced by one of these is a list of exclusions ("Not eligible:", "以下情况不支持价保：").
EXCLUDES = re.compile(
    r"not (?:eligible|covered|included|accepted|returnable|refundable)|excluded|exception|except|"
    r"(?:doesn't|does not|don't|do not|won't|will not|can't|cannot) (?:apply|qualify|be|accept)|non-returnable|"
    r"不支持|不参与|不适用|不包括|不享受|不在|除外|不可|不能|无法|不予|不退|不换|没法|没办法",
    re.IGNORECASE,
)
# A table column that asks a yes/no question ("Can it be returned?", "能否修改地址"): each row's cell answers it.
_YES_NO_COLUMN = re.compile(
    r"[?？]\s*$|^(?:can|could|may|is|are|does|do|eligible|allowed|returnable|refundable|cancell?able)\b"
    r"|^(?:能否|是否|可否|能不能|可不可以|可以|能)",
    re.IGNORECASE,
)
_CELL_NO = re.compile(
    r"^(?:no\b(?!\s+(?:charge|fee|cost|extra|additional|minimum))|not\b|never\b|none\b|n/a\b|×|✗|✘|❌|❎|✖|⛔|🚫"
    r"|不(?!限|用|收)|否|无法|没有)",
    re.IGNORECASE,
)
# A column named for the action the table answers ("无理由退货", "Return for a refund"): its cells that start
# with yes or no ("不支持,拆没拆都不退") are verdicts as a question's would be.
_ACTION_COLUMN = re.compile(
    r"\breturn(?!\s+(?:shipping|postage|label|fee|cost))|\bcancel|\bexchange|退货|退换|换货|取消|保价|价保", re.I
)
_CELL_YES = re.compile(r"^(?:yes\b|✓|✔|√|✅|☑|可以|能|是|支持|允许)", re.IGNORECASE)
# A cell that opens with a check mark or a cross ("✅ Cancel free, full refund", "❌ 不可以"): a verdict whatever
# its column is called.
_CELL_MARK = re.compile(r"^(?:✓|✔|√|✅|☑|×|✗|✘|❌|❎|✖|⛔|🚫)")
# "Exception: made-to-order desktops can't be cancelled …", "例外：…": a sentence about some items only.
_EXCEPTION = re.compile(r"^(?:exceptions?|except|excluding|note|例外|除外|特殊商品|特别说明)\s*[:：]", re.IGNORECASE)
# Where an exception's sentence stops naming what it is about and says what happens to it.
_PREDICATE = re.compile(
    r"\b(?:can(?:'t|not)?|cannot|are|is|may|must|will|won't|only|need|needs|have to|has to)\b"
    r"|无法|不支持|不能|不可|不予|仅|只|可以|可|付款后|进入|签收后|发货后|一经|一旦|需",
    re.IGNORECASE,
)
# "The following can't be returned …." / "以下商品…不支持无理由退货。": a sentence that introduces the list after it.
_LIST_INTRO = re.compile(r"^(?:the following|these items|the items below|以下|下列)", re.IGNORECASE)
_EXCEPTION_HEADING = re.compile(
    r"^(?:(?:exceptions?|special (?:items|cases))\b|例外|除外|特殊商品|特殊情况|不可退|不支持)", re.IGNORECASE
)
ASPECT_NAMES = frozenset(ASPECTS)
ASPECT_INTENTS = frozenset({"return", "refund", "cancel", "price_protection"})
# Words that say what is asked ("cancel", "return") and never name an item or a case.
INTENT_WORDS_ALL = " ".join(INTENT_WORDS.values())
ITEM_EXCLUSION_INTENTS = frozenset({"return", "cancel", "address_change", "price_protection"})


@dataclass(frozen=True)
class Passage:
    article_id: str
    title: str
    locale: str
    index: int
    text: str
    heading: str = ""  # the section it sits under: searched with the passage, never quoted
    lead: str = ""  # the sentence introducing the list it is an item of (already part of the text)
    verdict: str = ""  # "yes" or "no": a table row's answer in its yes/no column ("Can it be returned?: No")
    subject: str = ""  # what an item-specific row or exception names ("Custom-engraved perfume bottles")
    row_key: str = ""  # a table row's first cell when it names a status ("Paid"): the row speaks for it alone
    row_name: str = ""  # a table row's first cell that is not its answer ("偏远地区：新疆、西藏…"): the row's case


_MARKUP = re.compile(r"\*\*|__|`|^>\s*")
_LIST_MARK = re.compile(r"^(?:[-*•+]|\d+[.)、])\s+")


def status_words(statuses: list[str]) -> list[str]:
    """How policies name these order statuses, in en and zh (an unknown status by its own name)."""
    return [w for status in statuses for w in STATUS_WORDS.get(status, (status,))]


@functools.cache
def _status_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of these words: an English word whole ("paid" is not in "unpaid"), a Chinese one anywhere."""
    alternatives = (re.escape(w) if _CJK.search(w) else rf"(?<![a-z]){re.escape(w)}(?![a-z])" for w in words)
    return re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE)


def says_status(text: str, words: list[str], row_key: str = "") -> bool:
    """Whether a passage says what the policy does for the status these words name: a table row keyed by
    a status says it for that status only ("Pending (waiting for payment) | Yes | … unpaid orders close …"
    is not the row for a paid order, nor "Paid | … unlike Pending orders" the row for a pending one); any
    other passage when it names the status."""
    return bool(words) and bool(_status_pattern(tuple(words)).search(row_key or text))


def status_heading(fact: PolicyFact, words: list[str]) -> bool:
    """Only the passage's section heading names the order's status ("After the order has shipped": "We can't
    change the address any more"): it speaks for that status, and is quoted under the heading so the reply
    says which one."""
    return (
        bool(fact.condition) and not says_status(fact.text, words, fact.row_key) and says_status(fact.condition, words)
    )


def _plain(line: str) -> str:
    return _MARKUP.sub("", _LIST_MARK.sub("", line.strip())).strip()


_CELL_PART = re.compile(r"(?<=[.;。；])\s*")
_CELL_LABEL = re.compile(r"^[^:：]{1,60}[:：]\s*")


def cell_verdict(cell: str) -> str:
    """ "no" for "No, never" / "不可以", "yes" for "Yes, within 7 days" / "可以"; "" for anything else. A cell
    that answers per case ("Roasted beans: no. Other items: no, but …") has the verdict its cases share."""
    cell = cell.strip()
    verdict = "no" if _CELL_NO.match(cell) else "yes" if _CELL_YES.match(cell) else ""
    if verdict or not _CELL_LABEL.match(cell):
        return verdict
    parts = [_CELL_LABEL.sub("", part, count=1) for part in _CELL_PART.split(cell) if part.strip()]
    said = {"no" if _CELL_NO.match(p) else "yes" if _CELL_YES.match(p) else "" for p in parts}
    return said.pop() if len(said) == 1 else ""


def _row(columns: list[str], cells: list[str]) -> tuple[str, str, str]:
    """A table row's (verdict, subject, key): its answer in the table's yes/no column, and what the row is
    about (its first other cell, when not empty), so "Custom-engraved perfume bottles | No, never" is an
    exclusion of that item; a first cell that names a status is the row's key instead ("processing | No" is
    what the policy says for that status, and for no other)."""
    verdict, subject = "", ""
    for header, cell in zip(columns, cells, strict=False):
        if not verdict and (
            _YES_NO_COLUMN.search(header.strip())
            or (_ACTION_COLUMN.search(header) and cell_verdict(cell))
            or _CELL_MARK.match(cell.strip())
        ):
            verdict = cell_verdict(cell)
        elif not subject and cell and cell not in ("—", "-"):
            subject = cell
    if _names_status(subject):
        if not verdict:
            # A row for a status whose cells answer per kind of good ("Shipped | No | No" under "In-stock items |
            # Made-to-measure curtains"): when every cell says the same, that is the answer for the status.
            said = {cell_verdict(cell) for cell in cells if cell.strip() and cell != subject}
            verdict = said.pop() if len(said) == 1 else ""
        return verdict, "", subject
    return verdict, subject, ""


@functools.cache
def _asking() -> frozenset[str]:
    """Words that ask rather than name a case: a heading "How much you get back" is not what "which is
    quicker, and by how much?" names (多久, 多少 likewise)."""
    return frozenset(tokenize("how much many long soon when where which what who why get back quick quicker fast"))


@functools.cache
def _topic_terms() -> frozenset[str]:
    """The search terms of every topic's words ("return", "发票"): they say what is asked about, never which item."""
    return frozenset(tokenize(INTENT_WORDS_ALL))


@functools.cache
def _status_terms() -> frozenset[str]:
    """The search terms of every status word: they say when, never which item."""
    return frozenset(t for words in STATUS_WORDS.values() for w in words for t in tokenize(w))


def _names_status(text: str) -> bool:
    return says_status(text, [w for words in STATUS_WORDS.values() for w in words])


def split_passages(article: PolicyArticle | ArticleText) -> list[Passage]:
    """One passage per sentence; a passage is what a reply can quote and the verifier can check.

    Markdown is read as a person reads it: headings (and lines that are bold alone) name the section of the
    sentences under them, emphasis and list marks are dropped, and a list's items keep the sentence that
    introduces them ("Not eligible: Flash deals …"): an item alone would read as the opposite.
    """
    passages: list[Passage] = []
    heading = ""
    columns: list[str] = []
    row, listed = ("", "", ""), False
    excluding = bool(EXCLUDES.search(article.title))  # an article about what is not covered
    answered = False  # a sentence under the current heading came already
    lead = ""  # "The following are not covered:" before a list: each item is quoted with it
    for raw in article.body.splitlines():
        line = raw.strip()
        if not line:
            columns = []
            continue
        item = bool(_LIST_MARK.match(line))
        if not item and not line.startswith("|"):
            lead = ""
        if line.startswith("|"):
            # A table row reads as "Column: value; …" under the table's header row.
            cells = [_plain(c) for c in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c.replace(" ", "")) for c in cells if c):
                continue
            if not columns:
                columns = cells
                continue
            row = _row(columns, cells)
            # A table in an article about what can't be returned ("吸奶器配件… | 拆开后不退"): each row names what
            # it is about, with a condition of its own in its cells (not a plain no: "after opening").
            # (or "钢化膜 | 已贴上屏幕" under a column "不支持无理由退货的情况": the column says what the cell is).
            listed = (
                excluding
                and not row[0]
                and not row[2]
                and bool(row[1])
                and bool(
                    EXCLUDES.search(" ".join(cells[1:]))
                    or EXCLUDES.search(" ".join(columns[1:]))
                    # (or under a section that says it: "## Not returnable (change of mind)" over "Item | Why")
                    or EXCLUDES.search(heading)
                )
            )
            named = zip([c.rstrip("?？:： ") for c in columns], cells, strict=False)
            colon, semicolon, stop = ("：", "；", "。") if article.locale == "zh" else (": ", "; ", ".")
            line = semicolon.join(f"{h}{colon}{v}" if h else v for h, v in named if v) + stop
        else:
            row, listed = ("", "", ""), False
        if (
            line.startswith("#")
            or (line.startswith("**") and line.rstrip(":：").endswith("**"))
            or _LABEL_HEADING.match(line)
        ):
            heading = _plain(line.lstrip("#")).rstrip(":：")
            answered = False
            continue
        sentences = [s.strip() for s in _SENTENCE_END.split(_plain(line)) if s.strip()]
        if item and _EXCEPTION_HEADING.match(heading) and sentences:
            # An item under "Exceptions" is one exception however many sentences it takes ("Engraved tags go
            # into production once processing. From then on they can't be cancelled."): quoted whole, what
            # it names from its first sentence, its verdict from all of them.
            sentences = [" ".join(sentences)]
        intro = [x for x in sentences if _LIST_INTRO.match(x) and EXCLUDES.search(x)] if not item else []
        if not item and sentences and (sentences[-1].endswith((":", "：")) or intro):
            # A list follows: "以下情况不支持价保：" (or "The following can't be returned …." with a sentence
            # after it) is what each item is an instance of.
            lead = sentences[-1] if sentences[-1].endswith((":", "：")) else intro[-1]
        if item and not lead and heading and EXCLUDES.search(heading):
            # A list straight under a heading that excludes ("## Not covered", "## 不参与保价") is an instance
            # of it: the heading is its lead-in, or "- Gift sets" alone would read as the opposite.
            lead = heading if heading.endswith((":", "：")) else heading + ("：" if article.locale == "zh" else ":")
        for sentence in sentences:
            if item and lead:
                sentence = f"{lead}{'' if lead.endswith('：') else ' '}{sentence}"
            verdict, subject, key = row
            exception = ""
            if _EXCEPTION.match(sentence):
                exception = _EXCEPTION.sub("", sentence).strip()
            elif item and _EXCEPTION_HEADING.match(heading):
                exception = sentence[len(lead) :].strip() if lead else sentence
            if exception:
                # "Exception: made-to-order desktops can't be cancelled…" excludes what it names before its
                # verb; "Exceptions: a presale set that is still pending can be cancelled" allows.
                subject = _PREDICATE.split(exception, maxsplit=1)[0].strip(" ,，、")
                verdict = "no" if EXCLUDES.search(exception) else ""
            if not verdict and not answered and heading.endswith(("?", "？")):
                # The first sentence under a question heading ("Can I change my address?" → "Yes, free of
                # charge, while the order is pending, paid or processing.") answers it as a table cell would.
                verdict = cell_verdict(sentence)
            answered = True
            if len(sentence) >= MIN_PASSAGE_CHARS and not sentence.endswith((":", "：")):
                passages.append(
                    Passage(
                        article.id,
                        article.title,
                        article.locale,
                        len(passages),
                        sentence,
                        heading,
                        lead * item,
                        verdict,
                        subject if verdict == "no" or listed else "",
                        key,
                        row[1] or row[2],
                    )
                )
    return passages


class BM25:
    """Okapi BM25 over bags of terms."""

    def __init__(self, docs: list[list[str]], k1: float = 1.4, b: float = 0.6) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.df = df

    def score(self, index: int, terms: set[str]) -> float:
        doc, length = self.docs[index], self.lengths[index]
        total = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                norm = tf + self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1))
                total += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / norm
        return total


# A title that names only how things are sent ("Delivery (UK)", "配送说明") is about shipping.
_SHIPPING_TITLE = re.compile(
    r"\b(?:delivery|deliveries|shipping|postage|dispatch)\b|配送|运费|物流|快递", re.IGNORECASE
)


def title_topics(title: str) -> set[str]:
    """What an article is about, read from its title as customers' questions are read."""
    intents = set(detect_intents(title))
    topics = intents | set(detect_aspects(title))
    if not intents and _SHIPPING_TITLE.search(title):
        topics.add("shipping")
    return topics


# A list of short names, each entry of a few words: "E-books, engraved pens and opened ink",
# "电子书、刻字钢笔、已开封墨水等".
_ENTRY_SPLIT = re.compile(r"、|,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+|等$")


def _enumeration(text: str) -> bool:
    entries = [e.strip() for e in _ENTRY_SPLIT.split(text.strip()) if e.strip()]
    # (no clause among them: "园艺商品里有不少是活的、会变质的，或者是…就无法再次销售" explains, it doesn't list)
    short = all(
        len(e.split()) <= 4 and len(e) <= (30 if e.isascii() else 10) and not re.search(r"[，。；;]", e)
        for e in entries
    )
    return len(entries) >= (2 if "、" in text else 3) and short


def _listed_inline(text: str) -> str:
    """What a sentence lists after a colon its exclusion introduces ("以下商品不支持无理由退货：刻字刀具、清仓商品"), as
    a list's items follow their lead, or the list it opens with before saying it is excluded ("电子书、刻字钢笔、
    已开封墨水等不支持无理由退货", "E-books, engraved pens and opened ink can't be returned"); "" when it lists
    nothing so."""
    lead, colon, listed = text.partition("：") if "：" in text else text.partition(": ")
    if colon and EXCLUDES.search(lead) and not EXCLUDES.search(listed):
        return listed
    said = EXCLUDES.search(text)
    before = text[: said.start()] if said else ""
    return before if _enumeration(before) else ""


_ENTRIES = re.compile(r"[、；;]")


def _chinese_entries(text: str, excluded: set[str]) -> list[frozenset[str]]:
    """The entries of a list in the text ("、", "；"), each as its excluded Chinese words beyond words for goods in
    general; entries with other words, or none, are left out."""
    if not excluded:
        return []
    entries = (_specific(tokenize(entry)) & excluded - _goods_terms() for entry in _ENTRIES.split(text))
    return [frozenset(said) for said in entries if said and all(CJK_WORD.fullmatch(w) for w in said)]


@functools.cache
def _goods_terms() -> frozenset[str]:
    """Words for goods in general, which name no good in particular."""
    return frozenset(tokenize("商品 产品 物品 货品 items products goods"))


class PolicyIndex:
    """Two levels: which article is about the question, then which of its passages answers it."""

    def __init__(self, articles: list[PolicyArticle]) -> None:
        self.passages = [p for a in articles for p in split_passages(a)]
        self.article_ids = [a.id for a in articles]
        self.articles = BM25([tokenize(f"{a.title} {a.title} {a.body}") for a in articles])
        # What each article is about, read from its title as customers' questions are read.
        self.topics = {a.id: title_topics(a.title) for a in articles}
        self.locales = {a.id: a.locale for a in articles}
        self.versions = {a.id: a.version for a in articles}
        # What each passage's section heading says beyond its article's title: the case it applies to.
        self.conditions = [set(tokenize(p.heading)) - set(tokenize(p.title)) - _asking() for p in self.passages]
        # What each table row's first cell names beyond its article's title: the case the row is for.
        self.row_names = [set(tokenize(p.row_name)) - set(tokenize(p.title)) - _asking() for p in self.passages]
        self.sentences = BM25([tokenize(f"{p.heading} {p.text}") for p in self.passages])
        # What each item of an exclusion list names beyond its lead-in ("秒杀" in "以下情况不支持价保：秒杀…"), and
        # what a table row answered "No" or an exception names ("Custom-engraved perfume bottles").
        self.excluded = [
            (
                set(tokenize(p.subject)) - set(tokenize(p.title))
                if p.subject
                else set(tokenize(p.text)) - set(tokenize(p.lead)) - set(tokenize(p.title))
                if EXCLUDES.search(p.lead)
                else set(tokenize(_listed_inline(p.text))) - set(tokenize(p.title))
            )
            - _status_terms()
            - REFERENCE_WORDS
            for p in self.passages
        ]
        # The Chinese entries of each exclusion list, as the words of each that name a good ("清仓商品" → 清仓):
        # read here once, not on every turn.
        self.entries = [
            _chinese_entries(p.text, _specific(words)) for p, words in zip(self.passages, self.excluded, strict=True)
        ]
        # The currencies each passage is priced in (its text's, else its heading's), read once, not per turn.
        self.priced = [priced_in(p.text, p.heading) for p in self.passages]

    @staticmethod
    def _named(query: str, said: AbstractSet[str], words: AbstractSet[str], topic: AbstractSet[str]) -> set[str]:
        """Which of these words the question says: Chinese ones as written anywhere in it (segmentation can
        cut "秒杀价" as 秒 + 杀价), others as its words; never a word of the question's topic."""
        return {w for w in words - topic if w in said or (CJK_WORD.fullmatch(w) and w in query)}

    def _names_item(self, i: int, items: str, item_terms: set[str], topic: set[str]) -> set[str]:
        """The words of passage i's exclusion that name an item of the customer's orders (MIN_ITEM_TERMS, or one
        entry of a Chinese list: "清仓商品" lists "空气炸锅（清仓）", by its name or the shop's tag for it)."""
        hit = _items_name(_specific(self.excluded[i]), items, item_terms, topic)
        if hit:
            return hit
        # Or one entry of a Chinese list, all of whose words the item says ("清仓商品" of "空气炸锅（清仓）"; not
        # "安抚奶嘴" of "安抚兔子玩偶").
        return next(
            (set(said) for said in self.entries[i] if said == self._named(items, item_terms, said, topic)), set()
        )

    def _on_topic(self, aspects: set[str], lead: set[str], locale: str | None) -> set[str]:
        """Articles about the question: about its aspect if it has one; else about its leading intent and no
        narrower aspect (the exclusions article does not answer "what is your return policy")."""
        topics = {a: t for a, t in self.topics.items() if locale is None or self.locales[a] == locale}
        fitting = {a for a, t in topics.items() if t & aspects}
        # No article on the aspect: the topic's general article, not one about another aspect.
        fitting = fitting or {a for a, t in topics.items() if t & lead and not t & ASPECT_NAMES}
        return fitting or {a for a, t in topics.items() if t & (aspects | lead)}

    def search(
        self,
        query: str,
        top_k: int = 3,
        locale: str | None = None,
        wants_window: bool = False,
        intents: list[str] | None = None,
        statuses: list[str] | None = None,
        aspects: list[str] | None = None,
        deadline: bool = False,
        items: str = "",
        currencies: AbstractSet[str] = frozenset(),
    ) -> list[tuple[Passage, float]]:
        """The passages that answer the query: in an article whose title is about the question's leading
        intent, favouring those that state a time limit (wants_window) or that name the status the
        customer's order is in (statuses: whether it can still be cancelled or changed depends on it). An
        exclusion names what the question names, or an item of the customer's orders (items: their names):
        "cancel my order" of a presale gift set is answered by "Presale gift sets cannot be cancelled". A
        passage priced in another currency than the customer pays in (currencies, when known) doesn't answer:
        "US store: UPS Ground, USD 9.95" says nothing to a customer of the shop's Chinese store."""
        named = status_words(statuses or [])
        terms = set(tokenize(query))
        amounts = stated_amounts(query)
        asks_amount = bool(ASKS_AMOUNT.search(query))
        # The words of the question's topic itself ("降价" in a price-protection question) name no exclusion.
        topic = set(
            tokenize(
                " ".join([*(INTENT_WORDS.get(n, "") for n in intents or []), *(ASPECTS[a][2] for a in aspects or [])])
            )
        )
        if not terms:
            return []
        if named:
            # The order's status is known: what the policy says for it answers, not what the customer thinks
            # it is ("it hasn't shipped, right?" of a paid order is not asking about shipped orders).
            terms = (terms - _status_terms()) | (terms & topic) or terms
        item_terms = set(tokenize(items))
        article_score = {a: self.articles.score(i, terms) for i, a in enumerate(self.article_ids)}
        # Articles whose title is the question's topic (its aspect, else its leading intent) are the only
        # candidates when there are any: a refund-timing sentence does not answer a return-window question.
        lead = set((intents or [])[:1])
        # Aspects (a fault, an exclusion, a change of mind) narrow return-like questions only: "which courier
        # for non-food items" is about shipping, whatever the word "food" suggests.
        narrowing = set(aspects or []) if not lead or lead & ASPECT_INTENTS else set()
        if lead == {"cancel"}:
            narrowing.discard("change_of_mind")  # every cancel is a change of mind: the returns article isn't it
        on_topic = self._on_topic(narrowing, lead, locale)
        scored: list[tuple[Passage, float]] = []
        # The order's items pick out an exclusion for what may not be done to them (returned, cancelled…), but
        # never for a fault: "my engraved perfume arrived broken" is a defect claim, whatever the exclusions
        # say about returning engraved perfume.
        fault = "quality" in (aspects or []) and "change_of_mind" not in (aspects or [])
        use_items = bool(items) and bool(lead & ITEM_EXCLUSION_INTENTS) and not fault
        returning = {"exclusion"} if lead == {"return"} else set()
        # (A question that names the fast service, "I paid the express fee, when does it ship?", is left as it
        # was: its words find that row by themselves.)
        speed = None if lead != {"shipping"} else bool(_ASKS_SPEED.search(query))
        for i, passage in enumerate(self.passages):
            if locale and passage.locale != locale:
                continue
            if currencies and self.priced[i] and not self.priced[i] & currencies:
                continue
            sentence = self.sentences.score(i, terms)
            # The question names something the policy lists as not covered: that item answers it.
            named_here = self._named(query, terms, self.excluded[i], topic)
            excluded = {t for t in named_here if self.sentences.df[t] <= MAX_SPECIFIC_DF}
            by_item = self._names_item(i, items, item_terms, topic) if use_items else set()
            excluded |= by_item
            # Off the topic, unless it excludes an item of the order from what is asked (an article about
            # exclusions is about returns: RETURN_ASPECTS).
            # (not from an article about another kind of return: what a warranty doesn't cover excludes nothing
            # from a change of mind)
            other_kind = (self.topics[passage.article_id] & RETURN_ASPECTS) - set(aspects) if aspects else set()
            # (or, with no order to go by, the question itself names what the passage excludes: "can engraved
            # pens be returned?" asks the exclusions article; never for a fault)
            excludes_item = (
                bool(by_item or (excluded and not items and not fault and not _unused_said_of(passage.text, query)))
                and bool(self.topics[passage.article_id] & (lead | returning))
                and not other_kind
            )
            if on_topic and passage.article_id not in on_topic and not excludes_item:
                continue
            if excluded:
                # ("Black Friday" names one exclusion in two words, "sale" another in one: the first answers)
                named_more = 1 + NAMED_WORD_BOOST * (len(excluded) - 1)
                sentence = max(sentence, self.sentences.score(i, excluded)) * EXCLUSION_BOOST * named_more
            if sentence > 0:
                if self._named(query, terms, self.conditions[i], topic):
                    sentence *= CONDITION_BOOST
                elif _specific_named(self._named(query, terms, self.row_names[i], topic), self.sentences):
                    # The question names the row's case in a word few passages say ("新疆包邮吗" of the row
                    # "偏远地区：新疆、西藏…"): that row, not the table's first.
                    sentence *= CONDITION_BOOST
                if amounts and amount_ranges(passage.text):
                    # A row about "up to 49" answers for 46; one about "over 49" does not.
                    sentence *= RANGE_BOOST if in_range(passage.text, amounts) else 1 / RANGE_BOOST
                if asks_amount and states_money(passage.text):
                    sentence *= AMOUNT_BOOST  # "how much do I need to spend": the row with the amounts
                if _EXAMPLES.match(passage.heading):
                    sentence /= CONDITION_BOOST  # "举例: 3 月 1 日下单…": an illustration, never the rule itself
                if speed is False and expedited_only(f"{passage.heading} {passage.text}"):
                    sentence /= EXPEDITED_BOOST
                if _DURATION.search(passage.text):
                    # Within the article about the question, the passage that states the limit.
                    if deadline:  # "can I (still)": the deadline, not how long something takes
                        sentence *= WINDOW_BOOST * DEADLINE_BOOST if _DEADLINE.search(passage.text) else LIMIT_BOOST
                    else:
                        sentence *= WINDOW_BOOST if wants_window else LIMIT_BOOST
                if says_status(passage.text, named, passage.row_key):
                    # A table row keyed by the status is what the policy says for it; a sentence that
                    # mentions it in passing ("pre-orders stay in Paid…") only may be.
                    sentence *= STATUS_BOOST * (ROW_KEY_BOOST if passage.row_key else 1.0)
                scored.append((passage, sentence + article_score[passage.article_id]))
        scored.sort(key=lambda ps: (-ps[1], ps[0].article_id, ps[0].index))
        return scored[:top_k]


class _Memo(Generic[K, V]):
    """One value per process, built again when its key changes (double-checked under a lock); the builder
    gets the previous (key, value) to build on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[K, V] | None = None

    def get(self, key: K, build: Callable[[tuple[K, V] | None], V]) -> V:
        held = self._held
        if held and held[0] == key:
            return held[1]
        with self._lock:
            held = self._held
            if held and held[0] == key:
                return held[1]
            value = build(held)
            self._held = (key, value)
            return value


_index: _Memo[str, PolicyIndex] = _Memo()
_catalog: _Memo[tuple[int, str] | None, frozenset[str]] = _Memo()


def get_index(session: Session) -> PolicyIndex:
    """The index over the current articles, rebuilt only when an article changes."""
    return _index.get(repository.articles_fingerprint(session), lambda _: PolicyIndex(repository.all_articles(session)))


def catalog_words(session: Session) -> frozenset[str]:
    """The words that name what the shop sells (every item name its orders hold), as tokenize() writes them.
    Kept per process and read on: each turn reads only the newest item (its id and name); when newer items
    came in since, only their names are read, if the item last seen is still there as it was (else, a
    database emptied and filled again, all of them). The words of items since deleted stay until the process
    restarts: a word too many only makes a passage about that item."""
    newest = repository.newest_item(session)

    def read(held: tuple[tuple[int, str] | None, frozenset[str]] | None) -> frozenset[str]:
        since, known = None, frozenset[str]()
        if held and held[0] and newest and newest[0] > held[0][0]:
            last_id, last_name = held[0]
            if repository.item_name(session, last_id) == last_name:
                since, known = last_id, held[1]
        return known | frozenset(w for name in repository.catalog_names(session, since) for w in tokenize(name))

    return _catalog.get(newest, read)


def retrieve(
    session: Session,
    query: str,
    locale: str,
    top_k: int = 3,
    statuses: list[str] | None = None,
    items: list[str] | None = None,
    currencies: AbstractSet[str] = frozenset(),
) -> list[PolicyFact]:
    """The passages of the shop's current articles that best answer the query (see passages())."""
    return passages(get_index(session), query, locale, top_k, statuses, items, catalog_words(session), currencies)


def passages(
    index: PolicyIndex,
    query: str,
    locale: str,
    top_k: int = 3,
    statuses: list[str] | None = None,
    items: list[str] | None = None,
    catalog: AbstractSet[str] = frozenset(),
    currencies: AbstractSet[str] = frozenset(),
) -> list[PolicyFact]:
    """The passages that best answer the query, in the customer's language when the shop has them, and in the
    currency the customer pays in when it is known and some passage speaks for it.

    The query is widened with the words policies use for what it asks about (a change of mind, a fault,
    an exclusion), and a question about a time limit favours passages that state one.
    """
    expanded, intents = expand_query(query), detect_intents(query)
    aspects = detect_aspects(query)
    # "Can I get the difference back?" and "it broke, what are my options?" are answered by the condition
    # with its time limit, asked or not: whether the claim can be made depends on it.
    window = (
        bool(ASKS_WINDOW.search(query))
        or intents[:1] == ["price_protection"]
        or (intents[:1] == ["return"] and "quality" in aspects)
    )
    deadline = window and not _ASKS_TIMING.search(query)
    # "能退吗" of an order: whether it can depends on the return window, so the article's deadline joins
    # the passages (not favoured over them: an exclusion of the order's item still answers first).
    yes_no = intents[:1] == ["return"] and any(items or []) and bool(ASKS_YES_NO.search(query))
    fault = intents[:1] == ["return"] and "quality" in aspects
    named = " ".join(items or [])
    hits = index.search(expanded, top_k, locale, window, intents, statuses, aspects, deadline, named, currencies)
    if not hits and currencies:  # no passage in their currency: any in their language
        hits = index.search(expanded, top_k, locale, window, intents, statuses, aspects, deadline, named)
    hits = hits or index.search(expanded, top_k, None, window, intents, statuses, aspects, deadline, named)
    best = hits[0][0].article_id if hits else ""
    if intents[:1] == ["invoice"] and hits:
        # "Can I get an invoice for …" is answered by until when one may be requested and how long issuing
        # takes: the article's deadline and its first other time limit join the passages, ranked last; "can
        # you redo it with my company name?" by until when an issued one may be changed.
        stated = _first_of(index, best, lambda p: bool(_DEADLINE.search(p.text)))
        change = (
            _first_of(index, best, lambda p: change_window(p.text) is not None) if asks_invoice_change(query) else None
        )
        hits = _joined(hits, [stated, _first_of(index, best, lambda p: states_issuing_time(p.text)), change])
    elif fault and hits:
        # A fault claim is answered by its window and, once that has passed, by what the policy offers after
        # it ("超过 60 天怎么办": the warranty): that passage joins, ranked last, for the composer to choose.
        shown = {(p.article_id, p.index) for p, _ in hits}
        later = _first_of(
            index,
            best,
            lambda p: (p.article_id, p.index) not in shown and bool(_AFTER_WINDOW.search(f"{p.heading} {p.text}")),
        )
        # And what the policy says for the order's own goods after it, by product ("Espresso machines … | 2
        # years"): the row that names them and states a term.
        term = _first_of(
            index,
            best,
            lambda p: (p.article_id, p.index) not in shown and states_term_for(p.text, named, query),
        )
        # And what it gives then ("Under warranty we repair or replace the item"), which the first sentence
        # of the section ("After the first 30 days a fault is handled under our warranty") may not say.
        remedy = _first_of(
            index,
            best,
            lambda p: (p.article_id, p.index) not in shown and offers_remedy(p.heading, p.text),
        )
        hits = _joined(hits, [later, term, remedy])
    if asks_term(query) and hits:
        # "安全座椅保修多久?", "how long is the warranty on the stroller?": the article's term for the good the
        # question names ("儿童安全座椅及ISOFIX底座：保修2年") answers first, before its general windows.
        asked = _beyond_topics(_specific(tokenize(query))) - _asking() - _warranty_words()
        terms = [p for p in index.passages if p.article_id == best and states_term(p.text)]
        overlap = {id(p): len(asked & set(tokenize(f"{p.heading} {p.text}"))) for p in terms}
        term = max(terms, key=lambda p: overlap[id(p)], default=None)
        if term is not None and overlap[id(term)] and sum(overlap[id(term)] == n for n in overlap.values()) == 1:
            hits = [(term, hits[0][1]), *((p, s) for p, s in hits if p is not term)]
    if (
        intents[:1] != ["invoice"]
        and (deadline or yes_no)
        and hits
        and not any(_DEADLINE.search(p.text) for p, _ in hits)
    ):
        # "Can I…" is answered by the deadline; when the words matched other passages of the article that
        # answers (how the refund is paid), its deadline joins them, ranked last.
        hits = _joined(hits, [_first_of(index, best, lambda p: bool(_DEADLINE.search(p.text)))])
    return [
        PolicyFact(
            article_id=p.article_id,
            title=p.title,
            text=p.text,
            passage=p.index,
            score=round(s, 3),
            locale=p.locale,
            version=index.versions.get(p.article_id, 0),
            condition=p.heading,
            verdict=p.verdict,
            subject=p.subject or _heading_items(p, catalog) or _label_items(p.text, catalog),
            row_key=p.row_key,
        )
        for p, s in hits
    ]


def _heading_items(passage: Passage, catalog: AbstractSet[str]) -> str:
    """What a passage is about when its section's heading and its own text name things the shop sells (under
    "定制印刷手机壳可以取消吗？", "定制壳仅限付款后6小时内…可以取消"): a Chinese word or two other words of its item
    names, beyond the article's title and any topic's words. It then speaks for those items only (applies_to);
    a heading that names a class ("Fresh food (fruit, …)") over text that doesn't is a section, not a subject."""
    words = _heading_words(passage.heading, passage.text, passage.title) & catalog
    named = any(CJK_WORD.fullmatch(w) and len(w) > 1 for w in words) or len(words) >= MIN_ITEM_TERMS
    return " ".join(sorted(words)) if named else ""


# A sentence that opens with a label naming what it is about ("Refurbished items: if a refurbished product is
# dead on arrival …", "定制商品：…"): a few words, then a colon.
_LABEL = re.compile(r"^\s*([^:：.。!?！？]{2,40}?)\s*[:：]")


def _label_items(text: str, catalog: AbstractSet[str]) -> str:
    """What a passage is about when it opens with a label that names goods the shop sells ("Refurbished
    items: …" in a shop that sells refurbished earbuds): it then speaks for those goods only (applies_to).
    One word of the shop's item names is enough here, where a heading needs two: the label is the
    sentence's own subject, not a section's title over several."""
    label = _LABEL.match(text)
    if not label or len(re.findall(r"[:：]", text)) > 1:
        return ""  # a table row read out ("Order total (gift cards excluded): …; Fee: …") has no one label
    return " ".join(sorted(_beyond_topics(_specific(tokenize(label.group(1))) & catalog)))


@functools.cache
def _warranty_words() -> frozenset[str]:
    """What a warranty is called: it names the topic of a term question, not the good."""
    return frozenset(tokenize("warranty guarantee period 保修 质保 保固 保修期 请问"))


def _beyond_topics(words: AbstractSet[str]) -> set[str]:
    """The words that name something, beyond any topic's, status's or reference's words ("invoice", "shipped",
    "order")."""
    return set(words) - _topic_terms() - _status_terms() - REFERENCE_WORDS


@functools.lru_cache(maxsize=1024)
def _heading_words(heading: str, text: str, title: str) -> frozenset[str]:
    """The words a passage's heading and its text share, beyond its title and any topic's or status's words
    (tokenized once per passage, not once per turn)."""
    shared = _specific(tokenize(heading)) & set(tokenize(text))
    return frozenset(_beyond_topics(shared - set(tokenize(title))))


# A section of worked examples ("Examples", "For example", "举例", "示例").
_EXAMPLES = re.compile(r"^\W*(?:(?:examples?|for example|e\.g\.|worked examples?)\b|举例|例如|示例|案例)", re.I)


# How long after an invoice was issued it may still be changed ("within 30 days of the invoice date", "within
# 30 days of issue", "发票开具之日起 30 天内", "开票后30天内"), and a question asking for such a change ("redo the
# invoice with my company's name", "抬头开的是个人，能重新开吗").
_CHANGE_WINDOW = re.compile(
    r"(\d+)\s*(?:calendar\s+)?days?\s+(?:of|after|from)\s+(?:the\s+)?(?:(?:fapiao|invoice|receipt)(?:'s)?\s+"
    r"(?:issue\s+)?date|date of (?:the\s+)?(?:invoice|fapiao|receipt|issue)|issue(?:\s+date)?\b|issuing\b)"
    r"|(?:发票开具|开票|发票日期|开具)(?:之日)?(?:后|起)?\s*(\d+)\s*(?:个)?(?:天|日)",
    re.IGNORECASE,
)
_INVOICE_CHANGE = re.compile(
    r"\b(?:change|correct|redo|re-do|reissue|re-issue|amend|update|fix|add|put)\b.{0,40}"
    r"\b(?:invoice|receipt|fapiao|title|company|tax id|vat)"
    r"|\b(?:invoice|receipt|fapiao)\b.{0,60}\b(?:redone|reissued|re-issued|changed|corrected|updated|amended)\b"
    r"|\b(?:with|under) (?:my|our|the) (?:company|firm|employer|business)(?:'s)? (?:name|details)\b"
    r"|换开|重开|重新开|改抬头|换抬头|修改抬头|抬头.{0,12}(?:改|换|错|重新)|公司抬头|单位抬头|开错|税号.{0,6}(?:错|改)",
    re.IGNORECASE,
)


# The same window counted from delivery, said of changing the invoice ("You can add or change the company name
# on your invoice up to 60 days after delivery", "签收后 60 天内可以修改发票抬头").
_CHANGE_AFTER_DELIVERY = re.compile(
    r"(\d+)\s*(?:calendar\s+)?days?\s+(?:of|after|from)\s+(?:the\s+)?(?:delivery|receipt|receiving)\b"
    r"|(?:签收|收货)(?:之日)?(?:后|起)\s*(\d+)\s*(?:个)?(?:天|日)",
    re.IGNORECASE,
)
_CHANGING = re.compile(
    r"\b(?:change|correct|amend|add|update|reissue|re-issue|redo)\b|换开|重开|重新开具|修改|更改|更正",
    re.IGNORECASE,
)


def change_window(text: str) -> int | None:
    """The days after its issue within which an invoice may be changed, as the passage states them."""
    match = _CHANGE_WINDOW.search(text)
    return int(match.group(1) or match.group(2)) if match else None


def change_window_after_delivery(text: str) -> int | None:
    """The days after delivery within which an invoice may be changed, when the passage says so of a change
    ("add or change … on your invoice up to 60 days after delivery"), not of asking for one at all."""
    match = _CHANGE_AFTER_DELIVERY.search(text)
    if not match or not _CHANGING.search(text[: match.start()]) or EXCLUDES.search(text[: match.start()]):
        return None
    return int(match.group(1) or match.group(2))


def asks_invoice_change(question: str) -> bool:
    """The question asks to change an invoice already issued (its title, name or tax ID)."""
    return bool(_INVOICE_CHANGE.search(question))


def _specific_named(words: set[str], sentences: BM25) -> bool:
    """Some of these words are said by few passages (MAX_SPECIFIC_DF): they name a case, not the topic."""
    return any(sentences.df[w] <= MAX_SPECIFIC_DF for w in words)


def _first_of(index: PolicyIndex, article_id: str, test: Callable[[Passage], bool]) -> Passage | None:
    """The article's first passage that passes the test."""
    return next((p for p in index.passages if p.article_id == article_id and test(p)), None)


def _joined(hits: list[tuple[Passage, float]], extra: list[Passage | None]) -> list[tuple[Passage, float]]:
    """The hits with these passages of their article after them, ranked last (those not among them already)."""
    shown = {(p.article_id, p.index) for p, _ in hits}
    added = [(p, hits[-1][1]) for p in extra if p is not None and (p.article_id, p.index) not in shown]
    return [*hits, *added]


# How long something takes to be issued or sent ("we email the PDF within 3 business days", "3 个工作日内开具").
_ISSUING = re.compile(r"\b(?:issue[sd]?|send|sent|e-?mail(?:ed)?)\b|开具|开出|发送|寄出", re.IGNORECASE)
_NO_LONGER = re.compile(r"\bno longer\b|\bnot any ?more\b|不再", re.IGNORECASE)
_REQUEST = re.compile(r"\b(?:request|apply|ask for|ask us)\b|申请|补开|索取|索要", re.IGNORECASE)


def asks_for(text: str) -> bool:
    """The passage is about asking for something ("request one within 90 days", "可申请时间")."""
    return bool(_REQUEST.search(text))


def states_issuing_time(text: str) -> bool:
    """The text says how long issuing or sending takes, with no deadline ("we email it within 3 business days"),
    and not what can no longer be done ("after 60 days we can no longer issue one" is a deadline)."""
    return bool(
        _DURATION.search(text)
        and _ISSUING.search(text)
        and not _DEADLINE.search(text)
        and not EXCLUDES.search(text)
        and not _NO_LONGER.search(text)
    )


def issuing_distance(text: str) -> int:
    """How many characters lie between a time limit and the nearest issuing word in the text."""
    durations = [m.span() for m in _DURATION.finditer(text)]
    verbs = [m.span() for m in _ISSUING.finditer(text)]
    return min(
        (max(v[0] - d[1], d[0] - v[1], 0) for d in durations for v in verbs),
        default=len(text),
    )


# What applies once a window has passed, whatever its length ("After the first 60 days", "超过 60 天怎么办").
_AFTER_WINDOW = re.compile(
    r"(?:after|beyond|more than|over|past)\s+(?:the\s+)?(?:first\s+)?\d+\s*(?:calendar\s+)?days"
    r"|(?:超过|过了|超出)\s*(?:前\s*)?\d+\s*天|\bwarrant|保修|质保",
    re.IGNORECASE,
)
_WARRANTY = re.compile(r"\bwarrant|保修|质保|保固", re.IGNORECASE)
# What a fault gets once its window has passed: a repair, a replacement, an exchange.
_REMEDY = re.compile(r"\brepair|\breplac|\bexchang|\bfix(?:ed|es)?\b|维修|修理|返修|更换|换新|换货", re.IGNORECASE)
# A section of what is not covered ("What warranty doesn't cover", "不在保修范围"), or a passage that opens so
# ("Not covered: … repairs by third parties"): not what a fault gets.
_NOT_COVERED = re.compile(r"\bnot\b|n't\b|\bexclu|不", re.IGNORECASE)
_COVER_EXCLUDED = re.compile(
    r"not covered|not included|excluded|exclusions?\b|(?:doesn'?t|does not|won'?t|will not) cover"
    r"|不保修|不在保修|不属于保修|不包括|不予保修|不享受",
    re.IGNORECASE,
)


def offers_remedy(heading: str, text: str) -> bool:
    """The passage says what a fault gets after its window ("Under warranty we repair or replace the item"):
    a remedy, in a section about what applies after it and not about what is excluded."""
    after = _AFTER_WINDOW.search(f"{heading} {text}")
    excluded = _NOT_COVERED.search(heading) or _COVER_EXCLUDED.search(text[:40])
    return bool(after and _REMEDY.search(text) and not excluded)


def beyond_window(fact: PolicyFact, days: int) -> bool:
    """The passage says what applies once a window of `days` has passed: "After the first 60 days, faults
    are repaired…", or it sits under a heading such as "超过 60 天:机器两年保修" or "Warranty"."""
    after = re.compile(
        rf"(?:after|beyond|past|over|more than|outside|once)\s+(?:the\s+)?(?:first\s+)?{days}\s*(?:calendar\s+)?days?"
        rf"|(?:超过|过了|满|超出)\s*(?:前\s*)?{days}\s*天",
        re.IGNORECASE,
    )
    return bool(after.search(f"{fact.condition} {fact.text}") or _WARRANTY.search(fact.condition))


def amount_ranges(text: str) -> list[tuple[Decimal, Decimal]]:
    """The ranges of amounts the text is about, inclusive ("up to 49" is 0–49, "over 49" 49 and more)."""
    found: list[tuple[Decimal, Decimal]] = []
    for pattern, kind in _RANGES:
        for match in pattern.finditer(text):
            numbers = [Decimal(g) for g in match.groups() if g]
            if kind == "between" and len(numbers) == 2 and numbers[0] < numbers[1]:
                found.append((numbers[0], numbers[1]))
            elif kind == "from" and numbers:
                found.append((numbers[0], Decimal("Infinity")))
            elif kind == "upto" and numbers:
                found.append((Decimal(0), numbers[0]))
    return found


def in_range(text: str, amounts: set[Decimal]) -> bool:
    """An amount the question states falls in a range the passage is about."""
    return any(low <= a <= high for low, high in amount_ranges(text) for a in amounts)


_ASKS_DEADLINE = re.compile(
    r"\bhow (?:long|many days|much time) do (?:i|we) (?:have|get)\b|\bstill\b|\btoo late\b|\bdeadline\b"
    r"|\btime limit\b|\b(?:by|until|till) when\b|\blast day\b"
    r"|还能|还来得及|期限|截止|多久之内|几天之内|几天内|多少天内|最晚",
    re.IGNORECASE,
)


def asks_deadline(question: str) -> bool:
    """The question asks until when something can be done ("how long do I have", "还能退吗"), not how long
    something takes ("how long does the refund take") nor what a service is ("next day delivery")."""
    return bool(_ASKS_DEADLINE.search(question)) and not _ASKS_TIMING.search(question)


def states_deadline(text: str) -> bool:
    """The text states a limit counted from an event ("within 90 days of receipt", "签收后 30 天内")."""
    return bool(_DEADLINE.search(text))


def asks_term(question: str) -> bool:
    """The question asks how long a warranty runs ("保修多久", "how long is the warranty on …")."""
    return bool(_ASKS_TERM.search(question))


def states_term(text: str) -> bool:
    """The text states a warranty's term ("2 years", "保修1年", "6 months")."""
    return bool(_TERM.search(text))


def states_term_for(text: str, items: str, question: str = "") -> bool:
    """The passage states a term (a warranty's years or months) for these goods ("Espresso machines … | 2 years"),
    or for the one of them the question names ("my 65W charger" of a charger and a cable: "Chargers (wall and
    car) | 12 months"; one shared word is enough when the customer said it too)."""
    if not items or not states_term(text):
        return False
    if names_items(text, items):
        return True
    asked = _specific(tokenize(text)) & set(tokenize(items)) & set(tokenize(question))
    return bool(_beyond_topics(asked))


def states_limit(text: str) -> bool:
    """The text states a time limit ("within 15 days", "48 小时内")."""
    return bool(_DURATION.search(text))


# Other sellers ("prices at other shops or marketplaces", "别家平台的价格"), and the shop itself as the customer
# names it ("it's 34,99 on your site", "你们官网现在便宜了").
_ELSEWHERE = re.compile(
    r"\bother (?:shops?|stores?|retailers?|sellers?|sites?|websites?|marketplaces?|platforms?|merchants?)\b"
    r"|\bcompetitors?\b|\belsewhere\b|\banother (?:shop|store|retailer|seller|site|website|platform)\b"
    r"|其他(?:店|平台|商家|网站|渠道)|其它(?:店|平台|商家|网站|渠道)|别家|别的(?:店|平台|商家)|竞争对手|第三方平台",
    re.IGNORECASE,
)
_OWN_SHOP = re.compile(
    r"\b(?:your|ur) (?:own )?(?:site|website|web ?shop|shop|store|app|page|homepage)\b|\bon your\b"
    r"|你们(?:店|家|官网|网站|这边|页面|店铺|商城|app)|贵店|本店|官网|店里",
    re.IGNORECASE,
)


def is_exclusion(fact: PolicyFact) -> bool:
    """The passage says what a policy does not cover (by its article's title, its section or its words)."""
    return bool(EXCLUDES.search(f"{fact.title} {fact.condition} {fact.text}"))


def excludes_asked(fact: PolicyFact, question: str) -> bool:
    """The passage excludes something the question names ("coffee beans" in "Opened food of any kind,
    including coffee beans"), beyond the question's topic words ("return" is in every returns passage)."""
    if not is_exclusion(fact):
        return False
    if _ELSEWHERE.search(fact.text) and _OWN_SHOP.search(question) and not _ELSEWHERE.search(question):
        return False  # "prices at other shops" of a price the customer saw on the shop's own site
    said = set(tokenize(f"{fact.condition} {fact.text}"))  # the item may be the section's name
    named = PolicyIndex._named(question, _question_words(question), said, _question_topic(question))
    return any(len(w) >= 3 or CJK_WORD.fullmatch(w) for w in named - REFERENCE_WORDS - _mind_words())


@functools.cache
def _mind_words() -> frozenset[str]:
    """ "Changed my mind": the reason for a return, which a list of what "can't be returned for a change of
    mind" also says; it names no excluded thing."""
    return frozenset(tokenize("change changed changing mind"))


@functools.lru_cache(maxsize=256)
def _question_words(question: str) -> frozenset[str]:
    return frozenset(tokenize(question))


@functools.lru_cache(maxsize=256)
def _question_topic(question: str) -> frozenset[str]:
    """The words of the question's own topics and aspects: they name no exclusion (asked per passage, so kept)."""
    words = [*(INTENT_WORDS.get(n, "") for n in detect_intents(question))]
    words += [ASPECTS[a][2] for a in detect_aspects(question)]
    return frozenset(tokenize(" ".join(words)))


# How passages name each currency: its code, its symbol (A$, HK$; a bare $ is the US dollar), its name.
_NUMBER = re.compile(r"\d")
_DOLLAR_OF = r"(?<!australian )(?<!canadian )(?<!zealand )(?<!singapore )(?<!kong )"
_CURRENCIES = {
    "USD": re.compile(rf"\bUSD\b|US\$|(?<![A-Za-z])\$|\b{_DOLLAR_OF}(?:US )?dollars?\b|美元|美金", re.IGNORECASE),
    "CNY": re.compile(r"\b(?:CNY|RMB|yuan)\b|[¥￥]|(?<![美欧英港日澳加台纽新])元|人民币", re.IGNORECASE),
    "EUR": re.compile(r"\bEUR\b|€|\beuros?\b|欧元", re.IGNORECASE),
    "GBP": re.compile(r"\bGBP\b|£|\bpounds?\b|英镑", re.IGNORECASE),
    "AUD": re.compile(r"\bAUD\b|\bAU?\$|\baustralian dollars?\b|澳元|澳币", re.IGNORECASE),
    "CAD": re.compile(r"\bCAD\b|\bCA?\$|\bcanadian dollars?\b|加元|加币", re.IGNORECASE),
    "NZD": re.compile(r"\bNZD\b|\bNZ\$|\bnew zealand dollars?\b|纽元|纽币|新西兰元", re.IGNORECASE),
    "SGD": re.compile(r"\bSGD\b|\bS\$|\bsingapore dollars?\b|新加坡元|新币", re.IGNORECASE),
    "HKD": re.compile(r"\bHKD\b|\bHK\$|\bhong kong dollars?\b|港币|港元", re.IGNORECASE),
    "JPY": re.compile(r"\bJPY\b|円|日元|\byen\b", re.IGNORECASE),
}


def states_money(text: str) -> bool:
    """The text states an amount of money: a number and a currency ("HKD 350.00", "满 199 元", "A$9.95")."""
    return bool(_NUMBER.search(text)) and any(p.search(text) for p in _CURRENCIES.values())


def in_currency(fact: PolicyFact, currencies: set[str]) -> bool:
    """The passage names no currency the shop knows, or one of these: "CNY orders over 299 CNY" says nothing
    to a customer who pays in USD. A passage that names none speaks for the currency its section heading
    names ("playfield.cn: mainland China (CNY)": "Bulky items … Cost: free")."""
    named = priced_in(fact.text, fact.condition)
    return not named or bool(named & currencies)


def priced_in(text: str, heading: str) -> frozenset[str]:
    """The currencies a passage names: in its text, else in its section heading."""
    named = frozenset(code for code, pattern in _CURRENCIES.items() if pattern.search(text))
    return named or frozenset(code for code, pattern in _CURRENCIES.items() if pattern.search(heading))


# "Cat litter: unopened bags only", "unless it is faulty": a condition to meet, not a no.
_CONDITIONAL = re.compile(r"\bonly\b|\bunless\b|\bas long as\b|\bprovided\b|仅限|只限|除非|只要|前提是", re.IGNORECASE)


# An exclusion of used or opened things ("写过的笔记本", "sleeping pads that have been slept on") does not cover
# what the customer says is unused or sealed, unless it says it applies either way ("opened or unopened").
_USED_STATE = re.compile(
    r"\b(?:used|opened|worn|written in|inked|unsealed|slept on|washed|assembled)\b"
    r"|用过|使用过|写过|画过|拆封|拆开|开封|拆包|拆袋|穿过|洗过|安装过",
    re.IGNORECASE,
)
_EITHER_WAY = re.compile(
    r"opened or unopened|unopened or opened|used or unused|whether (?:or not )?(?:it is |they are )?(?:opened|used)"
    r"|even (?:when|if) (?:the \w+ is |it is |they are )?(?:sealed|unopened|unused)"
    r"|不论是否|无论是否|拆没拆|是否拆封|即使未",
    re.IGNORECASE,
)
_UNUSED_SAID = re.compile(
    r"\b(?:unused|unopened|unworn|still sealed|sealed"
    r"|never (?:been )?(?:used|opened|worn|inked|tried|applied|fitted))\b"
    r"|\b(?:haven'?t|hasn'?t|didn'?t|have not|has not|not|wasn'?t|weren'?t) (?:even |yet |ever |been )?"
    r"(?:used|opened|worn|inked|unboxed|tried|applied|fitted|installed|assembled|washed)\b"
    r"|没拆|未拆|没有拆|没用过|没有用过|没使用|未使用|没开封|未开封|没打开|全新|原封|没戴|没穿|没贴|没洗|没装|没试",
    re.IGNORECASE,
)


# The customer says the item has been used, opened or fitted ("opened it and tried it once", "写了几页", "贴上了",
# "戴了两天"): read after what says it hasn't ("还没拆" of the other pack) is taken out.
_USED_SAID = re.compile(
    r"\b(?:used|opened|tried (?:it|them|on)|worn|wore|washed|applied|fitted|installed|assembled|tested|written in"
    r"|wrote in|put (?:\S+ ){0,10}on\b)"
    r"|拆了|拆开了?|拆封了|打开了|用了|用过|试过|试了|写了|写过|戴了|戴过|穿了|穿过|贴上|贴了|洗过|洗了|装上|安装了|吃了|喝了",
    re.IGNORECASE,
)


# Part of what was bought ("opened one of the tins", "其中一罐拆了"): a verdict for the whole order doesn't fit it
# ("the rest", "剩下的" of one opened bag is opened too, and not said here).
_PART_SAID = re.compile(
    r"\b(?:one|two|some|a couple|a few|half) of (?:the|them|my|our|these|those)\b|\bthe other (?:one|two|\w+s)\b"
    r"|其中(?:一|两|几)|另外(?:一|两|几)|另一",
    re.IGNORECASE,
)


def says_part_used(question: str) -> bool:
    """The customer says some of the goods were used or opened, and not the others."""
    return says_used(question) and bool(_PART_SAID.search(question))


def says_used(question: str) -> bool:
    """The customer says (some of) the item was used, opened, worn or fitted: a return for any reason then
    turns on what the policy says of used items, not on the window alone."""
    return bool(_USED_SAID.search(_UNUSED_SAID.sub(" ", question)))


def _unused_said_of(text: str, question: str, subject: str = "") -> bool:
    """The passage (or the subject it is about) excludes used or opened things, not either way, and the customer
    says theirs is not ("Opened food … rice" of "can I return the rice if I haven't opened it?")."""
    about_use = _USED_STATE.search(f"{subject} {text}") and not _EITHER_WAY.search(text)
    return bool(about_use and _UNUSED_SAID.search(question))


def speaks_of_use(text: str) -> bool:
    """The passage says something of used, opened or fitted items ("may have been assembled", "拆封后不退")."""
    return bool(_USED_STATE.search(text))


def excludes_outright(fact: PolicyFact, question: str) -> bool:
    """The passage excludes what the question names, and without a condition the customer may meet (nor one
    they say they meet: "写过的笔记本不退" of a notebook "一直没拆封")."""
    if not excludes_asked(fact, question):
        return False
    if fact.verdict != "no" and _CONDITIONAL.search(fact.text):
        return False
    return not _unused_said_of(fact.text, question, fact.subject)


# A line of an order that is its delivery charge ("运费（德邦大件物流）", "Delivery – standard parcel"), not a thing
# the customer bought: no exclusion of goods is about it.
_CHARGE_LINE = re.compile(
    r"^\W*(?:shipping|delivery|freight|postage)(?:\s*(?:fees?|charges?|costs?)\b)?\s*(?:$|[-–—:(（]|\b(?:fee|charge)s?\b)"
    r"|^\W*(?:运费|邮费|快递费|配送费|运输费)",
    re.IGNORECASE,
)
_CHARGE_TAGS = frozenset({"shipping", "delivery", "freight", "postage", "运费", "邮费"})


def is_charge(item: dict[str, Any]) -> bool:
    """The order line is a delivery charge, by its name or its tag."""
    tags = {str(t).lower() for t in item.get("tags") or []}
    return bool(_CHARGE_LINE.match(str(item.get("name", "")))) or bool(tags & _CHARGE_TAGS)


def item_text(item: dict[str, Any]) -> str:
    """An item as exclusions name it: its name and the shop's tags for it (the categories its policies use:
    "live plant", "made-to-order")."""
    return " ".join([str(item.get("name", "")), *(str(t) for t in item.get("tags") or [])])


def item_names(orders: list[OrderFact]) -> str:
    """The orders' goods (names and tags, delivery charges left out), as one text to look for excluded items in."""
    return " ".join(item_text(item) for order in orders for item in order.items if not is_charge(item))


def excludes_every_item(fact: PolicyFact, question: str, order: OrderFact) -> bool:
    """The passage excludes, outright, every good of the order ("Live plants of every kind" of an order of one
    Monstera and its delivery): what the customer would send back is excluded whichever it is. An order with
    goods the passage doesn't name is not settled by it, nor is a fault claim."""
    goods = [item for item in order.items if not is_charge(item)]
    if not goods or not is_exclusion(fact) or (fact.verdict != "no" and _CONDITIONAL.search(fact.text)):
        return False
    aspects = detect_aspects(question)
    if "quality" in aspects and "change_of_mind" not in aspects:
        return False  # a faulty excluded item is still covered ("my engraved pen arrived cracked")
    if _USED_STATE.search(fact.subject) or _EITHER_WAY.search(fact.text):
        return False  # "once opened": what the customer says of each item decides (excludes_outright), not its kind
    # The goods are named in what the exclusion lists ("…can't be returned: Live plants of every kind: …",
    # "以下商品不支持无理由退货：…、定制家具"), not in a sentence that only mentions the shop's wares ("园艺商品里有不少
    # 是活的…一旦发出就无法再次销售") or points to another article ("…详见《不支持退换的商品》").
    said = EXCLUDES.search(fact.text)
    listed = fact.text[said.end() :] if said else ""
    if not _LIST_AFTER.search(listed):
        return False
    # Each entry of a Chinese list stands alone ("已拆封的营养土和肥料、定制家具"); an English sentence's state may
    # close it ("Potting mix, soil and fertiliser once opened"): an entry "once opened" doesn't settle it.
    entries = _ENTRIES.split(listed)
    return all(any(names_items(e, item_text(item)) and not _USED_STATE.search(e) for e in entries) for item in goods)


_LIST_AFTER = re.compile(r"[:：]")


def _specific(words: Iterable[str]) -> set[str]:
    """Words that can name a thing: three letters and more, or a Chinese word ("e", "t" of "can't" can't)."""
    return {w for w in words if len(w) >= 3 or CJK_WORD.fullmatch(w)}


def _items_name(words: set[str], items: str, item_terms: set[str], topic: set[str]) -> set[str]:
    """Those of words the order's item names say, when they are MIN_ITEM_TERMS of them (all, if fewer)."""
    hit = PolicyIndex._named(items, item_terms, words, topic) if words else set()
    return hit if hit and len(hit) >= min(MIN_ITEM_TERMS, len(words)) else set()


def applies_to(fact: PolicyFact, question: str, items: str) -> bool:
    """Whether a passage about some items only ("Exception: made-to-order desktops…", "Custom-engraved
    perfume bottles | No") is about this question's: two words of its subject (all, if fewer) are in the
    question or in the names of the order's items ("my cat won't drink from it" does not name "Fresh dog
    and cat food"). A passage about no particular items applies to all."""
    words = _specific(tokenize(fact.subject)) - set(tokenize(fact.title)) - _status_terms() - REFERENCE_WORDS
    if not fact.subject or not words:
        return True
    return bool(_items_name(words, question, set(tokenize(question)), set(_topic_terms()))) or bool(
        _items_name(words, items, set(tokenize(items)), set())
    )


def polarity(fact: PolicyFact) -> str:
    """ "yes" or "no": what the passage says, by its table cell or its words ("can't", "无法")."""
    return fact.verdict or ("no" if EXCLUDES.search(fact.text) else "yes")


def names_items(text: str, items: str) -> bool:
    """The passage names an item of the customer's orders ("礼品卡" of "电子礼品卡 ¥200"): a Chinese word or two
    other words of the item's name, beyond the words of any topic ("invoice", "发票")."""
    if not items:
        return False
    said = _specific(tokenize(text))
    named = _beyond_topics(said & set(tokenize(items)))
    return any(CJK_WORD.fullmatch(w) for w in named) or len(named) >= MIN_ITEM_TERMS


def item_overlap(text: str, items: str) -> int:
    """How many specific words of the items' names the text says (which of several rows names them best)."""
    return len(_beyond_topics(_specific(tokenize(text)) & set(tokenize(items))))


def names_part(text: str, question: str, items: str, beside: str = "") -> bool:
    """The text names something the question names that the items' names (and the text `beside` it, another
    row of its table) don't ("battery" in "is a new battery covered?" of a watch): a part, an accessory, a case
    of its own."""
    asked = _specific(tokenize(text)) & set(tokenize(question))
    return bool(_beyond_topics(asked - set(tokenize(items)) - set(tokenize(beside))))


def names_section(question: str, condition: str, title: str) -> bool:
    """The question names the case a section is about ("Singapore" in "… to my office in Singapore")."""
    words = set(tokenize(condition)) - set(tokenize(title)) - REFERENCE_WORDS - _asking()
    return bool(PolicyIndex._named(question, set(tokenize(question)), words, set()))


def named_conditions(question: str, policies: list[PolicyFact]) -> tuple[list[str], list[str]]:
    """The sections (headings) of one article whose passages state different time limits, and which of
    them the question names: "Fresh food (fruit, …, eggs)" and "Non-food items" for "the eggs arrived
    cracked" names the first. With several sections and none named, which limit applies is not known."""
    limits: dict[str, set[str]] = {}
    for fact in policies:
        if fact.condition and fact.article_id == policies[0].article_id:
            limits.setdefault(fact.condition, set()).update(_DURATION.findall(fact.text))
    sections = [c for c, found in limits.items() if found]
    if len(sections) < 2 or len({frozenset(limits[c]) for c in sections}) < 2:
        return [], []
    said = set(tokenize(question))
    title = set(tokenize(policies[0].title))
    # The question's own topic words ("difference" in a price-protection question) name no section.
    topic = set(tokenize(" ".join(INTENT_WORDS.get(name, "") for name in detect_intents(question))))
    named = [c for c in sections if PolicyIndex._named(question, said, set(tokenize(c)) - title - _asking(), topic)]
    return sections, named
