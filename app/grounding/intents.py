"""What the customer is asking about: keyword intents in zh and en."""

from __future__ import annotations

import re

from app.grounding.text import normalize

# intent -> (English patterns, Chinese substrings). Order matters: the first match leads the reply.
INTENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "human": (
        (
            r"\bhuman\b",
            r"\b(real|live) (person|agent)\b",
            r"\b(talk|speak|chat) to (a |an )?(person|agent|someone)",
            r"\brepresentative\b",
            r"\bcustomer service agent\b",
        ),
        ("人工", "真人", "转客服", "客服人员", "找客服"),
    ),
    "address_change": (
        (
            r"\b(change|update|correct|wrong|modify|edit)\b.{0,30}\baddress",
            r"\baddress\b.{0,20}\b(change|wrong)",
            r"\bredirect\b",
        ),
        ("改地址", "修改地址", "地址写错", "收货地址", "更改地址", "换地址", "改派"),
    ),
    "invoice": (
        (r"\binvoices?\b", r"\bfapiao\b", r"\breimburs", r"\breceipts?\b", r"\btax id\b", r"\bvat\b"),
        ("发票", "报销", "抬头", "税号", "开票", "专票", "普票"),
    ),
    "refund": (
        (r"\brefund", r"\bmoney back\b", r"\breimburse me\b", r"\bcharged\b"),
        ("退款", "退钱", "到账", "退费", "钱什么时候"),
    ),
    "return": (
        (r"\breturn", r"\bexchange\b", r"\bsend (it|them) back\b"),
        ("退货", "换货", "退换", "退回", "无理由"),
    ),
    "order_status": (
        (
            r"\bwhere\b.{0,20}\b(orders?|packages?|parcels?|stuff|items?|deliver(y|ies))\b",
            r"\btrack",
            r"\bstatus\b",
            r"\b(shipped|delivered|arrive|arriving|dispatched)\b",
            r"\bwhen will\b.{0,30}\b(come|arrive|ship)",
        ),
        ("物流", "快递", "到哪", "发货", "订单状态", "单号", "到了吗", "什么时候到", "派送", "签收", "进度"),
    ),
    "shipping": (
        (
            r"\bshipping\b",
            r"\bdelivery (time|cost|fee)",
            r"\bhow long\b.{0,30}\b(deliver|ship|take)",
            r"\bfree delivery\b",
            r"\bexpress\b",
        ),
        ("运费", "包邮", "配送", "几天到", "多久到", "加急"),
    ),
}

ORDER_INTENTS = frozenset({"order_status", "return", "refund", "address_change", "invoice"})
# What a reply must supply for the question's leading intent (moderation/eligibility.py checks it):
# "order" the order's own facts (or that it can't be found / which one), "policy" the condition that applies.
ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "order_status": ("order",),
    "return": ("policy",),
    "refund": ("policy",),
    "address_change": ("policy",),
    "invoice": ("policy",),
    "shipping": ("policy",),
}
ASKS_AMOUNT = re.compile(r"how much|amount|sum|多少|金额|几块|多少钱", re.IGNORECASE)
_ORDER_WORDS = re.compile(
    r"\b(?:orders?|purchased?|bought|parcels?|packages?|shipments?)\b|#\s*\d|订单|单号|包裹|快递|买的|购买",
    re.IGNORECASE,
)
_COMPILED = {name: ([re.compile(p) for p in en], zh) for name, (en, zh) in INTENTS.items()}


def detect_intents(text: str) -> list[str]:
    """All intents the text matches, in priority order."""
    folded = normalize(text)
    found = []
    for name, (patterns, zh_words) in _COMPILED.items():
        if any(p.search(folded) for p in patterns) or any(w in folded for w in zh_words):
            found.append(name)
    return found


def mentions_order(text: str) -> bool:
    return bool(_ORDER_WORDS.search(text))
