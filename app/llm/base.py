"""The ChatModel protocol: one interface, a local and an OpenAI-compatible backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.llm.openai import Breaker
    from app.models import ModelVersion

# OpenAI chat format: {"role": ..., "content": str | [{"type": "text"|"image_url"|"input_audio", ...}]}
ChatMessage = dict[str, Any]


class LLMUnavailable(RuntimeError):
    """The model could not answer (server down, timed out, failed to load)."""


class ChatModel(Protocol):
    """What callers use of a backend: the turn, the active-version sync, /readyz and `serve --warm`."""

    name: str  # stored on each reply as its model_version
    multimodal: bool  # reads image and audio parts; a text-only model is sent the text alone

    @property
    def breaker(self) -> Breaker | None:
        """The circuit breaker in front of a remote server (reported by /readyz); None in-process."""
        ...

    def generate(
        self, messages: list[ChatMessage], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        """Return n completions of the conversation (n=1 is greedy where the backend allows it)."""
        ...

    def load(self) -> None:
        """Load the weights now (otherwise the first generation does)."""
        ...

    def follow(self, version: ModelVersion | None) -> None:
        """Answer with the active version from the next generation on (a run or an admin changed it)."""
        ...


class BaseChatModel:
    """What a backend that doesn't say otherwise does: reads text alone, has no breaker, nothing to load
    ahead and no versions to follow."""

    name: str
    multimodal: bool = False
    breaker: Breaker | None = None

    def load(self) -> None:
        return None

    def follow(self, version: ModelVersion | None) -> None:
        return None


def text_only(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Flatten multimodal parts to their text, for models that read text alone."""
    flat = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = "\n".join(p["text"] for p in content if p.get("type") == "text")
        flat.append({"role": message["role"], "content": content})
    return flat
