"""The grounded template composer: answers the common intents from facts alone, in zh or en."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from app.grounding.facts import (
    NOT_SENT,
    Fact,
    InvoiceFact,
    OrderChoiceFact,
    OrderFact,
    OrderNotFoundFact,
    PolicyFact,
    RuleFact,
)
from app.grounding.intents import ORDER_INTENTS, STATUS_DEPENDENT, detect_aspects
from app.grounding.policies import (
    EXCLUDES,
    applies_to,
    asks_deadline,
    asks_for,
    asks_term,
    beyond_window,
    excludes_every_item,
    excludes_outright,
    in_currency,
    is_exclusion,
    issuing_distance,
    item_names,
    named_conditions,
    names_items,
    names_section,
    offers_remedy,
    polarity,
    says_part_used,
    says_status,
    says_used,
    speaks_of_use,
    states_deadline,
    states_issuing_time,
    states_limit,
    states_term,
    states_term_for,
    status_heading,
    status_words,
)
from app.grounding.rules import NO_INVOICE
from app.llm.prompts import phrasebook

POLICY_INTENTS = ("return", "refund", "shipping", "address_change", "invoice", "cancel", "price_protection")
MAX_ORDERS = 3
MAX_POLICY_PASSAGES = 2
MIN_POLICY_SCORE = 1.0
# Questions answered yes or no for one order: the reply says which, in words, after the policy it follows from.
VERDICT_INTENTS = frozenset({"cancel", "address_change", "return", "price_protection"})


@dataclass
class Composition:
    text: str
    intent: str
    sources: list[str] = field(default_factory=list)
    hands_over: bool = False  # the customer asked for a person: the conversation goes to the agents


def compose(
    intents: list[str], facts: list[Fact], lang: str, question: str = "", currencies: frozenset[str] = frozenset()
) -> Composition | None:
    """A reply built only from the facts, or None where the composer has nothing grounded to say. `currencies`:
    what the customer pays in (their orders'), for passages priced per currency when no order is in question."""
    book = phrasebook(lang)
    if "human" in intents:
        return Composition(str(book.human()), "human", hands_over=True)

    uploaded = [f for f in facts if isinstance(f, InvoiceFact)]
    covered = {f.order_id for f in uploaded}
    orders = [f for f in facts if isinstance(f, OrderFact) and f.order_id not in covered][:MAX_ORDERS]
    missing = [f for f in facts if isinstance(f, OrderNotFoundFact)]
    choices = [f for f in facts if isinstance(f, OrderChoiceFact)]
    policies = [f for f in facts if isinstance(f, PolicyFact) and f.score >= MIN_POLICY_SCORE]
    items = item_names(orders)
    if orders:
        # A passage about some items only ("Exception: made-to-order desktops…") says nothing about others.
        policies = [p for p in policies if applies_to(p, question, items)]
    # Passages priced in the customer's currency, when the article prices each currency apart.
    paid_in = {o.currency.upper() for o in orders if o.currency} or set(currencies)
    if paid_in:
        policies = [p for p in policies if in_currency(p, paid_in)] or policies
    if len(orders) == 1 and intents and intents[0] in VERDICT_INTENTS - STATUS_DEPENDENT:
        # A passage that excludes every good of the one order answers before the general rule it is an
        # exception to ("most things can come back within 14 days" / "定制家具不支持无理由退货").
        policies = sorted(policies, key=lambda p: not excludes_every_item(p, question, orders[0]))
    # Quote one article, the best match: passages from several read as a list of loose ends.
    policies = [p for p in policies if p.article_id == policies[0].article_id] if policies else []
    if asks_deadline(question):
        # "How long do I have to send it back?": the passage with the deadline answers, whatever else matched.
        # (an exclusion the question names still first: "bought in the Boxing Day deals")
        policies = sorted(policies, key=lambda p: (not excludes_outright(p, question), not states_deadline(p.text)))
    if uploaded and "invoice" not in intents:
        intents = ["invoice", *intents]  # an invoice picture is itself the question
    intent = intents[0] if intents else ("order_status" if orders or missing or choices else "")
    if not intent:
        return None

    parts: list[str] = []
    sources: list[str] = []
    for invoice in uploaded:
        parts.append(str(book.uploaded_invoice(invoice)))
        sources.append(invoice.source)
    if uploaded:
        policies = []  # the invoice verdict already applies the policy
    for fact in missing:
        parts.append(str(book.not_found(fact)))
        sources.append(fact.source)
    for choice in choices:
        parts.append(str(book.choose_order(choice)))
        sources.append(choice.source)
    if intent in ORDER_INTENTS or orders:
        for order in orders:
            line = book.order_invoice(order) if intent == "invoice" else book.order_status(order)
            parts.append(str(line))
            sources.append(order.source)
        if intent == "order_status" and not orders and not missing and not choices:
            parts.append(str(book.no_orders()))
        about = _status_policy(question, orders, policies)
        if intent == "order_status" and about:
            # "It says delivered but nothing came", "when will the pre-order ship?": the status alone
            # doesn't answer; what the policy says for it does.
            parts.append(str(book.policy(about[0].title, _once([p.text for p in about]))))
            sources += [p.source for p in about]
    if intent in POLICY_INTENTS:
        quoted, on_status = policies[:MAX_POLICY_PASSAGES], False
        if intent in STATUS_DEPENDENT and orders:
            chosen = _for_status(policies, orders, question, intent)
            if chosen is None:
                return None  # yes in one case, no in another, and the question names neither: a person answers
            quoted, on_status = chosen[0] or quoted, chosen[1]
        elif intent == "invoice" and orders:
            quoted, on_status = _for_invoice(policies, orders, items)
        # A yes or no for the one order asked about: a table row for its status, an exception or an
        # exclusion that names its items.
        first = quoted[0] if quoted else None
        # (the shop's structured rule for the order's status, where it has one, says it; not our reading of a
        # sentence: address_change_statuses)
        ruled = any(isinstance(f, RuleFact) and f.rule == "address_change_statuses" for f in facts)
        prose = intent != "address_change" or not ruled
        verdict = (
            _verdict(intent, first, on_status, question, items, orders[0], prose) if first and len(orders) == 1 else ""
        )
        # The shop's rules applied to these orders: the dates that answer "can I still …" (not for an order
        # whose items the policy excludes: no date makes them returnable).
        shown = {o.order_id for o in orders} if verdict != "no" else set()
        # "Opened it and tried it once, can I return it?": whether it can still go back turns on what the
        # policy says of used items (an exclusion, "unused only"), which the window's dates don't settle,
        # unless what is quoted speaks of it ("chairs may have been assembled, as long as …").
        if intent == "return" and says_part_used(question) and "quality" not in detect_aspects(question):
            return None  # "opened one of the three tins": what goes back and what doesn't is for a person to say
        if (
            intent == "return"
            and verdict != "no"
            and says_used(question)
            and "quality" not in detect_aspects(question)
            and any(isinstance(f, RuleFact) and f.order_id in shown and f.open for f in facts)
            and not any(speaks_of_use(p.text) for p in quoted)
        ):
            return None
        for rule in (f for f in facts if isinstance(f, RuleFact) and f.order_id in shown):
            parts.append(str(book.rule(rule)))
            sources.append(rule.source)
            if rule.rule == "invoice_change_days" and rule.open and rule.days:
                # The change is still possible: what the policy says once its days have passed ("After 60 days
                # we can't reissue invoices") is not this customer's case.
                quoted = [p for p in quoted if not beyond_window(p, rule.days)] or quoted
        words = status_words([o.status for o in orders])
        # (quoted under the heading that names the status when only the heading does, as answer_key reads it)
        texts = [_under_heading(p, lang) if on_status and status_heading(p, words) else p.text for p in quoted]
        # The best passage excludes what the question names ("Flash sales" under "Not covered"): that is
        # the answer, whatever limits the article's other sections give.
        excluded = bool(policies) and is_exclusion(policies[0])
        by_status = on_status and intent == "invoice"  # "cancelled orders get no invoice" is the answer
        # (and a question about how long the warranty runs is answered by the term retrieval put first)
        term = bool(policies) and asks_term(question) and states_term(policies[0].text)
        sections, named = ([], []) if excluded or by_status or term else named_conditions(question, policies)
        # The order's window, when the rules counted one, tells the sections apart too: once it has passed,
        # what the policy offers after it (a warranty's repair) answers; while it is open, not that.
        window = next(
            (r for r in facts if isinstance(r, RuleFact) and r.order_id in shown and r.days and r.open is not None),
            None,
        )
        later = [p for p in policies if window and window.days and beyond_window(p, window.days)]
        by_window = False
        if intent == "return" and window is not None and window.open and sections and not named:
            after = {p.condition for p in later}
            sections = [c for c in sections if c not in after]
            named = sections if len(sections) == 1 else []
            by_window = bool(named)
        if len(named) == 1:
            # The question names the case: that section's passages (and those under no heading), not the others'.
            quoted = [p for p in policies if p.condition in (named[0], "")][:MAX_POLICY_PASSAGES]
            texts = [p.text for p in quoted]
            if by_window and quoted and quoted[0].condition:
                # The window chose the section, not the customer's words: its heading says which case this is
                # and, often, what it offers ("First 25 days: refund or replacement").
                texts[0] = _under_heading(quoted[0], lang)
        elif sections:
            # Different limits for different cases and the question doesn't say which is its own: each
            # case with its limit, named, so the customer reads the one that applies.
            quoted = [next(p for p in policies if p.condition == c and states_limit(p.text)) for c in sections]
            quoted = quoted[:MAX_POLICY_PASSAGES]
            texts = [_under_heading(p, lang) for p in quoted]
        if intent == "return" and window is not None and window.open is False and later:
            # (the term for the order's own goods first, once: "Espresso machines | 2 years"; then what a
            # fault gets: "we repair or replace the item")
            terms = [p for p in later if states_term_for(p.text, items, question)]
            rest = sorted((p for p in later if p not in terms), key=lambda p: not offers_remedy(p.condition, p.text))
            quoted = [*terms[:1], *rest][:MAX_POLICY_PASSAGES]
            texts = [p.text for p in quoted]
        if quoted:
            parts.append(str(book.policy(quoted[0].title, [_ended(t, lang) for t in _once(texts)])))
            sources += [p.source for p in quoted]
            if verdict and quoted[0] is first:
                # A cancellation the policy refunds in full: how much comes back is the order's total.
                whole = intent == "cancel" and any(_FULL_REFUND.search(p.text) for p in quoted)
                refund = f"{orders[0].total} {orders[0].currency}" if whole and orders[0].total else ""
                parts.append(str(book.verdict(intent, orders[0].order_id, verdict == "yes", refund)))
    if not parts or (intent in POLICY_INTENTS and not (orders or missing or choices or policies or uploaded)):
        return None
    separator = "" if lang == "zh" else " "
    return Composition(separator.join(parts), intent, sources)


# A cancellation paid back whole ("full refund the same working day", "全额原路退款").
_FULL_REFUND = re.compile(r"\bfull refund|\brefund(?:ed)? (?:in full\b|(?:the )?(?:whole|entire))|全额", re.I)


def _under_heading(passage: PolicyFact, lang: str) -> str:
    """The passage quoted under its section's heading ("First 25 days: refund or replacement: If …")."""
    return f"{passage.condition.rstrip(':：')}{'：' if lang == 'zh' else ': '}{passage.text}"


# The customer says a delivered parcel did not reach them, or asks when an order not yet sent will go.
_MISSING_SAID = re.compile(
    r"\b(?:nothing (?:here|arrived|came)|never (?:arrived|came|got (?:it|them))|haven'?t (?:got|received)"
    r"|didn'?t (?:get|receive)|not (?:received|here)|missing|lost|stolen|can'?t find (?:it|the parcel))\b"
    r"|没收到|没有收到|没到|丢了|丢件|被偷|找不到|没印象|不见了",
    re.IGNORECASE,
)
_WHEN_ASKED = re.compile(r"\bwhen\b|\bhow long\b|什么时候|多久|几天|哪天|啥时候", re.IGNORECASE)
_DATE = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}|\b\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w* \d{1,2}\b",
    re.IGNORECASE,
)


