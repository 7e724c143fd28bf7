"""A logged turn's training example is the prompt the turn sent: real turns on both backends (the local model,
and the OpenAI-compatible client on the wire), text and with an image and a voice clip, then the dataset.

The dataset scrubs personal data from the conversation's messages; the first conversation has a phone number
in it, so there the example is compared with the sent prompt after the same scrub, and the second has none
(scrub leaves it as it is, checked), so there the example is the sent prompt byte for byte.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from transformers import AutoTokenizer

from app.chat.turn import media_parts
from app.db import session_scope
from app.deps import get_model
from app.llm import local as local_backend
from app.llm import prompts
from app.llm.openai import OpenAIChatModel
from app.models import Message
from app.perception.service import check_files
from tests.helpers import A1023_INVOICE, auth, invoice_png, login, make_user, open_conversation
from tests.support.speech import encode as encode_audio
from tests.support.speech import speak
from training import dataset, evaluate, finetune

pytestmark = pytest.mark.slow

# (customer text, files, the agent's edit of the held reply): each edit is unique, so it finds its example.
WITH_PII = [
    ("My phone is 13812345678, where is order A1023?", [], "Order A1023 has shipped: SF1234567890."),
    ("How long does a refund take?", [], "A refund takes 3-5 working days."),
]
WITH_MEDIA = [
    ("Can I return my keyboard?", [], "Yes, within 7 days of delivery."),
    ("Is this the invoice of my order?", ["invoice", "voice"], "Yes, that invoice is for order A1023."),
]


def _files(names: list[str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    made = {
        "invoice": ("fapiao.png", invoice_png(**A1023_INVOICE), "image/png"),
        "voice": ("note.webm", encode_audio(speak("please have a look at this"), "webm"), "audio/webm"),
    }
    return [("files", made[name]) for name in names]


def _converse(client, agent: dict[str, str], ref: str, turns: list) -> list[int]:  # type: ignore[no-untyped-def]
    """Each message answered by a held reply that the agent edits; the held replies' ids."""
    conversation = open_conversation(client, ref)
    held = []
    for text, files, edit in turns:
        response = client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            data={"text": text},
            files=_files(files),
            headers=auth(conversation),
        )
        reply = response.json()["reply"]
        assert reply["status"] == "pending_review", reply
        reviews = client.get("/api/v1/reviews", headers=agent).json()["reviews"]
        [review] = [r for r in reviews if r["message_id"] == reply["id"]]
        decided = client.post(f"/api/v1/reviews/{review['id']}", json={"action": "edit", "text": edit}, headers=agent)
        assert decided.status_code == 200, decided.text
        held.append(reply["id"])
    return held


def _as_sent_to_a_server(prompt: list[dict[str, str]], row: dict[str, Any], settings) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The example's prompt with each marker replaced by the content part the turn makes of its stored file."""
    *before, last = prompt
    markers = re.search("(?:<image>|<audio>)*$", last["content"])
    assert markers is not None
    text, tags = last["content"][: markers.start()], re.findall("<image>|<audio>", markers.group())
    if not tags:
        return prompt
    images, audios = iter(row["images"]), iter(row["audios"])
    paths = [Path(next(images) if tag == "<image>" else next(audios)) for tag in tags]
    accepted, refused = check_files([(p.name, p.read_bytes()) for p in paths], settings)
    assert not refused
    parts = media_parts([(c.upload, c.samples) for c in accepted])
    return [*before, {"role": "user", "content": [{"type": "text", "text": text}, *parts]}]


def _dump(messages: list[dict[str, Any]]) -> str:
    return json.dumps(messages, ensure_ascii=False)


@pytest.mark.parametrize("backend", ["local", "openai"])
def test_a_logged_turns_example_is_the_prompt_the_turn_sent(
    backend, client, demo_shop, settings, local_model, monkeypatch, tmp_path
):
    sent: list[list[dict[str, Any]]] = []
    if backend == "local":
        # What the local backend hands its engine (either one): the prompt's text, through the chat template.
        flatten = local_backend.text_only

        def text_only(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
            sent.append(flatten(messages))
            return sent[-1]

        monkeypatch.setattr(local_backend, "text_only", text_only)
    else:

        def server(request: httpx.Request) -> httpx.Response:
            sent.append(json.loads(request.content)["messages"])  # the request body as it went on the wire
            return httpx.Response(200, json={"choices": [{"message": {"content": "Your order has shipped."}}]})

        model = OpenAIChatModel("http://vllm.test/v1", "qwen3-omni", transport=httpx.MockTransport(server))
        client.app.dependency_overrides[get_model] = lambda: model
    settings.llm_samples = 1
    settings.reply_threshold = 1.01  # no reply is settled without the model, and every reply is held for the agent
    agent = login(client, make_user())
    held = _converse(client, agent, "c1001", WITH_PII) + _converse(client, agent, "c1001", WITH_MEDIA)
    client.app.dependency_overrides.clear()
    assert len(sent) == len(held)  # one prompt per turn, in order
    assert all(len(prompt) == 4 for prompt in (sent[1], sent[3]))  # the second turns went with the first's history

    with session_scope() as s:
        records = [s.get(Message, reply_id).turn for reply_id in held]
        info = dataset.build(s, dataset.DatasetConfig(out_dir=tmp_path, eval_fraction=0.0, data_dir=settings.data_dir))
    rows = {row["messages"][-1]["content"]: row for row in map(json.loads, info.train_path.read_text().splitlines())}
    tokenizer = AutoTokenizer.from_pretrained(local_model.path)
    for (_, files, edit), record, prompt_sent, no_pii in zip(
        WITH_PII + WITH_MEDIA, records, sent, [False] * len(WITH_PII) + [True] * len(WITH_MEDIA), strict=True
    ):
        row = rows[edit]
        example = row["messages"][:-1]
        # The system prompt with the facts, the conversation so far, the customer's message.
        assert len(example) == len(prompt_sent) and example[0]["role"] == "system"
        keep = dataset.kept_values(record["fact_lines"])
        marked = prompts.marked(prompt_sent)
        if no_pii:
            assert dataset.scrub_prompt(marked, keep) == marked  # the scrub changes nothing here
        else:
            assert "13812345678" in _dump(marked) and "13812345678" not in _dump(example)
        scrubbed = dataset.scrub_prompt(marked, keep)

        if backend == "local":
            # The local model reads text alone: what fine-tuning and the eval gate read of the row is the prompt.
            assert _dump(prompts.without_markers(example)) == _dump(scrubbed)
            assert _dump(evaluate.held_out([row])[0].messages) == _dump(scrubbed)
            ids, labels = finetune.encode(tokenizer, row["messages"], 4096)
            prompt_ids = ids[: next(i for i, label in enumerate(labels) if label != -100)]
            given = tokenizer.apply_chat_template(scrubbed, add_generation_prompt=True, return_dict=True)
            assert prompt_ids == list(given["input_ids"])
        else:
            # The server's request, rebuilt from the row: its text and the parts the turn makes of its files.
            assert _dump(example) == _dump(scrubbed)
            if no_pii:
                assert _dump(_as_sent_to_a_server(example, row, settings)) == _dump(prompt_sent)
        if files:
            assert isinstance(prompt_sent[-1]["content"], str) == (backend == "local")
            assert example[-1]["content"].endswith("</customer_message><image><audio>")
            assert len(row["images"]) == len(row["audios"]) == 1 and all(map(Path.exists, map(Path, row["images"])))
