"""Headless Chromium (Debian's, no browser download) driven by Playwright against a live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("SHOPDESK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# This machine's network is closed: without these, Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/test-deps.sh does)")
    from playwright.sync_api import expect, sync_playwright

    # Turns run real models on a loaded 2-core machine: give page assertions the same 30 s as actions.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server) -> Iterator:  # type: ignore[no-untyped-def]
    """Open pages in contexts of their own (separate cookies and storage, like separate people)."""
    contexts = []

    def open_page(path: str = "/", viewport: dict | None = None, locale: str = "en-US"):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(live_server + path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, base: str, user: dict, next_path: str) -> None:  # type: ignore[no-untyped-def]
    """Use the console's sign-in form, as a person would."""
    page.goto(f"{base}/login?next={next_path}")
    page.fill("input[name=email]", user["email"])
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url and next_path in url)
