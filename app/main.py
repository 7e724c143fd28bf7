"""The FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app.admin.router import models_router
from app.admin.router import router as admin_router
from app.auth.router import router as auth_router
from app.chat.events import bus
from app.chat.router import router as chat_router
from app.config import Settings, get_settings
from app.errors import ERROR_RESPONSES, install_error_handlers
from app.ops import logs, metrics
from app.ops.limits import BodySizeLimit
from app.ops.router import router as ops_router
from app.pages import WEB_DIR
from app.pages import router as pages_router
from app.review.router import agent_router
from app.review.router import router as review_router
from app.shop.admin import router as shop_admin_router
from app.shop.router import router as shop_router
from app.shop.webhooks import router as webhook_router
from moderation.classifier import get_model as get_semantic_model

# Pages load scripts, styles and data from this origin only; nothing inline, no frames of them elsewhere.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # Sync endpoints run in this pool. A turn waiting on OCR, ASR or the model holds its thread; with the
    # default 40, a burst of media turns made text turns wait minutes for a thread, not for any work.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
    bus.configure(settings.redis_url)
    listener = asyncio.create_task(bus.listen_redis())
    if settings.moderation_semantic:
        # Load (or, on a fresh data volume, train) the moderation model now, not in the first customer's turn.
        threading.Thread(target=_warm_moderation, args=(settings,), name="moderation-warm-up", daemon=True).start()
    try:
        yield
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


def _warm_moderation(settings: Settings) -> None:
    try:
        get_semantic_model(settings.resolved_models_dir)
    except Exception:  # noqa: BLE001 - the first turn tries again and reports it
        log.exception("could not load the moderation model")


def create_app() -> FastAPI:
    app = FastAPI(title="Shopdesk", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES)
    install_error_handlers(app)
    app.include_router(chat_router)
    app.include_router(auth_router)
    app.include_router(review_router)
    app.include_router(admin_router)
    app.include_router(models_router)
    app.include_router(agent_router)
    app.include_router(shop_router)
    app.include_router(shop_admin_router)
    app.include_router(webhook_router)
    app.include_router(pages_router)
    app.include_router(ops_router)
    # The widget's source is served as it is: plain JavaScript and CSS, no build step.
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    settings = get_settings()
    if settings.widget_origins:
        # Shops that embed the widget on their own origin call the customer API from there.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.widget_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
            expose_headers=["Server-Timing", "X-Request-ID", "Retry-After", "Idempotent-Replayed"],
            max_age=600,
        )

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        rid = logs.new_request_id(request.headers.get("x-request-id"))
        token = logs.request_id.set(rid)
        timings: dict[str, float] = {}
        timings_token = metrics.turn_timings.set(timings)
        started = time.perf_counter()
        try:
            response: Response = await call_next(request)
        finally:
            logs.request_id.reset(token)
            metrics.turn_timings.reset(timings_token)
        response.headers["X-Request-ID"] = rid
        if request.method == "POST" and request.url.path.endswith("/messages"):
            total_ms = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = metrics.server_timing(timings, total_ms)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html") and not request.url.path.startswith(
            ("/docs", "/redoc")
        ):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return app
