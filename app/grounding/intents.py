"""What the customer is asking about: keyword intents in zh and en."""

from __future__ import annotations

import re

from app.grounding.text import normalize

# intent -> (English patterns, Chinese patterns). Order matters: the first match leads the reply.
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
            r"\b(chang\w*|updat\w*|correct\w*|wrong|modif\w*|edit\w*)\b.{0,30}\baddress",
            r"\baddress\b.{0,20}\b(change|wrong)",
            r"\bredirect\b",
        ),
        (
            "改地址",
            "修改地址",
            "地址写错",
            "收货地址",
            "更改地址",
            "换地址",
            "改派",
            r"地址.{0,8}(改|换|错)",
            r"(改|换)到.{0,12}地址",
        ),
    ),
    "invoice": (
        (r"\binvoices?\b", r"\bfapiao\b", r"\breimburs", r"\breceipts?\b", r"\btax id\b", r"\bvat\b"),
        ("发票", "报销", "抬头", "税号", "开票", "专票", "普票"),
    ),
    "refund": (
        # "charged" of a fee ("why was I charged $6 shipping") asks about shipping, not a refund; of a battery
        # ("fully charged", "charged up") not about money at all.
        (
            r"\brefund",
            r"\bmoney back\b",
            r"\bmoney\b.{0,20}\b(?:go|gone|went|come|came|get|got|been (?:sent|paid))\s+back\b",
            r"\breimburse me\b",
            r"(?<!fully )(?<!\bfull )\bcharged\b(?! up\b)(?!.{0,20}\b(?:for )?(?:shipping|delivery|postage)\b)",
        ),
        ("退款", "退钱", "到账", "退费", "钱什么时候", r"钱.{0,4}退", r"退了?多少", r"退(?:我|给我)多少"),
    ),
    "cancel": (
        (r"\bcancel", r"\bdon'?t want (it|them|this|the \w+|my \w+)( \w+)? any ?more\b", r"\bcall off\b"),
        ("取消", "不要了", "撤单", "退订"),
    ),
    "price_protection": (
        (
            r"\bprice (protection|drop|match|adjust\w*|guarantee)",
            r"\b(cheaper|lower price|price went down|on sale now|(?:is |it's |now )+on sale)\b",
            r"\bthe difference (?:refunded|back|returned)\b",
            r"\bprice difference\b",
            r"\bmatch (it|the price|that price|their price)\b",
            r"\b(refund|pay|give|return)\w* (me )?the difference\b",
            r"\b(dropped|fell|went down|reduced|marked down) (by|to)\b",
            r"\bnow \d{1,3} ?% off\b|\b\d{1,3} ?% off now\b|\bis now \d{1,3} ?% off\b",
            # "paid 49.99 … 2 days later it was in your lightning deal for 39.99, can I get the 10 back?"
            # (a bare number: "get my 20 euros back" is a refund)
            r"\bget the \d+(?:[.,]\d{1,2})? back\b",
        ),
        ("保价", "价保", "降价", "差价", "便宜了", "价格保护", "秒杀价"),
    ),
    "return": (
        (
            r"\breturn",
            r"\bexchange\b",
            r"\b(?:send|ship|mail|post)\w* "
            r"(?!(?:me |us )?(?:my |the |our |your )?(?:money|cash|refund|funds|payment)\b)(?:\w+ ){0,2}\w+ back\b",
            r"\btake (it|them) back\b",
            r"\bcan (it|they|these|this|those) (still )?go back\b",
        ),
        (
            "退货",
            "换货",
            "退换",
            "退回",
            "无理由",
            r"能退(?!款|钱|我|给|多少)",
            "可以退",
            "退吗",
            "售后",
            r"[想要]退(?!款|钱|费|出)",
            "退掉",
            # an exchange for another size ("能换38码吗", "换大一码")
            r"换(?:成|个|到)?\s*(?:\d{2,3}|[SMLX]{1,3}L?)\s*码|换码|换尺码|换(?:大|小)一?[码号]",
        ),
    ),
    "order_status": (
        (
            r"\bwhere\b.{0,20}\b(orders?|packages?|parcels?|stuff|items?|deliver(y|ies))\b",
            r"\btrack",
            r"\bstatus\b",
            r"\b(shipped|delivered|arrive|arriving|dispatched)\b",
            r"\bwhen will\b.{0,30}\b(come|arrive|ship)",
            r"\bwhat'?s (happening|going on|up) with\b",
            r"\b(any )?(update|news)\b",
            r"\bhow'?s my\b",
            r"\bstill (not|hasn'?t|haven'?t|waiting)\b",
            r"\bwhere (is|are|'s) (my|the|it|they)\b",
            r"\bwhere\b.{0,12}\b(is|are)\s+(my|the|it|they)\b",
            r"\bwhere\b.{0,40}\b(ordered|bought|purchased)\b",
            r"\b(ship(ped)?|arrived?|come|dispatched|sent)\s+(out\s+)?yet\b",
            r"\bdid\b.{0,30}\b(ship|arrive|go out)\b",
            r"\b(taking|takes|took) (so|too|this) long\b|\btaking forever\b",
            # "has that gone out yet?", "is it on its way?", "has it been sent??", "when it ships"
            r"\b(has|have|did|is|are)\b.{0,30}\b(gone|go|going) out\b|\bgone out yet\b",
            r"\bon (its|their|the) way\b",
            # "whens it coming", "when is my parcel arriving"
            r"\bwhen'?s (it|my|the|that|this)\b.{0,25}\b(coming|arriving|getting here|due)\b",
            r"\bwhen (is|are) (it|they|my|the|that|this)\b.{0,25}\b(coming|arriving|getting here|due)\b",
            r"\bwhen (?:it|they|the order|my order|the parcel|the package|my parcel|my package)"
            r" (?:arrives?|comes?|gets? here)\b",
            r"\b(been|being) (sent|shipped|posted|dispatched|mailed)\b",
            r"\bwhen (will |does |do |would |is )?(it|they|this|that|the order|my order) (ships?|go out|leaves?)\b",
            r"\b(it|order|payment) (went|gone|go) through\b",
        ),
        (
            "物流",
            "快递",
            "到哪",
            "发货",
            "订单状态",
            "单号",
            "到了吗",
            "什么时候到",
            "派送",
            "签收",
            "进度",
            "怎么样了",
            "还没到",
            "还没收到",
            "什么情况",
            "发了吗",
            "发了没",
            "寄出",
            "什么时候送",
            "啥时候到",
            "到了没",
            r"(送|发|寄)到哪",
            "在路上",
            "出库",
            r"(寄|发)(了|出了|出去了)(吗|没|没有)",
            "查一下订单",
            "查订单",
            r"帮我查.{0,6}(订单|快递|物流|单)",
        ),
    ),
    "shipping": (
        (
            r"\bshipping\b",
            r"\bdelivery (time|cost|fee)",
            r"\bdeliver(y|ies) (areas?|times?|fees?|costs?|options?|zones?)\b",
            r"\bhow long\b.{0,30}\b(deliver|ship|take)",
            r"\bfree delivery\b",
            r"\bexpress\b",
            r"\b(couriers?|carriers?)\b",
            r"\b(deliver|ship)(s|ping)? to\b",
            r"\b(same|next)[- ]day\b",
        ),
        (
            "运费",
            "包邮",
            "配送",
            "几天到",
            "多久到",
            "加急",
            "快递公司",
            "哪家快递",
            "什么快递",
            "出库",
            "发货时间",
            "多久发货",
            r"(?:多久|几天|多长时间).{0,6}(?:发货|发出|寄出)",
            r"(?:要做|制作|定制).{0,4}(?:多久|几天|多长时间)",
            "能送",
            "配送到",
        ),
    ),
}

