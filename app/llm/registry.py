"""The process's chat model, built once from the settings, and the active model version it follows."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.llm.base import ChatModel
from app.models import ModelVersion

_lock = threading.Lock()
_models: dict[tuple[str, str, str, str], ChatModel] = {}


def get_chat_model(settings: Settings) -> ChatModel:
    key = (settings.llm_backend, settings.llm_model, settings.llm_base_url, settings.llm_local_engine)
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
            breaker_failures=settings.llm_breaker_failures,
            breaker_cooldown_s=settings.llm_breaker_cooldown_s,
        )
    from app.llm.local import LocalChatModel

    return LocalChatModel(
        settings.llm_model or None,
        settings.resolved_models_dir,
        threads=settings.llm_threads,
        concurrency=settings.llm_concurrency,
        engine=settings.llm_local_engine,
    )


_SYNC_EVERY_S = 5.0
_last_sync: dict[int, float] = {}


def active_version(session: Session) -> ModelVersion | None:
    """The model version every process answers with (a run or an admin activates it; none at first)."""
    return session.scalar(select(ModelVersion).where(ModelVersion.status == "active").limit(1))


def sync_active(session: Session, model: ChatModel) -> None:
    """Follow the active version when a run or an admin changed it (checked every few seconds).

    local: load its weights; generations already running finish on the old ones (LocalChatModel.reload).
    openai: send the next requests to its server (the blue/green swap; training/deploy.py).
    """
    now = time.monotonic()
    if now - _last_sync.get(id(model), 0.0) < _SYNC_EVERY_S:
        return
    _last_sync[id(model)] = now
    model.follow(active_version(session))
