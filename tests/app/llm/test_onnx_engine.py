"""The local backend's int4 engine (ONNX Runtime GenAI) on the real embedded model, and its fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.llm import onnx_engine
from app.llm.local import ONNX_ENGINE, TRANSFORMERS_ENGINE, LocalChatModel

pytestmark = pytest.mark.slow

MESSAGES = [
    {"role": "system", "content": "You are a shop assistant. FACTS: order A1023 has shipped."},
    {"role": "user", "content": "Where is my order A1023?"},
]


def test_the_embedded_model_is_served_by_the_int4_engine(local_model):
    assert local_model.engine == ONNX_ENGINE, local_model.engine_note
    assert onnx_engine.is_converted(local_model.path)
    [reply] = local_model.generate(MESSAGES, n=1, max_tokens=12)
    assert len(reply.split()) >= 2 and "<|im_" not in reply
    assert local_model.generate(MESSAGES, n=1, max_tokens=12) == [reply]  # greedy: repeatable


def test_the_prompt_is_the_chat_template_with_special_token_ids(local_model):
    loaded = local_model._get()
    tokenizer = loaded.tokenizer
    im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    ids = loaded.onnx.prompt_ids(MESSAGES)
    # One id per turn marker (system, user, and the assistant turn the model writes), not the marker's pieces.
    assert ids[0] == im_start and ids.count(im_start) == 3 and ids.count(im_end) == 2
    pieces = tokenizer.encode("<|im_start|>", add_special_tokens=False, split_special_tokens=True)
    assert len(pieces) > 1 and im_start not in pieces
    assert not any(ids[i : i + len(pieces)] == pieces for i in range(len(ids)))


def test_several_samples_come_back_from_one_batch(local_model):
    replies = local_model.generate(MESSAGES, n=3, max_tokens=8, temperature=1.0)
    assert len(replies) == 3 and all(isinstance(r, str) for r in replies) and any(replies)


def _copy_without_onnx(source: Path, target: Path) -> Path:
    """The model folder's files linked into target, without its int4 ONNX conversion."""
    target.mkdir()
    for file in source.iterdir():
        if file.is_file():
            (target / file.name).symlink_to(file)
    return target


def test_transformers_serves_a_model_without_a_conversion(local_model, tmp_path):
    folder = _copy_without_onnx(local_model.path, tmp_path / "model")
    model = LocalChatModel(folder, tmp_path, engine="auto")
    model.load()
    assert model.engine == TRANSFORMERS_ENGINE
    assert "no finished int4 ONNX conversion" in model.engine_note
    [reply] = model.generate(MESSAGES, n=1, max_tokens=4)
    assert reply


def test_transformers_serves_a_model_whose_conversion_is_corrupt(local_model, tmp_path):
    folder = _copy_without_onnx(local_model.path, tmp_path / "model")
    shutil.copytree(onnx_engine.onnx_dir(local_model.path), onnx_engine.onnx_dir(folder))
    (onnx_engine.onnx_dir(folder) / "model.onnx").write_bytes(b"not an onnx model")
    model = LocalChatModel(folder, tmp_path, engine="auto")
    [reply] = model.generate(MESSAGES, n=2, max_tokens=4, temperature=1.0)[:1]
    assert model.engine == TRANSFORMERS_ENGINE and "could not load" in model.engine_note
    assert reply is not None


def _prompt(rules: str, fact: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": f"{rules}\nFACTS:\n{fact}"}, {"role": "user", "content": question}]


RULES_EN = "You are the shop's assistant. Answer from the FACTS only, in at most two sentences. " * 3
RULES_ZH = "你是店铺的客服助手。只根据 FACTS 回答，最多两句话。" * 3
PROMPTS = [
    _prompt(RULES_EN, "Order A1023: shipped, tracking 1Z999AA10123456784.", "Where is my order A1023?"),
    _prompt(RULES_ZH, "订单 A1024：已发货，快递单号 SF1234567890。", "我的订单A1024到哪了？"),
    _prompt(RULES_EN, "Order B4712: delivered on 2026-11-30. Returns: 14 days from delivery.", "Can I return B4712?"),
    _prompt(RULES_ZH, "退款在审核通过后 3 个工作日内原路退回。", "退款多久到账？"),
]


def test_greedy_answers_reuse_the_rules_cache_and_are_the_same_as_fresh_ones(local_model):
    engine = local_model._get().onnx
    fresh = []
    for messages in PROMPTS:
        engine._cache = onnx_engine.PrefixCache(engine._slot_generator)  # nothing cached: a whole prefill
        fresh.append(engine.generate(messages, n=1, max_tokens=24))
    engine._cache = cache = onnx_engine.PrefixCache(engine._slot_generator)
    cached = [engine.generate(messages, n=1, max_tokens=24) for messages in PROMPTS * 2]
    assert cached == fresh * 2
    # Every prompt after the first of its language reuses at least the rules (a slot per language) …
    rules = min(len(engine.prompt_ids(_prompt(r, "", ""))) for r in (RULES_EN, RULES_ZH)) - 12
    assert cache.reused_tokens >= 6 * rules
    # … and a prompt asked again reuses all of it but its last few tokens, with the same answer.
    before, ids = cache.reused_tokens, engine.prompt_ids(PROMPTS[-1])
    assert engine.generate(PROMPTS[-1], n=1, max_tokens=24) == fresh[-1]
    assert cache.reused_tokens - before == len(ids) - onnx_engine.RERUN_TOKENS