ORDER_INTENTS = frozenset(
    {"order_status", "return", "refund", "address_change", "invoice", "cancel", "price_protection"}
)
# What a reply must supply for the question's leading intent (moderation/eligibility.py checks it):
# "order" the order's own facts (or that it can't be found / which one), "policy" the condition that applies.
ANSWER_TYPES: dict[str, tuple[str, ...]] = {
    "order_status": ("order",),
    "return": ("policy",),
    "refund": ("policy",),
    "address_change": ("policy",),
    "cancel": ("policy",),
    "price_protection": ("policy",),
    "invoice": ("policy",),
    "shipping": ("policy",),
}
# Words that point at an order rather than say what is asked about it (as tokenize() stems them).
REFERENCE_WORDS = frozenset(
    ["order", "end", "last", "digit", "number", "id", "ref", "订单", "单号", "尾号", "号", "编号", "后", "位"]
)
# Whether it can still be done depends on the order's status: the reply must say what the policy says for it.
STATUS_DEPENDENT = frozenset({"cancel", "address_change"})
# Whether it can still be done depends on a time limit counted for this order: "can I still return order X?"
# is answered by yes or no for X (its window's date, or an exclusion that covers it), not by the rule alone.
WINDOW_VERDICT = frozenset({"return", "price_protection"})
ASKS_YES_NO = re.compile(
    r"\b(?:can|could|may)\s+(?:i|we|you)\b|\bis it (?:possible|too late|still)\b|\bam i (?:able|eligible|allowed|still)"
    r"|\bstill (?:within|in time|eligible|returnable|possible)\b"
    r"|\b(?:eligible|too late)\b|能不能|可不可以|可以不|行不行|还来得及|(?:能|可以|可否|能否|还能|允许).{0,12}[吗么嘛]",
    re.IGNORECASE,
)
ASKS_AMOUNT = re.compile(r"\bhow much\b|\bamount\b|\bsum\b|多少|金额|几块|多少钱", re.IGNORECASE)
_ORDER_WORDS = re.compile(
    r"\b(?:orders?|purchased?|bought|parcels?|packages?|shipments?)\b|#\s*\d|订单|单号|单子|包裹|快递|买的|购买|[那这]一?[单笔]",
    re.IGNORECASE,
)
_COMPILED = {name: [re.compile(p) for p in (*en, *zh)] for name, (en, zh) in INTENTS.items()}


