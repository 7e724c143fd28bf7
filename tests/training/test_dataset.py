"""The dataset: ms-swift rows from final replies, split by conversation, PII-scrubbed, with preference pairs."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.llm import prompts
from app.models import Message
from training.dataset import DatasetConfig, build, collect


def test_rows_split_and_scrubbed(logged_turns, tmp_path):
    with session_scope() as s:
        info = build(s, DatasetConfig(out_dir=tmp_path, data_dir=get_settings().data_dir))
    train = [json.loads(line) for line in info.train_path.read_text().splitlines()]
    evaluation = [json.loads(line) for line in info.eval_path.read_text().splitlines()]
    sent = sum(r["status"] == "sent" for r in logged_turns["replies"])
    assert info.train + info.eval == sent + 1  # every sent reply and the agent's edit
    assert info.eval >= 1 and info.train >= 1
    rows = train + evaluation
    # The turn's prompt: the system prompt, the conversation so far, the customer's message; then the answer.
    roles = [[m["role"] for m in r["messages"]] for r in rows]
    assert all(r[0] == "system" and r[-2:] == ["user", "assistant"] for r in roles)
    assert any(len(r) > 3 for r in roles)  # later turns carry the conversation's earlier messages
    assert all(set(r) == {"messages", "images", "audios"} for r in rows)
    systems = " ".join(r["messages"][0]["content"] for r in rows)
    assert "SF1234567890" in systems  # the facts the reply was grounded in are in the prompt
    users = [r["messages"][-2]["content"] for r in rows]
    assert all(u.startswith("<customer_message>\n") and u.endswith("\n</customer_message>") for u in users)
    said = json.dumps([r["messages"][1:] for r in rows], ensure_ascii=False)  # questions, history and answers
    assert "13812345678" not in said and "138****5678" in said
    answers = [r["messages"][-1]["content"] for r in rows]
    assert "Why did the parcel cross the road?" in answers


def test_turns_logged_before_their_history_was_recorded_take_it_from_the_conversation(logged_turns):
    def prompts_of(examples) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(json.dumps(e.messages, ensure_ascii=False) for e in examples)

    data_dir = get_settings().data_dir
    with session_scope() as s:
        logged = prompts_of(collect(s, data_dir))
        for message in s.scalars(select(Message).where(Message.turn.is_not(None))):
            message.turn = {k: v for k, v in message.turn.items() if k not in ("history", "media")}
        s.commit()
        assert prompts_of(collect(s, data_dir)) == logged


def test_the_edit_gives_a_preference_pair(logged_turns, tmp_path):
    with session_scope() as s:
        info = build(s, DatasetConfig(out_dir=tmp_path, eval_fraction=0.0, data_dir=get_settings().data_dir))
    pairs = [json.loads(line) for line in info.preferences_path.read_text().splitlines()]
    # The held reply had no model candidate (no LLM in this test), so the edit has nothing to be preferred over.
    assert all(p["chosen"] != p["rejected"] for p in pairs)


def test_edits_and_rejections_give_pairs_with_the_prompt_the_turn_sent(corrected_turns, tmp_path):
    with session_scope() as s:
        info = build(s, DatasetConfig(out_dir=tmp_path, eval_fraction=0.0, data_dir=get_settings().data_dir))
    pairs = {p["messages"][-1]["content"]: p for p in map(json.loads, info.preferences_path.read_text().splitlines())}
    rows = map(json.loads, info.train_path.read_text().splitlines())
    sft = {json.dumps(r["messages"][:-1]): r["messages"][-1]["content"] for r in rows}
    assert info.preferences == len(pairs) == len(corrected_turns) == 8
    for corrected in corrected_turns:
        pair = pairs[prompts.render("customer.j2", text=corrected["question"])]
        assert (pair["chosen"], pair["rejected"]) == (corrected["chosen"], corrected["rejected"])
        assert [pair["messages"][0]["role"], pair["messages"][-1]["role"]] == ["system", "user"]
        # An edit is also a fine-tuning example, on the same prompt; a rejection gives the pair alone.
        if corrected["action"] == "edit":
            assert sft[json.dumps(pair["messages"])] == corrected["chosen"]
        else:
            assert json.dumps(pair["messages"]) not in sft


def test_split_keeps_each_conversation_on_one_side(logged_turns, tmp_path):
    with session_scope() as s:
        info = build(s, DatasetConfig(out_dir=tmp_path, data_dir=get_settings().data_dir))

    def users(path):  # type: ignore[no-untyped-def]
        return {json.loads(line)["messages"][-2]["content"] for line in path.read_text().splitlines()}

    # c1001's questions are all on one side, whichever it is.
    c1001 = {prompts.render("customer.j2", text=q) for q in ("Where is my order A1023?", "Is shipping free?")}
    assert c1001 <= users(info.train_path) or c1001 <= users(info.eval_path)


def test_the_split_never_starves_either_side_and_keeps_sides_as_data_grows():
    from training.dataset import FEW_CONVERSATIONS, Example, split

    def examples(n: int) -> list[Example]:
        return [Example(f"conversation-{i}", [{"role": "user", "content": str(i)}]) for i in range(n)]

    for n in (2, 3, 5, 10):  # few: round(fraction × n) of them, at least one, whatever the hashes
        train, evaluation = split(examples(n), 0.2)
        assert len({e.conversation_id for e in evaluation}) == max(1, round(0.2 * n))
        assert len(train) == n - len(evaluation)
    assert split(examples(1), 0.2) == (examples(1), [])  # one conversation: it is all there is to train on

    many = FEW_CONVERSATIONS * 5
    _, before = split(examples(many), 0.2)
    _, after = split(examples(many + 50), 0.2)
    held_before = {e.conversation_id for e in before}
    assert 0 < len(held_before) < many / 2
    assert held_before <= {e.conversation_id for e in after}  # nobody moves to train when more data comes