def _status_policy(question: str, orders: list[OrderFact], policies: list[PolicyFact]) -> list[PolicyFact]:
    """The passages that answer a status question the status alone doesn't: what to do when a parcel marked
    delivered did not arrive (a passage about delivered or missing parcels), or when an order not yet sent
    will go (a passage with a time or a date)."""
    if any(o.status == "delivered" for o in orders) and _MISSING_SAID.search(question):
        words = status_words(["delivered"])
        said = [p for p in policies if says_status(f"{p.condition} {p.text}", words) or _MISSING_SAID.search(p.text)]
        return said[:MAX_POLICY_PASSAGES]
    if any(o.status in NOT_SENT for o in orders) and _WHEN_ASKED.search(question):
        return [p for p in policies if states_limit(p.text) or _DATE.search(p.text)][:MAX_POLICY_PASSAGES]
    return []


_LEAD_END = re.compile(r"[.:;。：；]\s*")
MIN_LEAD_CHARS = 20


def _ended(text: str, lang: str) -> str:
    """A passage quoted as a sentence: a list item or a table cell ("儿童安全座椅：保修2年") gets the full stop it
    was written without, so the next passage quoted doesn't run on from it."""
    if not text or text[-1] in ".。!！?？;；:：)）\"”'*":
        return text
    return text + ("。" if lang == "zh" else ".")