# Cancelling said in so many words; "don't want it any more" / "不要了" alone may be a return as well.
_CANCEL_WORD = re.compile(r"\bcancel|\bcall off\b|取消|撤单|退订", re.IGNORECASE)
# The parcel's own facts asked for: its tracking number, or the day it came ("哪天签收的", "what date was it
# delivered").
_ASKS_TRACKING = re.compile(
    r"\btracking (?:number|no|code|link)|快递单号|运单号|物流单号"
    r"|\b(?:when|what (?:date|day))\b[^.?!]{0,30}\b(?:delivered|arrived|signed for)\b|\bdelivery date\b"
    r"|(?:哪天|哪一天|几号|什么时候|啥时候|何时)(?:签收|送达|到货|收到)|签收(?:日期|时间)|送达(?:日期|时间)",
    re.IGNORECASE,
)
_INVOICE_NAMED = re.compile(
    r"\binvoice|\bfapiao|\breceipt|\bvat\b|\btax\b|发票|开票|专票|普票|抬头|税号", re.IGNORECASE
)
_DIFFERENCE = re.compile(r"\bthe difference\b|\bprice (drop|difference)|差价|保价|价保", re.IGNORECASE)


# "Our trek got cancelled", "活动改期了": something else was cancelled, not the order.
_OTHER_CANCELLED = re.compile(
    r"\b(?:trip|trek|tour|event|flight|holiday|vacation|plans?|wedding|party|camp(?:ing)?|hike|expedition|class|course"
    r"|concert|match|race)\s+(?:\w+\s+){0,2}(?:got|was|were|has been|have been|is|are|been)\s+(?:\w+\s+)?cancell?ed\b"
    r"|(?:活动|行程|旅行|计划|航班|比赛|露营)(?:被|也)?(?:取消|改期)了?",
    re.IGNORECASE,
)


