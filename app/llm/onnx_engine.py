"""The int4 engine of the `local` backend: ONNX Runtime GenAI on a model converted by its model builder.

A Hugging Face folder's int4 ONNX model lives in its `onnx-int4/` subfolder: the embedded SmolLM2 gets
it at `shopdesk prepare-models`, a retrained model in the training run (training/pipeline.py). Prompts
are tokenized by the model's own transformers tokenizer and chat template, so the engine reads exactly
the token ids the transformers engine reads (special tokens included), and its output is decoded the same way.

A greedy answer reuses the key/value cache of an earlier prompt's tokens (`PrefixCache`): every prompt opens
with the same system rules, so only what differs (the facts, the history, the message) is prefilled. The
prefill computes each position alone, so the reused cache holds exactly the values a fresh prefill computes
and the answer is the same to the bit (RERUN_TOKENS says the one exception; tests/app/llm/test_onnx_engine.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ONNX_DIRNAME = "onnx-int4"
MARKER = "shopdesk-onnx.json"  # written last: a folder without it is a conversion that did not finish
# prune_lm_head: logits for the last prompt token only during prefill, not for every prompt token.
# k_quant_mixed: int4 (k-quant) weights, with the output head and the most sensitive layers (llama.cpp's
# choice: the first and last eighth, every third layer's v/qkv and down projections) in int8. Plain int4
# round-to-nearest broke SmolLM2-135M on the eval suite (grounded accuracy 0.4 → 0.0; README, Figures).
BUILDER_OPTIONS = ("prune_lm_head=true", "algo_config=k_quant_mixed")
CONVERT_TIMEOUT_S = 1800
# Generators kept with their prompt's cache (one per language in practice), and how many tokens each holds.
# The cache is allocated whole (past_present_share_buffer): 2,048 tokens of SmolLM2-135M take about 92 MB.
CACHE_SLOTS = 2
MIN_SHARED = 32  # tokens a prompt must share with a slot's cache to take it over from making a new slot
# The last prompt tokens are always prefilled again, as a batch: one token alone goes through the decode
# kernels, whose rounding differs from the prefill's (a prompt asked twice then got another answer); two or
# more gave the fresh prefill's logits to the bit here, eight leave a margin for other CPUs' kernels.
RERUN_TOKENS = 8
SLOT_TOKENS = 2048


class EngineUnavailable(RuntimeError):
    """The int4 engine can't serve this model (not installed, not converted, or a broken conversion)."""


def onnx_dir(model_dir: Path) -> Path:
    """Where a model folder's int4 ONNX conversion is kept."""
    return Path(model_dir) / ONNX_DIRNAME


def is_converted(model_dir: Path) -> bool:
    """model_dir has a finished conversion made with today's builder options."""
    marker = onnx_dir(model_dir) / MARKER
    try:
        return json.loads(marker.read_text()).get("builder_options") == list(BUILDER_OPTIONS)
    except (OSError, ValueError):
        return False