def _once(texts: list[str]) -> list[str]:
    """Passages quoted together say the lead-in they share once: "The following can't be returned …. Food …"
    and "… . Fuel canisters …" read as the lead-in, food, fuel canisters."""
    out = texts[:1]
    for text in texts[1:]:
        shared = os.path.commonprefix([texts[0], text])
        ends = [m.end() for m in _LEAD_END.finditer(shared)]
        out.append(text[ends[-1] :] if ends and ends[-1] >= MIN_LEAD_CHARS and ends[-1] < len(text) else text)
    return out


def _says_status(passage: PolicyFact, words: list[str]) -> bool:
    """The passage says what the policy does for the status: in its own words or its row's key, or under a
    heading that names it ("After the order has shipped": "We can't change the address any more")."""
    return says_status(passage.text, words, passage.row_key) or status_heading(passage, words)


# A restriction to some statuses ("can only be cancelled while the order is still paid", "只能在已付款状态下取消"),
# and the statuses such a restriction names.
_ONLY_WHILE = re.compile(
    r"\bonly\b.{0,40}\b(?:while|when|if|as long as|until|before|in)\b|只能在|只有在|仅限在|仅在|只可在", re.IGNORECASE
)
_BEFORE_DELIVERY = status_words(["pending", "paid", "processing", "shipped"])