def detect_intents(text: str) -> list[str]:
    """All intents the text matches, in priority order."""
    folded = _OTHER_CANCELLED.sub(" ", normalize(text))
    found = []
    for name, patterns in _COMPILED.items():
        if any(p.search(folded) for p in patterns):
            found.append(name)
    if "order_status" in found and "shipping" in found and _GENERAL.search(folded):
        found.remove("shipping")
        found.insert(0, "shipping")  # "how long does a desk usually take to arrive": the delivery times
    if "price_protection" in found and _DIFFERENCE.search(folded):
        found.remove("price_protection")
        found.insert(0, "price_protection")  # "refund the difference": the price drop, not a refund's timing
    if found[:1] == ["invoice"] and _ASKS_TRACKING.search(folded) and not _INVOICE_NAMED.search(folded):
        # "send me the tracking number, it's for reimbursement": the parcel, the invoice its purpose
        found = ["order_status", *(f for f in found if f not in ("invoice", "order_status")), "invoice"]
    if "cancel" in found and "return" in found and not _CANCEL_WORD.search(folded):
        found.remove("return")
        found.insert(found.index("cancel"), "return")  # "can I return it? don't want it anymore": a return
    if not set(found) - {"order_status"} and set(detect_aspects(folded)) & RETURN_ASPECTS:
        found.insert(0, "return")  # "it arrived broken", "I changed my mind": a return in all but the word
    elif (
        found[:1] == ["refund"]
        and "cancel" in found
        and _CANCEL_WORD.search(folded)
        and not _REFUND_PROGRESS.search(folded)
    ):
        found.remove("cancel")
        found.insert(0, "cancel")  # "cancel it, do I get all my money back?": the cancel, the refund its end
    elif found[:1] == ["refund"] and not _REFUND_PROGRESS.search(folded) and not _SENT_BACK.search(folded):
        if "return" in found and not _CANCEL_WORD.search(folded):
            found.remove("return")
            found.insert(0, "return")  # "can I still send it back for a refund?": a return, the refund its end
        elif "quality" in detect_aspects(folded):
            found.insert(0, "return")  # "the button snapped off, can I get a replacement or refund?": a fault claim
    return found


# A question about a refund already under way ("where is my refund for the broken pump?"), not a claim. Its
# words are about the refund: "it arrived broken" describes the item, "has the refund arrived" the refund.
_REFUND_PROGRESS = re.compile(
    r"\bhow (?:long|much)\b|\bwhen (?:will|do|does|is|would|can)\b|\bstatus\b"
    r"|\bwhere(?:'s| is)\b.{0,20}\brefund|\brefund\b.{0,25}\b(?:yet|arrived|received|credited|come through)\b"
    r"|\b(?:received|got) (?:my|the) refund|\bmoney\b.{0,20}\b(?:go|gone|went|come|came|been sent)\s+back\b"
    r"|\bhow (?:many days|soon)\b|到账|多少|多久|几天|多长时间|什么时候|进度|退了吗|退回来了",
    re.IGNORECASE,
)


# The item already went back ("I returned it last week", "我寄回去了"): what is asked is the refund's progress.
_SENT_BACK = re.compile(
    r"\b(?:i|we)(?:'ve| have)? (?:already )?"
    r"(?:returned|sent (?:it|them|\w+) back|shipped (?:it|them) back|dropped (?:it|them) off)\b"
    r"|\bafter (?:i|we) (?:send|return|ship)\b"
    r"|寄回去了|退回去了|寄回了|退回了|已(?:经)?寄回|已(?:经)?退回|已(?:经)?退货|寄回(?:去)?(?:以后|之后|后)|退回(?:以后|之后|后)",
    re.IGNORECASE,
)


# "My order", "the parcel I bought": the customer means an order of their own, not orders in general.
_OWN_ORDER = re.compile(
    r"\bmy (?:\w+ )?(?:orders?|parcels?|packages?|purchases?|delivery|items?|stuff)\b|\bi (?:bought|ordered|paid)\b"
    r"|\b(?:send|give|tell) me (?:the|my) (?:invoice|tracking|order) (?:number|no)"
    r"|\b(?:my|our) (?:\w+ )?(?:invoice|fapiao|receipt)s?\b|我.{0,8}的.{0,4}发票"
    r"|我.{0,4}的(?:订单|快递|包裹|货)|我(?:买|下|订)的|我(?:刚|上周|昨天)?(?:买|下单)|(?:发票|单|运单|快递单)号.{0,3}(?:发|给)我|[那这]一?[单笔]",
    re.IGNORECASE,
)


def mentions_own_order(text: str) -> bool:
    return bool(_OWN_ORDER.search(normalize(text)))


def mentions_order(text: str) -> bool:
    return bool(_ORDER_WORDS.search(text))