def convert(model_dir: Path, source_dir: Path | None = None, *, timeout_s: float = CONVERT_TIMEOUT_S) -> Path:
    """Convert a Hugging Face folder to int4 ONNX in model_dir/onnx-int4 (once; tmp folder, then rename).

    source_dir: the weights to convert when model_dir holds another format of the same model (a training
    run's AWQ folder is served from the int4 ONNX of its merged weights: the builder reads compressed-tensors
    checkpoints only for CUDA). The builder runs in a subprocess, so the fp32 weights it loads are freed.
    """
    model_dir = Path(model_dir)
    target = onnx_dir(model_dir)
    if is_converted(model_dir):
        return target
    source = Path(source_dir or model_dir)
    if not (source / "config.json").exists():
        raise EngineUnavailable(f"{source} is not a model folder (no config.json)")
    tmp = model_dir / f".{ONNX_DIRNAME}.tmp-{os.getpid()}-{threading.get_ident()}"
    cache = Path(f"{tmp}-cache")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    command = [
        sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", str(source), "-i", str(source),
        "-o", str(tmp), "-p", "int4", "-e", "cpu", "-c", str(cache), "--extra_options", *BUILDER_OPTIONS,
    ]  # fmt: skip
    log.info("converting %s to int4 ONNX in %s (once)", source, target)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise EngineUnavailable(f"the ONNX model builder failed on {source}: {done.stderr[-1500:]}")
        (tmp / MARKER).write_text(
            json.dumps(
                {
                    "source": str(source.resolve()),
                    "precision": "int4",
                    "builder_options": list(BUILDER_OPTIONS),
                    "onnxruntime_genai": _version(),
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )
        if is_converted(model_dir):
            return target  # another process finished first
        shutil.rmtree(target, ignore_errors=True)  # an unfinished or broken conversion
        tmp.rename(target)  # atomic: a half-written folder is never taken for the model
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(f"converting {source} to ONNX took over {timeout_s:.0f} s") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
    log.info("converted %s to int4 ONNX in %.1fs", source, time.perf_counter() - started)
    return target


def _version() -> str:
    from importlib.metadata import version

    return version("onnxruntime-genai")


@dataclass
class _Slot:
    generator: Any  # an og.Generator of SLOT_TOKENS tokens
    tokens: list[int]  # the tokens its cache holds (the last prompt and its answer)


class PrefixCache:
    """Generators that keep their last prompt's key/value cache: a new prompt rewinds the one that shares the
    longest prefix with it to that prefix and prefills only the rest. A slot is used by one thread at a time
    (taken out of the pool, given back after); a prompt finding none idle gets a new one."""

    def __init__(self, new_generator: Any, slots: int = CACHE_SLOTS) -> None:
        self._new = new_generator
        self._slots = slots
        self._idle: list[_Slot] = []  # least recently used first
        self._live = 0  # slots made and not dropped, idle or in use
        self.prompt_tokens = 0  # every prompt's tokens, and how many of them came from a cache
        self.reused_tokens = 0
        self._lock = threading.Lock()

    def take(self, ids: list[int]) -> tuple[_Slot, int]:
        """A slot for this prompt and how many of its first tokens the slot's cache already holds."""
        with self._lock:
            self.prompt_tokens += len(ids)
            shared = [common_prefix(slot.tokens, ids) for slot in self._idle]
            best = max(range(len(shared)), key=shared.__getitem__, default=None)
            # A prompt that shares little with every idle slot gets a slot of its own while there is room,
            # so prompts of two languages don't keep overwriting each other's cache.
            if best is not None and (shared[best] >= MIN_SHARED or self._live >= self._slots):
                slot = self._idle.pop(best)
                kept = max(0, min(shared[best], len(ids) - RERUN_TOKENS))
                self.reused_tokens += kept
                return slot, kept
            self._live += 1
        return _Slot(self._new(), []), 0

    def give_back(self, slot: _Slot) -> None:
        with self._lock:
            self._idle.append(slot)
            while len(self._idle) > self._slots:
                self._idle.pop(0)  # the least recently used goes
                self._live -= 1

    def drop(self) -> None:
        """A slot taken and not given back (its generator failed midway)."""
        with self._lock:
            self._live -= 1


def common_prefix(a: list[int], b: list[int]) -> int:
    """How many first tokens two sequences share."""
    return len(os.path.commonprefix([a, b]))


class OnnxEngine:
    """Greedy or sampled generation with ONNX Runtime GenAI; several samples of one prompt run as one batch,
    one greedy answer on a generator that keeps the prompt's cache for the next (PrefixCache)."""

    def __init__(self, folder: Path, tokenizer: Any, *, threads: int = 0) -> None:
        try:
            import onnxruntime_genai as og
        except ImportError as exc:
            raise EngineUnavailable(f"onnxruntime-genai is not installed ({exc})") from None
        folder = Path(folder)
        if not (folder / MARKER).exists():
            raise EngineUnavailable(f"no finished int4 ONNX conversion at {folder}")
        self.folder = folder
        self._og = og
        self._tokenizer = tokenizer
        try:
            config = og.Config(str(folder))
            if threads:
                options = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
                config.overlay(json.dumps({"model": {"decoder": {"session_options": options}}}))
            self._model = og.Model(config)
        except Exception as exc:  # noqa: BLE001 - og raises plain RuntimeErrors for every kind of bad folder
            raise EngineUnavailable(f"ONNX Runtime GenAI could not load {folder}: {exc}") from None
        genai = json.loads((folder / "genai_config.json").read_text())["model"]
        eos = genai.get("eos_token_id", tokenizer.eos_token_id)
        self._eos = set(eos if isinstance(eos, list) else [eos])
        self._context = int(genai.get("context_length", 2048))
        self._cache = PrefixCache(self._slot_generator)

    def _slot_generator(self) -> Any:
        params = self._og.GeneratorParams(self._model)
        params.set_search_options(max_length=min(SLOT_TOKENS, self._context), do_sample=False)
        return self._og.Generator(self._model, params)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """The prompt's token ids from the model's own chat template (special tokens as single ids)."""
        encoded = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
        return list(encoded["input_ids"])

    def generate(
        self, messages: list[dict[str, str]], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        import numpy as np

        ids = self.prompt_ids(messages)
        if n == 1 and len(ids) + max_tokens <= min(SLOT_TOKENS, self._context):
            return [self._greedy(ids, max_tokens)]
        sample = n > 1 and temperature > 0
        params = self._og.GeneratorParams(self._model)
        options: dict[str, Any] = {
            "max_length": min(len(ids) + max_tokens, self._context),
            "batch_size": n,
            "do_sample": sample,
        }
        if sample:
            options.update(temperature=temperature, top_p=0.9, top_k=50)
        params.set_search_options(**options)
        generator = self._og.Generator(self._model, params)
        # n samples of one prompt: one batch of n identical rows, so no padding is involved.
        generator.append_tokens(np.array([ids] * n, dtype=np.int32))
        while not generator.is_done():
            generator.generate_next_token()
        texts = []
        for row in range(n):
            new = [int(t) for t in generator.get_sequence(row)[len(ids) :]]
            end = next((i for i, token in enumerate(new) if token in self._eos), len(new))
            new = new[:end]  # a row that ended early is filled up with pad tokens
            texts.append(self._tokenizer.decode(new, skip_special_tokens=True).strip())
        return texts

    def _greedy(self, ids: list[int], max_tokens: int) -> str:
        """One greedy answer, prefilling only what the cache of a slot doesn't hold yet."""
        import numpy as np

        slot, kept = self._cache.take(ids)
        generator = slot.generator
        new: list[int] = []
        try:
            generator.rewind_to(kept)
            generator.append_tokens(np.array([ids[kept:]], dtype=np.int32))
            while len(new) < max_tokens and not generator.is_done():
                generator.generate_next_token()
                token = int(generator.get_next_tokens()[0])
                if token in self._eos:
                    break
                new.append(token)
            slot.tokens = [int(t) for t in generator.get_sequence(0)]
        except BaseException:
            self._cache.drop()  # a generator that failed midway holds a cache of unknown state
            raise
        self._cache.give_back(slot)
        return self._tokenizer.decode(new, skip_special_tokens=True).strip()
