"""Prompt-injection attempts in customer text and in OCR'd invoice text: found and flagged.

Untrusted text is data: the prompt templates keep it delimited, and a flagged turn never lets a model
candidate go out on its own (the reranker holds it unless a grounded template answer exists).
"""

from __future__ import annotations

import re
import unicodedata

from moderation.base import Hit

_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,30}\b(previous|prior|above|earlier|all|your|the|system)\b"
    r".{0,20}\b(instructions?|prompts?|rules?|guidelines?|directions?)",
    r"\byou are now\b",
    r"\bact as (an? )?(admin|administrator|developer|system|root|dan)\b",
    r"\b(system|developer) (prompt|message|mode)\b",
    r"\b(reveal|show|print|repeat)\b.{0,20}\b(prompt|instructions)\b",
    r"\bjailbreak\b",
    r"\bdo anything now\b",
    r"\bnew instructions?\s*:",
    r"</?\s*(system|assistant|customer_message)\s*>",
    r"\bpretend (to be|you are)\b",
    r"\b(approve|mark)\b.{0,30}\b(refund|reimburs\w*)\b.{0,20}\bautomatically\b",
    r"(忽略|无视|忘记|忘掉|跳过).{0,10}(之前|以上|前面|上面|所有|全部|系统).{0,6}(指令|指示|提示|规则|设定|要求)",
    r"你现在是",
    r"你是管理员",
    r"(进入|切换到?|开启).{0,4}(管理员|开发者|调试)模式",
    r"(系统|开发者)提示词?",
    r"(输出|告诉我|显示|泄露).{0,6}(提示词|系统指令|你的指令)",
    r"扮演.{0,6}(管理员|客服主管|系统)",
]
_COMPILED = [re.compile(p, re.IGNORECASE | re.DOTALL) for p in _PATTERNS]


def find_injection(text: str) -> list[Hit]:
    folded = unicodedata.normalize("NFKC", text)
    hits = []
    for pattern in _COMPILED:
        for m in pattern.finditer(folded):
            hits.append(Hit("injection", "flag", m.start(), m.end(), m.group(0)[:60]))
    return hits


_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？\n]*")


def without_injection(text: str, hits: list[Hit]) -> str:
    """The text less the sentences that try to instruct the model: what is left is the customer's question."""
    if not hits:
        return text
    folded = unicodedata.normalize("NFKC", text)
    kept = [
        m.group(0) for m in _SENTENCE.finditer(folded) if not any(h.start < m.end() and m.start() < h.end for h in hits)
    ]
    return "".join(kept).strip()