# What a restriction must be about to answer each status-dependent question.
_ACTIONS = {
    "cancel": re.compile(r"cancel|取消", re.IGNORECASE),
    "address_change": re.compile(r"address|地址", re.IGNORECASE),
}


def _for_status(
    policies: list[PolicyFact], orders: list[OrderFact], question: str, intent: str = ""
) -> tuple[list[PolicyFact], bool] | None:
    """Whether it can still be cancelled or changed depends on the order's status: (the passages that say
    what the policy says for that status, whether the first is one), an exception for the order's items
    first ("Presale gift sets cannot be cancelled once paid": it overrides the rule). None when the article
    says yes for this status in one case and no in another ("Mainland China orders", "Singapore orders")
    and the question names neither."""
    words = status_words([o.status for o in orders])
    # A restriction written in prose for the order's items ("定制商品只能在付款后2小时内取消，超过2小时不能取消"):
    # quoted first, with no verdict of ours (it turns on a time the composer does not count).
    items = item_names(orders)
    action = _ACTIONS.get(intent)
    restricted = [
        p
        for p in policies
        if not (p.subject and p.verdict == "no")
        and names_items(p.text, items)
        and EXCLUDES.search(p.text)
        and (action is None or action.search(p.text))
    ]
    for_status = [p for p in policies if _says_status(p, words)]
    # "Personalised items can only be cancelled while the order is still paid": for the order's items, yes in
    # the statuses it names and no in any other (the order's own status decides, not the general rule).
    only = [
        p
        for p in policies
        if names_items(p.text, items)
        and _ONLY_WHILE.search(p.text)
        and says_status(p.text, _BEFORE_DELIVERY)
        and (action is None or action.search(p.text))
    ]
    if only:
        verdict = "yes" if says_status(only[0].text, words) else "no"
        # (with what the general rule says for the status: the exception overrides it, and the reply says both)
        rest = [p for p in for_status if p is not only[0]]
        return [replace(only[0], verdict=verdict), *rest[:1]], True
    if restricted:
        # With what the policy says for the status beside it (the order's other items follow that).
        rest = [p for p in for_status if p not in restricted]
        return (restricted[:1] + rest[:1]) or restricted[:MAX_POLICY_PASSAGES], False
    # An exception for the order's items first, then the table row for its status, then what mentions it.
    for_status.sort(key=lambda p: (not (p.subject and p.verdict == "no"), not p.row_key))
    general = [p for p in for_status[:MAX_POLICY_PASSAGES] if not p.subject]
    # What each case (section) says for the status; an exception answers, whatever the cases say.
    said = {} if for_status and for_status[0].subject else {p.condition: polarity(p) for p in general if p.condition}
    if len(set(said.values())) > 1:
        named = [c for c in said if names_section(question, c, for_status[0].title)]
        if len(named) != 1:
            return None
        for_status = [p for p in for_status if p.condition in (named[0], "")]
    return for_status[:MAX_POLICY_PASSAGES], bool(for_status)


