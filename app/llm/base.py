"""The ChatModel protocol: one interface, a local and an OpenAI-compatible backend."""

from __future__ import annotations

from typing import Any, Protocol

# OpenAI chat format: {"role": ..., "content": str | [{"type": "text"|"image_url"|"input_audio", ...}]}
ChatMessage = dict[str, Any]


class LLMUnavailable(RuntimeError):
    """The model could not answer (server down, timed out, failed to load)."""


class ChatModel(Protocol):
    name: str

    def generate(
        self, messages: list[ChatMessage], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        """Return n completions of the conversation (n=1 is greedy where the backend allows it)."""
        ...


def text_only(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """Flatten multimodal parts to their text, for models that read text alone."""
    flat = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = "\n".join(p["text"] for p in content if p.get("type") == "text")
        flat.append({"role": message["role"], "content": content})
    return flat
