"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from app.admin.router import models_router
from app.admin.router import router as admin_router
from app.auth.router import router as auth_router
from app.chat.events import bus
from app.chat.router import router as chat_router
from app.config import get_settings
from app.deps import SessionDep, SettingsDep
from app.errors import install_error_handlers
from app.models import Customer, PolicyArticle
from app.review.router import router as review_router

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")

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
    app.include_router(auth_router)
    app.include_router(review_router)
    app.include_router(admin_router)
    app.include_router(models_router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
        counts = {
            "customers": session.scalar(select(func.count()).select_from(Customer)),
            "articles": session.scalar(select(func.count()).select_from(PolicyArticle)),
        }
        return TEMPLATES.TemplateResponse(
            request,
            "index.html",
            {
                "shop_name": "the demo shop",
                "backend": settings.llm_backend,
                "base_url": str(request.base_url),
                **counts,
            },
        )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
