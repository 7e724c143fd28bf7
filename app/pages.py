"""The HTML pages: the demo shop (with the widget), the agent console, the admin console, sign-in.

Jinja2 renders the frame; the pages' scripts (web/) talk to the JSON API. Nothing inline: the
Content-Security-Policy allows scripts and styles from this origin only.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from app.auth import service as auth_service
from app.chat.service import sign_customer_ref
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.models import Customer, User
from app.shop import repository as shop_repository

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
# The web/ package's folder, wherever Shopdesk is installed: the checkout, or site-packages from the wheel.
WEB_DIR = Path(str(resources.files("web")))

router = APIRouter(include_in_schema=False)
SessionCookie = Annotated[str | None, Cookie()]


def _asset_version() -> str:
    """Changes when a web/ file changes, so browsers don't keep an old script."""
    return str(max((p.stat().st_mtime_ns for p in WEB_DIR.glob("*.*")), default=0))[-8:]


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, {"v": _asset_version(), **context}, status_code=status)


@router.get("/", response_class=HTMLResponse)
def shop(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    customer: Annotated[str | None, Query(max_length=128)] = None,
    lang: Annotated[str | None, Query(pattern="^(en|zh)$")] = None,
) -> HTMLResponse:
    """The demo shop page with the widget; in development it signs in as a demo customer."""
    ref = None
    if settings.env != "production":
        # A real shop signs its own customer's ref on its server; the demo page plays that part.
        refs = list(session.scalars(select(Customer.ref).order_by(Customer.id).limit(20)))
        ref = customer if customer in refs else (refs[0] if refs else None)
        customers = refs
    else:
        customers = []
    return _render(
        request,
        "shop.html",
        {
            "customer_ref": ref,
            "customer_sig": sign_customer_ref(settings.widget_secret, ref) if ref else None,
            "customers": customers,
            "lang": lang,
            "backend": settings.llm_backend,
            # The shop's own products at the prices its orders were placed at (the page and the answers agree).
            "products": shop_repository.catalogue(session),
        },
    )


@router.get("/favicon.ico", include_in_schema=False, response_class=RedirectResponse)
def favicon() -> Response:
    """Browsers ask for it on every page; the icon is the static SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


def _signed_in(session: SessionDep, token: str | None) -> User | None:
    if not token:
        return None
    try:
        return auth_service.user_for_token(session, token)
    except AppError:
        return None


def _console(request: Request, session: SessionDep, settings: SettingsDep, token: str | None, page: str) -> Response:
    user = _signed_in(session, token)
    if user is None:
        return RedirectResponse(f"/login?next=/{page}", status_code=303)
    if page == "admin" and user.role != "admin":
        return _render(request, "forbidden.html", {"user": user}, status=403)
    assert token is not None
    csrf = auth_service.csrf_token(settings.secret_key, token)
    return _render(request, f"{page}.html", {"user": user, "csrf_token": csrf, "page": page})


@router.get("/agent", response_class=HTMLResponse)
def agent_console(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    shopdesk_session: Annotated[str | None, Cookie()] = None,
) -> Response:
    return _console(request, session, settings, shopdesk_session, "agent")


@router.get("/admin", response_class=HTMLResponse)
def admin_console(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    shopdesk_session: Annotated[str | None, Cookie()] = None,
) -> Response:
    return _console(request, session, settings, shopdesk_session, "admin")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=200)] = "/agent") -> HTMLResponse:
    # Only a path of this site: an open redirect would let a phishing link bounce through the sign-in.
    target = next if next.startswith("/") and not next.startswith(("//", "/\\")) else "/agent"
    return _render(request, "login.html", {"next": target})
