"""Issue 21 in a real browser (Debian's chromium through Playwright, as tests/test_portal.py):
every portal page runs under its Content-Security-Policy with no violation (Folium's inline
scripts carry the page's nonce; an injected inline script does not run), and a refused key
leaves the page usable as "no key": public layers load and the key box says so."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from api.app import create_app
from gis.auth import issue_key, revoke_key
from gis.messages import text
from portal.common import NAV
from tests.conftest import free_port

CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
VIOLATION = "Content Security Policy"


@pytest.fixture(scope="module")
def server(settings, sample_db) -> Iterator[str]:
    app_settings = settings.with_changes(portal={"basemap": "offline", "tianditu_key": None})
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(app_settings), host="127.0.0.1",
                                       port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing (scripts/setup.sh test installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def wait_until(page, predicate: str, timeout_s: float = 20.0) -> None:
    """``page.wait_for_function`` under the page's real CSP: Playwright compiles its predicate
    with eval inside the page, which the policy (rightly) forbids, while ``page.evaluate``
    goes through the DevTools protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        page.wait_for_timeout(100)


def _open(browser: Browser, url: str, key: str | None = None):
    context = browser.new_context(locale="zh-CN")
    if key:
        context.add_init_script(f"localStorage.setItem('onemap.apiKey', {key!r})")
    page = context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(url)
    return context, page, console


@pytest.mark.parametrize("path", [href for _, href in NAV])
def test_pages_run_under_their_csp(browser, server, path) -> None:
    context, page, console = _open(browser, server + path)
    try:
        wait_until(page, "document.body.dataset.layersReady === 'true' || "
                               "document.readyState === 'complete'")
        page.wait_for_timeout(500)
        assert page.evaluate("typeof OneMap") == "object"  # our scripts ran
        assert [m for m in console if VIOLATION in m] == []
        # An inline script without the nonce (what an injection would add) is blocked.
        page.evaluate("() => { const s = document.createElement('script');"
                      " s.textContent = 'window.injected = true;';"
                      " document.body.appendChild(s); }")
        page.wait_for_timeout(200)
        assert page.evaluate("window.injected === undefined")
        assert any(VIOLATION in m for m in console)
    finally:
        context.close()


@pytest.mark.parametrize("kind", ["revoked", "garbage"])
def test_a_refused_key_shows_public_layers_with_a_message(browser, server, engine,
                                                          kind) -> None:
    key = "om_garbage_key"
    if kind == "revoked":
        key = issue_key(engine, "portal-security-revoked", "planner")
        revoke_key(engine, "portal-security-revoked")
    context, page, _ = _open(browser, server + "/", key)
    try:
        wait_until(page, "document.body.dataset.layersReady === 'true'")
        status = page.locator("#om-key-status").inner_text()
        assert status == text("portal.key_refused_public", "zh")
        # public layers load (the administrative divisions are drawn), restricted ones not
        wait_until(page,
            "() => { const p = OneMap.map().getPane('om-admin_divisions');"
            " return p && p.querySelectorAll('path').length > 0; }")
        assert page.evaluate(
            "() => { const p = OneMap.map().getPane('om-eco_redline');"
            " return p ? p.querySelectorAll('path').length : 0; }") == 0
    finally:
        context.close()
