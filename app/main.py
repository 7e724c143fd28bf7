"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.chat.events import bus
from app.chat.router import router as chat_router
from app.config import get_settings
from app.errors import install_error_handlers

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    bus.configure(settings.redis_url)
    listener = asyncio.create_task(bus.listen_redis())
    try:
        yield
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


def create_app() -> FastAPI:
    app = FastAPI(title="Shopdesk", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(chat_router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
