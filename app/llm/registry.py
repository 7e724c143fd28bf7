"""The process's chat model, built once from the settings."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.llm.base import ChatModel
from app.models import ModelVersion

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


_SYNC_EVERY_S = 5.0
_last_sync: dict[int, float] = {}


def sync_active(session: Session, model: ChatModel) -> None:
    """Swap the local model to the active version when a run or an admin changed it (checked every few s).

    Generations already running finish on the weights they started with (LocalChatModel.reload).
    """
    reload = getattr(model, "reload", None)
    if reload is None:
        return  # the openai backend is swapped blue/green at the server, not here
    now = time.monotonic()
    if now - _last_sync.get(id(model), 0.0) < _SYNC_EVERY_S:
        return
    _last_sync[id(model)] = now
    path = session.scalar(select(ModelVersion.path).where(ModelVersion.status == "active").limit(1))
    current = getattr(model, "path", None)
    if path and (current is None or str(current) != path):
        try:
            reload(path)
        except Exception:  # noqa: BLE001 - a broken version must not stop the turn; the old weights answer
            logging.getLogger(__name__).exception("could not load the active model version at %s", path)
