"""Admins edit the lexicon at run time; the very next message is checked with the new terms."""

from __future__ import annotations

from tests.helpers import ask, login, make_user, open_conversation


def test_admin_edit_takes_effect_without_a_restart(client, demo_shop, settings, tmp_path):
    settings.lexicon_path = tmp_path / "lexicon.json"
    settings.moderation_semantic = False  # the semantic layer already calls a muppet abuse: this is the lexicon's test
    admin = login(client, make_user("admin"))
    lexicon = client.get("/api/v1/admin/lexicon", headers=admin).json()
    conversation = open_conversation(client, "c1001")
    assert ask(client, conversation, "you absolute muppet").json()["reply"]["status"] != "blocked"

    lexicon["categories"]["abuse"]["terms"].append("muppet")
    saved = client.put("/api/v1/admin/lexicon", json=lexicon, headers=admin)
    assert saved.status_code == 200 and saved.json()["version"] != lexicon["version"]
    assert ask(client, conversation, "you absolute muppet").json()["reply"]["status"] == "blocked"
    assert list((tmp_path / "history").glob("lexicon-*.json"))


def test_only_admins_edit_and_bad_lexicons_are_refused(client, settings, tmp_path):
    settings.lexicon_path = tmp_path / "lexicon.json"
    agent = login(client, make_user("agent"))
    assert client.get("/api/v1/admin/lexicon", headers=agent).status_code == 403
    admin = login(client, make_user("admin", "boss@shop.test"))
    bad = client.put("/api/v1/admin/lexicon", json={"categories": {"x": {"action": "explode"}}}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_lexicon"
    assert client.put("/api/v1/admin/lexicon", json={"nope": 1}, headers=admin).status_code == 422
    assert not (tmp_path / "lexicon.json").exists()
