"""Look-alike links (moderation/links.py): phishing in the name of a known site, never the real site."""

from __future__ import annotations

import pytest

from moderation.lexicon import DEFAULT_PATH, Lexicon
from moderation.links import find_links, registrable
from moderation.reranker import score_candidate

OWN = ("deskworks.com",)  # a shop's own domain (SHOPDESK_SHOP_DOMAINS)


@pytest.mark.parametrize(
    ("text", "imitated"),
    [
        ("【快递】您的包裹地址不详，请点击 sf-expresss.cn/fix 补填", "sf-express.com"),  # a letter doubled
        ("Your refund is ready: https://paypa1.com/claim", "paypal.com"),  # leet
        ("log in at www.amazom.com to confirm", "amazon.com"),  # a letter changed
        ("退款请到 taobao-refund.com 填写银行卡", "taobao.com"),  # the name with a word added
        ("verify at apple-id-verify.net", "apple.com"),
        ("https://paypal.com.secure-login.net/x", "paypal.com"),  # the real domain as a subdomain
        ("track it on deskworks-support.top", "deskworks.com"),  # the shop's own name
        ("go to deskwork.com/refund", "deskworks.com"),
    ],
)
def test_a_look_alike_is_flagged_as_fraud(text, imitated):
    hits = find_links(text, OWN)
    assert [(h.category, h.action) for h in hits] == [("fraud", "flag")]
    assert hits[0].term == f"look-alike of {imitated}"
    assert "." in text[hits[0].start : hits[0].end]  # the span is the address itself


@pytest.mark.parametrize(
    "text",
    [
        "https://item.taobao.com/item.htm?id=1",  # the real site, a subdomain
        "my invoice is on deskworks.com/orders",  # the shop's own
        "apple.com.cn has it cheaper",  # the real name under a country suffix
        "see apply.com and easy.com",  # ordinary words one letter from a short brand
        "my blog is example.org",
        "email me at bob@paypal.com",  # an address, not a link
        "version 1.2.3 of the app",
        "订单号 A-1003，金额 318.40 元",
    ],
)
def test_real_and_unrelated_sites_pass(text):
    assert find_links(text, OWN) == []


def test_the_registrable_domain_skips_two_part_suffixes():
    assert registrable("www.sf-express.com.cn") == ("sf-express", "sf-express.com.cn")
    assert registrable("a.b.yto.net.cn") == ("yto", "yto.net.cn")
    assert registrable("secure-login.net") == ("secure-login", "secure-login.net")


def test_a_generated_reply_may_link_only_where_the_shops_text_points():
    lexicon = Lexicon.from_file(DEFAULT_PATH)
    policy = "Returns are started at returns.deskworks.com within 30 days of delivery."

    def score(reply: str) -> list[str]:
        return score_candidate(
            "llm", reply, question="how do I return it?", fact_texts=[], policy_texts=[policy], lexicon=lexicon
        ).reasons

    assert not any("links" in r for r in score("Start your return at returns.deskworks.com within 30 days."))
    reasons = score("Start your return at deskworks-returns.top within 30 days.")
    assert any("links to a site no fact or policy names (deskworks-returns.top)" in r for r in reasons)
