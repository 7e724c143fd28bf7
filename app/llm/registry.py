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


def sync_active(session: Session, model: ChatModel) -> None:
    """Follow the active version when a run or an admin changed it (checked every few seconds).

    local: load its weights; generations already running finish on the old ones (LocalChatModel.reload).
    openai: send the next requests to its server (the blue/green swap; training/deploy.py).
    """
    reload = getattr(model, "reload", None)
    retarget = getattr(model, "retarget", None)
    if reload is None and retarget is None:
        return
    now = time.monotonic()
    if now - _last_sync.get(id(model), 0.0) < _SYNC_EVERY_S:
        return
    _last_sync[id(model)] = now
    version = session.scalar(select(ModelVersion).where(ModelVersion.status == "active").limit(1))
    if retarget is not None:
        # The openai backend: a blue/green deployment moved traffic to another vLLM server.
        endpoint = (version.lineage or {}).get("endpoint") if version and version.backend == "openai" else None
        if endpoint:
            retarget(endpoint, version.path)  # type: ignore[union-attr]
        return
    path = version.path if version else None
    current = getattr(model, "path", None)
    if reload is not None and path and (current is None or str(current) != path):
        try:
            reload(path)
        except Exception:  # noqa: BLE001 - a broken version must not stop the turn; the old weights answer
            logging.getLogger(__name__).exception("could not load the active model version at %s", path)
