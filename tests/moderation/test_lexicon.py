"""The lexicon filter: evasions caught, innocent words passed, edits picked up without a restart."""

from __future__ import annotations

import json
import os
import time

import pytest

from moderation.lexicon import DEFAULT_PATH, Lexicon, LexiconStore

LEXICON = Lexicon.from_file(DEFAULT_PATH)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("you are a fucking idiot", "abuse"),
        ("f.u.c.k you", "abuse"),
        ("F U C K this shop", "abuse"),
        ("ＦＵＣＫ", "abuse"),  # full-width
        ("sh1t service", "abuse"),  # leet
        ("$hit", "abuse"),
        ("fuсk", "abuse"),  # Cyrillic с
        ("f\u200bu\u200bc\u200bk", "abuse"),  # zero-width joiners
        ("你这个傻逼", "abuse"),
        ("傻 逼客服", "abuse"),
        ("傻*逼", "abuse"),
        ("SHABI", "abuse"),  # pinyin
        ("I will kill you", "violence"),
        ("我要弄死你", "violence"),
        ("where can I buy drugs", "illegal"),
        ("能代开发票吗", "illegal"),
        ("send me nudes", "sexual"),
        ("we promise a full refund guaranteed", "fraud"),
        ("It's cheaper on Amazon", "competitors"),
        ("淘宝上更便宜", "competitors"),
    ],
)
def test_caught(text, category):
    assert category in LEXICON.check(text).categories


@pytest.mark.parametrize(
    "text",
    [
        "I live in Scunthorpe",
        "请帮我分析一下这个订单",
        "这个操作怎么做",
        "I love this classic shirt",
        "This hit the spot",
        "That was a cocktail of errors",
        "assassin's creed game",
        "What skill you need?",
        "他很傻。逼得我没办法",
        "Where is my order A1023?",
        "我想退货",
        "shiitake mushrooms",
    ],
)
def test_innocent_text_passes(text):
    assert LEXICON.check(text).action == "allow"


def test_block_gives_a_preset_reply_in_the_customer_language():
    assert LEXICON.check("傻逼").preset_reply.startswith("请文明交流")
    assert LEXICON.check("fuck you").preset_reply.startswith("Let's keep")


def test_mask_stars_the_term_only():
    verdict = LEXICON.check("Is it cheaper on Amazon?")
    assert verdict.action == "mask" and verdict.allowed
    assert verdict.masked_text == "Is it cheaper on ******?"


def test_store_reloads_an_edited_lexicon(tmp_path):
    path = tmp_path / "lexicon.json"
    store = LexiconStore(path)
    assert store.path() == DEFAULT_PATH  # nothing edited yet: the shipped lexicon
    data = json.loads(DEFAULT_PATH.read_text())
    data["categories"]["competitors"]["terms"].append("megamart")
    store.save(data)
    assert "competitors" in store.get().check("try MegaMart").categories
    data["categories"]["competitors"]["terms"].remove("megamart")
    store.save(data)
    os.utime(path, (time.time() + 5, time.time() + 5))  # a later mtime even on coarse clocks
    assert store.get().check("try MegaMart").action == "allow"


def test_store_refuses_a_bad_lexicon(tmp_path):
    store = LexiconStore(tmp_path / "lexicon.json")
    with pytest.raises(ValueError, match="unknown action"):
        store.save({"categories": {"x": {"action": "explode", "terms": ["a"]}}})
    assert not (tmp_path / "lexicon.json").exists()
    with pytest.raises(ValueError, match="direction must be"):
        store.save({"categories": {"x": {"action": "flag", "direction": "sideways", "terms": ["a"]}}})


@pytest.mark.parametrize(
    "text",
    [
        "Where do I enter the verification code you texted me?",
        "I promise I never got the parcel, it was not in the locker",
        "验证码一直收不到，能换成邮箱吗",
        "你们承诺的七天无理由呢",
    ],
)
def test_a_reply_s_promises_are_ordinary_words_in_a_customer_s_message(text):
    # "fraud" lists what a reply must not promise or ask for: about replies only.
    assert "fraud" not in LEXICON.check(text, "in").categories
    assert "fraud" in LEXICON.check(text, "out").categories  # the same words in a draft reply are held


def test_a_category_about_replies_still_counts_when_no_direction_is_given():
    assert "fraud" in LEXICON.check("Please send me the verification code").categories
    assert "abuse" in LEXICON.check("你这个傻逼", "in").categories  # the others read both directions
    assert "abuse" in LEXICON.check("你这个傻逼", "out").categories


@pytest.mark.parametrize(
    "text", ["他妈妈的生日快到了，想买个礼物", "我妈妈的快递到了吗", "我操作失误了，下错单", "电脑死机了"]
)
def test_innocent_chinese_that_contains_a_listed_term_passes(text):
    """Chinese has no spaces: a term that starts inside a word (妈的 in 妈妈的) is not there."""
    assert LEXICON.check(text).action == "allow"