def _for_invoice(policies: list[PolicyFact], orders: list[OrderFact], items: str) -> tuple[list[PolicyFact], bool]:
    """The passages that answer an invoice question about these orders, and whether they settle it so that
    no section list is wanted: what the policy says for a status that gets no invoice ("cancelled orders are
    not invoiced"), else what it says of their items ("gift cards are not invoiced when bought"), else, when
    none was issued yet, until when one may be requested (not corrected), how long issuing takes and the
    passage that answers best (three passages: this answer's only exception to MAX_POLICY_PASSAGES)."""
    words = status_words([o.status for o in orders])
    quoted = sorted(policies, key=lambda p: not _says_status(p, words))[:MAX_POLICY_PASSAGES]
    if any(o.status in NO_INVOICE for o in orders) and quoted and _says_status(quoted[0], words):
        return quoted, True
    about_items = [p for p in policies if names_items(p.text, items)]
    if about_items:
        return about_items[:MAX_POLICY_PASSAGES], False
    deadline = sorted((p for p in policies if states_deadline(p.text)), key=lambda p: not asks_for(p.text))[:1]
    if deadline and not any(o.invoice_number for o in orders):
        # How long issuing takes: the passage whose time limit is said of the issuing ("2 个工作日内开出"), not
        # one that gives a time to contact the shop in and then says what it issues ("90 天内联系我们…重新开具").
        timing = sorted((p for p in policies if states_issuing_time(p.text)), key=lambda p: issuing_distance(p.text))[
            :1
        ]
        best = [p for p in policies[:1] if p not in deadline + timing]
        return deadline + timing + best, True
    return quoted, False


def _verdict(
    intent: str,
    first: PolicyFact,
    on_status: bool,
    question: str = "",
    items: str = "",
    order: OrderFact | None = None,
    prose: bool = True,
) -> str:
    """ "yes" / "no" for the one order asked about, from the passage quoted first: a table row or exception
    for its status (never for another status: "… once processing"), or an exclusion of its items (a yes,
    "within 30 days", is the window's date to say), or an exclusion of what the question says of the
    purchase ("bought on Black Friday" where price protection "does not apply to Black Friday deals"; for a
    return, only when the excluded thing is also one of the order's items: "keeping the tea" names tea)."""
    if intent not in VERDICT_INTENTS:
        return ""
    if intent in STATUS_DEPENDENT:
        if not on_status:
            return ""
        return first.verdict or (_prose_verdict(first, intent, order) if order is not None and prose else "")
    if first.subject and first.verdict == "no":
        return "no"
    named = excludes_outright(first, question) and (intent == "price_protection" or names_items(first.text, items))
    # Or it excludes every good of the order, whatever the question calls it ("the monstera" of "Live plants of
    # every kind").
    whole = order is not None and excludes_every_item(first, question, order)
    return "no" if named or whole else ""


# "can be changed", "可以免费修改": a permission in words; a condition ("only", "unless", "仅限") makes it none.
_CAN = re.compile(r"\b(?:can|may)\b|可以|能够|允许", re.IGNORECASE)
_IF_ONLY = re.compile(r"\bonly\b|\bunless\b|\bprovided\b|\bas long as\b|仅限|只限|只有|除非|只要|前提", re.IGNORECASE)


def _prose_verdict(first: PolicyFact, intent: str, order: OrderFact) -> str:
    """ "yes" / "no" from one sentence that names the order's status and the action asked about, with no
    condition beside the status: "订单状态为待付款、已付款、处理中时，可以免费修改收货地址" says yes for a paid order;
    "Shipped orders can't be cancelled" no for a shipped one. Anything less plain gets no verdict of ours."""
    text = first.text
    action = _ACTIONS.get(intent)
    one_sentence = len([s for s in re.split(r"[.。!！?？;；]\s*", text) if s.strip()]) == 1
    if not (one_sentence and action and action.search(text) and says_status(text, status_words([order.status]))):
        return ""
    if _IF_ONLY.search(text):
        return ""
    if EXCLUDES.search(text):
        return "no"
    return "yes" if _CAN.search(text) else ""


def hand_over_reply(lang: str) -> str:
    return str(phrasebook(lang).human())


def holding_reply(lang: str) -> str:
    return str(phrasebook(lang).holding())
