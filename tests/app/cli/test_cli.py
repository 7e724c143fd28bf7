"""The `shopdesk` command line, run as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.config import DEV_SECRET, Settings


def shopdesk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_ask_runs_the_whole_pipeline(demo_shop):
    result = shopdesk("ask", "--customer", "c1001", "--text", "我的订单A1023到哪了？", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"perception", "reply"}
    assert out["reply"]["status"] == "sent" and "SF1234567890" in out["reply"]["text"]


def test_ask_for_an_unknown_customer_is_a_clear_error(demo_shop):
    result = shopdesk("ask", "--customer", "nobody", "--text", "hi", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] == "unknown_customer"


def test_user_create_hashes_the_password(demo_shop):
    result = shopdesk(
        "user",
        "create",
        "--role",
        "agent",
        "--email",
        "Ann@Shop.test",
        "--json",
        env={"SHOPDESK_NEW_USER_PASSWORD": "correct horse battery"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["user"]["email"] == "ann@shop.test"
    again = shopdesk(
        "user",
        "create",
        "--role",
        "agent",
        "--email",
        "ann@shop.test",
        "--json",
        env={"SHOPDESK_NEW_USER_PASSWORD": "correct horse battery"},
    )
    assert again.returncode == 2 and json.loads(again.stdout)["error"]["code"] == "user_exists"

    from app.auth.service import check_password
    from app.db import session_scope
    from app.models import User

    with session_scope() as s:
        user = s.query(User).one()
        assert user.password_hash.startswith("$argon2") and check_password(user.password_hash, "correct horse battery")


def test_production_refuses_default_secrets():
    with pytest.raises(ValidationError, match="SHOPDESK_WIDGET_SECRET"):
        Settings(env="production", widget_secret=DEV_SECRET, secret_key="x" * 32)
    with pytest.raises(ValidationError, match="SHOPDESK_SECRET_KEY"):
        Settings(env="production", widget_secret="w" * 32, secret_key="short")
    assert Settings(env="production", widget_secret="w" * 32, secret_key="s" * 32).env == "production"


def test_moderate_prints_the_verdict():
    blocked = json.loads(shopdesk("moderate", "你这个傻 逼", "--json").stdout)
    assert blocked["allowed"] is False and blocked["action"] == "block" and blocked["categories"] == ["abuse"]
    assert blocked["masked_text"] == "你这个* *" and "abuse (傻逼)" in blocked["reasons"]
    pii = json.loads(shopdesk("moderate", "call me on 13812345678", "--json").stdout)
    assert pii["allowed"] and pii["action"] == "mask" and pii["masked_text"] == "call me on 138****5678"
    clean = json.loads(shopdesk("moderate", "I live in Scunthorpe", "--json").stdout)
    assert clean == {
        "allowed": True,
        "action": "allow",
        "categories": [],
        "masked_text": "I live in Scunthorpe",
        "reasons": [],
    }


def test_moderate_recognises_harm_in_words_no_list_names():
    """The semantic layer is part of the command, as of the turn: a threat with no listed word is blocked."""
    said = "I know where your warehouse is. Tonight I'm coming with a few friends."
    threat = json.loads(shopdesk("moderate", said, "--direction", "in", "--json").stdout)
    assert threat["action"] == "block" and threat["categories"] == ["threat"]
    assert threat["masked_text"] == said and any(r.startswith("threat (semantic:") for r in threat["reasons"])
    off = shopdesk("moderate", said, "--direction", "in", "--json", env={"SHOPDESK_MODERATION_SEMANTIC": "false"})
    assert json.loads(off.stdout)["action"] == "allow"  # the lexicon alone has no word for it
    kin = json.loads(shopdesk("moderate", "他妈妈的生日快到了，想买个礼物", "--direction", "in", "--json").stdout)
    assert kin["action"] == "allow"


def test_ocr_and_asr_commands(tmp_path):
    import random

    from tests.support.invoices import png_bytes, zh_vat
    from tests.support.speech import encode, speak

    made = zh_vat(random.Random(3), True)
    (tmp_path / "fapiao.png").write_bytes(png_bytes(made.image))
    ocr = json.loads(shopdesk("ocr", str(tmp_path / "fapiao.png"), "--json").stdout)
    assert ocr["number"] == made.truth["number"] and ocr["total"] == made.truth["total"] and ocr["lines"]
    (tmp_path / "voice.ogg").write_bytes(encode(speak("Where is my order B four seven one two?"), "ogg"))
    asr = json.loads(shopdesk("asr", str(tmp_path / "voice.ogg"), "--language", "en", "--json").stdout)
    assert "B4712" in asr["text"] and asr["language"] == "en" and asr["duration_s"] > 1
    (tmp_path / "k.webm").write_bytes(encode(speak("where is order K nine three zero five"), "webm"))
    matched = json.loads(
        shopdesk("asr", str(tmp_path / "k.webm"), "--language", "en", "--ids", "K9350,K9305", "--json").stdout
    )
    assert "K9305" in matched["text"] and matched["matched"]["value"] == "K9305"  # heard "K-I-3 05"
    bad = shopdesk("ocr", str(tmp_path / "voice.ogg"), "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["code"] == "bad_image"


def test_deploy_to_a_server_that_is_down_changes_nothing(demo_shop):
    result = shopdesk("deploy", "--endpoint", "http://127.0.0.1:9/v1", "--model", "qwen3-omni", "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "server_not_ready" and "traffic unchanged" in error["message"]
