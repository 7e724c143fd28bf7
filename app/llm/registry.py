"""The process's chat model, built once from the settings."""

from __future__ import annotations

import threading

from app.config import Settings
from app.llm.base import ChatModel

_lock = threading.Lock()
_models: dict[tuple[str, str, str], ChatModel] = {}


def get_chat_model(settings: Settings) -> ChatModel:
    key = (settings.llm_backend, settings.llm_model, settings.llm_base_url)
    model = _models.get(key)
    if model is not None:
        return model
    with _lock:
        if key not in _models:
            _models[key] = _build(settings)
        return _models[key]


def _build(settings: Settings) -> ChatModel:
    if settings.llm_backend == "openai":
        from app.llm.openai import OpenAIChatModel

        return OpenAIChatModel(
            settings.llm_base_url,
            settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
        )
    from app.llm.local import LocalChatModel

    return LocalChatModel(
        settings.llm_model or None,
        settings.resolved_models_dir,
        threads=settings.llm_threads,
        concurrency=settings.llm_concurrency,
    )