# Aspects of a policy question: which passage answers it. Each adds the words a shop's policy uses for that
# aspect to the retrieval query ("I changed my mind" is answered by the passage on returns for any reason).
ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "change_of_mind": (
        (
            r"\bchang\w* (my|her|his|our) mind",
            r"\bdon'?t (want|like|need|love)",
            r"\bno longer (want|need)",
            r"\bnot (what i|as) expected",
            r"\bdoesn'?t fit\b",
            r"\bwrong size\b",
            r"\bany reason\b",
            r"\bno reason\b",
            # Never used, still sealed: the state a return for any reason asks for.
            r"\b(?:unused|unopened|unworn|never (?:been )?(?:used|opened|worn))\b",
            r"\b(?:haven'?t|hasn'?t|didn'?t|have not|did not|not) (?:even |yet |ever )?(?:used|opened|worn|unboxed)\b",
            r"\bstill (?:in (?:the|its) (?:box|packaging|wrapper)|sealed)\b",
            r"\bprefer (?:my|the|our) (?:old|other)\b",
            # Nothing is wrong with it: "nothing wrong with it i just kinda regret it", "second thoughts".
            r"\bregret\w*\b|\bsecond thoughts\b",
            r"\bnothing(?: is)? wrong with (?:it|them|the \w+)\b|\b(?:it|they) works? (?:fine|perfectly)\b",
        ),
        (
            "不想要",
            "不喜欢",
            "不合适",
            "无理由",
            "不要了",
            "买错",
            "尺码",
            "没用过",
            "没有用过",
            "没使用",
            "未使用",
            "没拆",
            "未拆",
            "没开封",
            "未开封",
            "没打开",
        ),
        "any reason no reason unused unopened original packaging 无理由 未使用 不影响二次销售",
    ),
    "quality": (
        (
            r"\bbroken\b",
            r"\bdefect",
            r"(?<!my )(?<!our )(?<!own )(?<!no )\bfault",
            r"\bdamaged?\b",
            r"\b(doesn'?t|does not|stopped|won'?t) work",
            r"\bcrack",
            r"\bleak",
            r"\bspoil",
            r"\brotten\b",
            r"\bmoldy?\b",
            r"\bquality\b",
            r"\bmissing part",
            r"\b(dead|died|noise|noisy|flicker\w*|malfunction\w*|not working|wrong item|mushy|smells?|warranty)\b",
            # Things that break: "the button snapped off", "the seam ripped", "it won't turn on".
            r"\b(broke|snapped|shattered|torn|ripped|frayed|dented|jammed|overheat\w*|burnt|burned out)\b",
            r"\b(came|come|coming|fell|falls?|falling) (apart|off)\b",
            r"\b(won'?t|doesn'?t|does not|can'?t|will not) (?:even |ever |properly )?"
            r"(turn on|switch on|charge|power on|start|spin|open|close)\b",
            r"\b(won'?t|doesn'?t|does not|no longer) (?:even |properly )?"
            r"(heat|heats|grind|grinds|build|builds|hold|holds|pump|pumps)\b",
            r"\b(keeps|kept) (stopping|shutting off|turning off|cutting out|dying)\b",
            r"\bstopped (clicking|igniting|lighting|heating|charging|spinning|pumping|inflating|holding|sealing|closing"
            r"|zipping|lighting up|turning on|switching on|responding|connecting)\b",
            r"\b(cuts|shuts) (out|off) by itself\b",
            # It did something and no longer does: "doesnt drive anymore", "the motor does nothing".
            r"\b(?:doesn'?t|does not|won'?t|will not|isn'?t|is not|aren'?t|are not|don'?t|do not)"
            r" (?!fit|suit|match|need|want|like|arrive|come|look|go with)\w+(?:ing)? any ?more\b",
            r"\b(?:does|do|did) nothing\b|\bnothing happens\b|\b(?:doesn'?t|don'?t) do anything\b",
            r"\b(pilling|peeling|unravel\w*|(?:a )?holes? in)\b",
            # "it's losing 2 min a day, is this covered?": a claim on the warranty
            r"\b(is|are) (this|that|it|they) (still )?covered\b(?! by (the )?price)",
        ),
        (
            "坏了",
            "断了",
            "裂了",
            # what goes wrong with clothes and shoes ("拉链头掉了", "钻绒", "开胶")
            r"[头扣子跟底漆皮钻件片胶]掉了|掉(?:漆|皮|钻)",
            "钻绒",
            "跑绒",
            "开线",
            r"线开了|线崩了",
            "脱线",
            "开胶",
            "脱胶",
            "起球",
            "掉色",
            "褪色",
            "破洞",
            "开裂",
            "碎了",
            "脱落",
            "卡住",
            "开不了机",
            "充不进电",
            "不工作",
            "质量问题",
            "质量",
            "故障",
            "破损",
            "损坏",
            "不能用",
            "有问题",
            "坏的",
            "变质",
            "发霉",
            "漏",
            "死了",
            "不亮",
            "闪",
            "异响",
            "发错",
            "烂",
            "异味",
            "保修",
            "质保",
            "断了",
            "断的",
            "断掉",
            "折断",
            "碎了",
            "碎的",
            "摔碎",
            "裂",
            "压坏",
            "压扁",
            "划痕",
            "上不去",
            "没反应",
            "失灵",
            "不正常",
            "毛病",
            "不出水",
            "不加热",
            "不制热",
            "不转",
            "出故障",
            r"(?:自己|自动|突然|老是|总是)(?:就)?(?:停|断电|关机)",
        ),
        "defective faulty damaged quality problem defect 质量问题 故障 破损 损坏",
    ),
    "exclusion": (
        (
            r"\bcustom(?!er)(?!\s+\d)",  # not "customer", not a model ("Custom 74")
            r"\bpersonali[sz]ed\b",
            r"\bengraved\b",
            r"\bfresh\b",
            r"\bperishable",
            r"\bfood\b",
            r"\bdigital\b",
            r"\bdownload",
            r"\bgift cards?\b",
            r"(?<!n't )(?<!not )(?<!never )(?<!even )(?<!yet )\bopened\b",
            r"\bhygien",
            r"\bsale items?\b",
            r"\bclearance\b",
            r"\bexcept",
            r"\bcan'?t be (returned|refunded)",
            r"\bcannot be (returned|refunded)",
            r"\bnon-?returnable\b",
            r"\bcan'?t take (it |them )?back\b",
            r"\bnot (returnable|refundable|eligible)\b",
        ),
        (
            "定制",
            "生鲜",
            "食品",
            "虚拟",
            r"(?<![没未不])拆封",
            "贴身",
            "特价",
            "清仓",
            "数字",
            "除外",
            "礼品卡",
            "会员",
            "充值卡",
            "电子卡",
            "不支持退",
            "不可退",
            "无法退货",
        ),
        "cannot excluded exception not eligible non-returnable 不支持 不适用 除外 不可",
    ),
    "return_cost": (
        (
            r"\bwho pays\b",
            r"\breturn (shipping|postage|label)",
            r"\bpostage\b",
            r"\b(shipping|postage) (back|cost|fee)",
            r"\bcost (?:me|us) anything\b|\bdo (?:i|we) (?:have to )?pay\b|\bis (?:it|the return) free\b",
        ),
        ("运费谁", "谁出运费", "寄回运费", "退货运费", "运费由", "邮费", "要钱吗", "收费吗", "要不要钱", "要花钱"),
        "return shipping postage label fee cost paid by buyer 运费 寄回 承担",
    ),
    "refund_destination": (
        (
            r"\bwhere (does|will|did) (it|the (money|refund))",
            r"\bwhich (card|account)\b",
            r"\bback to (my|the)\b",
            r"\bwhere.{0,20}\b(money|refund)\b",
        ),
        ("退到哪", "退回哪", "退到了哪", "原路", "退到什么", "哪个账户", "哪张卡"),
        "original payment method card account paid with 原路 原支付方式 账户",
    ),
    # When shipping is free ("what's the minimum for free shipping", "满多少包邮"): the fee table's thresholds.
    "free_shipping": (
        (
            r"\bfree (?:shipping|delivery|postage)\b",
            r"\bminimum (?:order|spend|amount|for)\b",
            r"\bthreshold\b",
            r"\bcharged\b.{0,20}\b(?:for )?(?:shipping|delivery|postage)\b",
            r"\b(?:shipping|delivery) (?:fee|charge|cost)s?\b",
        ),
        ("包邮", "免运费", "免邮", r"满.{0,6}(?:包邮|免)", "运费", "邮费"),
        "free shipping 包邮 免运费",
    ),
    # Which company delivers ("do you use DHL", "发顺丰吗"): the passage or table that names the carriers.
    "carrier": (
        (
            r"\bwhich (courier|carrier|delivery company|shipping company)\b",
            r"\b(courier|carrier)s?\b",
            r"\b(ship|send|deliver)\w* (it |them )?(with|by|via|through) [a-z]",
        ),
        ("快递", "物流公司", "承运", "发什么", "用什么物流", "哪家物流"),
        "carrier courier shipping company 承运商 快递 物流公司",
    ),
    # Where the shop delivers ("do you ship to Hawaii", "能寄到新疆吗"): the passage that says where it ships.
    "destination": (
        (
            r"\b(ship|deliver|send)\w* (to|outside|abroad|overseas|internationally)\b",
            r"\b(international|overseas) (shipping|delivery)\b",
            r"\bwhere do you (ship|deliver)\b",
        ),
        ("配送范围", "能寄到", "能送到", "可以寄到", "可以送到", "发到", "寄到", "送到", "偏远", "海外", "港澳台"),
        "ship to deliver to states regions areas countries destinations 配送范围 地区 本土 偏远",
    ),
}
_GENERAL = re.compile(r"\b(usually|normally|typically|generally|in general)\b|一般|通常|平时|正常")
RETURN_ASPECTS = frozenset({"change_of_mind", "quality"})  # a message with these is a return request
# Questions about a time limit ("how long do I have", "还能退吗"): passages that state one answer them.
ASKS_WINDOW = re.compile(
    r"\bpolic(y|ies)\b|政策|规则|支持.{0,8}吗|"
    r"\bhow (long|many days)\b|\bstill\b|\btoo late\b|\bwithin\b|\bdeadline\b|\btime limit\b|\bafter \d+"
    r"|\bdays?\b|\bweeks?\b|还能|多久|几天|期限|超过|过了|天内|多长时间"
    r"|\bquick(?:er|est|ly)?\b|\bfast(?:er|est)?\b|\bhow soon\b|\bsooner\b|更快|哪个快|快多少",
    re.IGNORECASE,
)
# Chinese words are patterns too ("未拆封" is not "拆封"): a lookbehind keeps a negated word out.
_ASPECTS = {
    name: ([re.compile(p) for p in en], [re.compile(w) for w in zh], words) for name, (en, zh, words) in ASPECTS.items()
}


