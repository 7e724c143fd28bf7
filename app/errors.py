"""Errors as JSON `{"error": {"code", "message"}}`, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sqlalchemy_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.schemas import ErrorRead

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}

# What every route may answer besides its own body, for the OpenAPI document (it replaces FastAPI's default
# 422 shape, which this API never sends).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorRead, "description": "the request was refused: a stable code and a sentence"},
    "5XX": {"model": ErrorRead, "description": "the service failed or is briefly unavailable (503: retry)"},
}


class AppError(Exception):
    """An error the client caused or can act on; carries its HTTP status and a stable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        body: dict[str, Any] = error_body(exc.code, exc.message)
        files = getattr(exc, "files", None)
        if files:
            body["error"]["files"] = files
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _validation_message(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(sqlalchemy_exc.OperationalError)
    @app.exception_handler(sqlalchemy_exc.InterfaceError)
    @app.exception_handler(sqlalchemy_exc.TimeoutError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        # The database is restarting or unreachable: nothing was half-done (the transaction rolled back),
        # and the pool reconnects once it is back; the client retries (with the same Idempotency-Key).
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, str(exc).split("\n")[0])
        return JSONResponse(
            error_body("database_unavailable", "the service is briefly unavailable; retry in a few seconds"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(sqlalchemy_exc.IntegrityError)
    async def _conflict(request: Request, exc: Exception) -> JSONResponse:
        # A constraint refused the change (usually a concurrent request stored the same thing first):
        # nothing of this request was saved, and the client is told so rather than "created".
        reason = str(getattr(exc, "orig", exc)).split("\n")[0][:200]
        log.info("integrity conflict on %s %s: %s", request.method, request.url.path, reason)
        return JSONResponse(error_body("conflict", "the change conflicts with stored data; nothing was saved"), 409)

    @app.exception_handler(sqlalchemy_exc.DataError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value the database refuses (an id past the integer range, a NUL in a text): the client's input.
        reason = str(getattr(exc, "orig", exc)).split("\n")[0][:200]
        log.info("unstorable value on %s %s: %s", request.method, request.url.path, reason)
        return JSONResponse(error_body("invalid_value", f"a value in the request can't be used: {reason}"), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "something went wrong on our side"), status_code=500)
