"""Links that imitate a known site: the phishing a scam message carries, in either direction.

A look-alike is a web address whose own domain (the label before the public suffix) is not a known
site's but is made from one: a letter changed, doubled or dropped ("sf-expresss.cn", "paypa1.com",
"amazom.com"), the name with words added ("taobao-refund.com", "apple-id-verify.net"), or the known
domain used as a subdomain of another ("paypal.com.secure-login.net"). Known sites are the shop's own
domains (SHOPDESK_SHOP_DOMAINS) and the marketplaces, couriers and payment services customers are phished
in the name of (moderation/data/brands.json). A link to the real site (or a subdomain of it), or to a site
that resembles none, is not a hit; nor is the name under another country's suffix ("apple.com.cn"), which
real sites use too. Hits are fraud, flagged: the turn never obeys such a message, and a reply carrying one is
never sent on its own (moderation/reranker.py).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from moderation.base import Hit

BRANDS = Path(__file__).resolve().parent / "data" / "brands.json"
# A host: labels of letters, digits and hyphens joined by dots, ending in a letters-only suffix; with or
# without a scheme ("https://", "www."), as people paste them into a message.
_HOST = re.compile(
    r"(?<![\w@.-])(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-])", re.IGNORECASE
)
_TWO_PART_SUFFIXES = {"com", "net", "org", "gov", "edu", "co", "ac"}  # com.cn, co.uk, org.au …
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s", "4": "a", "7": "t"})


@lru_cache(maxsize=8)
def _brands(own: tuple[str, ...]) -> dict[str, str]:
    """Each known site's own label → its domain ("taobao" → "taobao.com")."""
    domains = [*own, *json.loads(BRANDS.read_text(encoding="utf-8"))["domains"]]
    return {registrable(d.lower())[0]: d.lower() for d in domains if registrable(d.lower())[0]}


def registrable(host: str) -> tuple[str, str]:
    """(label, registrable domain): "item.taobao.com" → ("taobao", "taobao.com"), "x.sf.com.cn" → ("sf", …)."""
    labels = host.lower().strip(".").split(".")
    if len(labels) < 2:
        return "", host
    cut = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _TWO_PART_SUFFIXES else 2
    if len(labels) < cut:
        return "", host
    return labels[-cut], ".".join(labels[-cut:])


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau–Levenshtein distance (adjacent swaps count one), or limit + 1 when it is larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def imitated(host: str, own_domains: tuple[str, ...] = ()) -> str | None:
    """The known domain `host` imitates, or None (also when it is that domain or one of its subdomains)."""
    brands = _brands(tuple(d.lower() for d in own_domains))
    host = host.lower()
    label, domain = registrable(host)
    if not label or domain in brands.values():
        return None
    folded = label.translate(_LEET)
    parts = label.split("-")
    for brand, real in brands.items():
        # A letter changed, doubled, dropped or swapped: only for names long enough that a one-letter change
        # is not another ordinary word ("apple" → "apply" is not a scam; "paypal" → "paypa1" is).
        edits = 0 if len(brand) < 6 else 1 if len(brand) < 9 else 2
        if edits and label != brand and _distance(folded, brand, edits) <= edits:
            return real
        # The name with words added ("taobao-refund", "apple-id-verify"), or the real domain as a subdomain
        # of another ("paypal.com.secure-login.net", "paypal.com-secure.net").
        if (len(parts) > 1 and brand in parts) or label.startswith(f"{brand}-"):
            return real
        if label != brand and (f"{real}." in host or host.startswith(f"{real}-") or f".{real}-" in host):
            return real
    return None


def hosts(text: str) -> list[str]:
    """Every web address's host in the text ("see www.shop.com/x" → ["www.shop.com"])."""
    return [m.group(1) for m in _HOST.finditer(text)]


def find_links(text: str, own_domains: tuple[str, ...] = ()) -> list[Hit]:
    """A fraud hit (flag) for each look-alike link in the text, naming the site it imitates."""
    hits = []
    for match in _HOST.finditer(text):
        real = imitated(match.group(1), own_domains)
        if real:
            hits.append(Hit("fraud", "flag", match.start(1), match.end(1), f"look-alike of {real}"))
    return hits