# What fails that is not the item: "my tracking link stopped working", "you stopped answering".
_NOT_THE_ITEM = re.compile(
    r"\b(?:tracking(?: link| number| page| code)?|link|website|site|app|page|code|coupon|voucher|account|password"
    r"|login|payment|card|you|they|support|service|agent|email)s?\s+(?:has\s+|have\s+|had\s+|just\s+)?"
    r"(?:stopped|doesn'?t|does not|won'?t|isn'?t|is not|can'?t|never)\s+\w+",
    re.IGNORECASE,
)


def detect_aspects(text: str) -> list[str]:
    folded = _NOT_THE_ITEM.sub(" ", normalize(text))
    return [
        name
        for name, (patterns, zh_words, _) in _ASPECTS.items()
        if any(p.search(folded) for p in (*patterns, *zh_words))
    ]


# The words policies use for each topic, whichever the customer used ("send back" is a return too).
INTENT_WORDS = {
    "return": "return returns send back exchange 退货 退回 寄回 退换 退",
    "refund": "refund refunded money back 退款 退还",
    "cancel": "cancel cancelled cancellation 取消",
    "shipping": "shipping delivery ship deliver courier 配送 发货 运费 快递",
    "address_change": "address change 地址 修改",
    "invoice": "invoice receipt fapiao 发票",
    "price_protection": "price protection difference drop cheaper lower 保价 价保 差价 降价 便宜 便宜了 降了",
}


def expand_query(text: str) -> str:
    """The question plus the words a policy uses for its topics and for the aspects it asks about (not a
    change of mind in a cancel question: every cancel is one, and its words would pull in the returns policy)."""
    intents = detect_intents(text)
    extra = [INTENT_WORDS[name] for name in intents if name in INTENT_WORDS]
    aspects = [a for a in detect_aspects(text) if not (a == "change_of_mind" and intents[:1] == ["cancel"])]
    extra += [_ASPECTS[name][2] for name in aspects]
    return " ".join([text, *extra])
