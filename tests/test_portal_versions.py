"""The viewer in a real browser (Debian's chromium) draws one version of a control line: the
one in force today, or the one in force on the page's ``?as_of=`` day, never two at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from api.app import create_app
from gis.layers.load import LoadOptions, load_file
from tests.conftest import free_port
from tests.test_line_versions import V1, V1_ROWS, V2, V2_ROWS, _file

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def viewer(clean_db, settings, role_keys, tmp_path) -> Iterator[str]:
    load_file(clean_db, _file(tmp_path, "v1", V1_ROWS), "eco_redline", LoadOptions(version=V1))
    load_file(clean_db, _file(tmp_path, "v2", V2_ROWS), "eco_redline", LoadOptions(version=V2))
    app = create_app(settings.with_changes(portal={"basemap": "offline", "tianditu_key": None}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=(port := free_port()),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_viewer_draws_the_version_in_force_or_as_of(viewer, role_keys) -> None:
    key = role_keys["planner"]["X-API-Key"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            seen = {}
            for query in ("", "?as_of=2024-01-01"):
                page = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
                page.set_default_timeout(60_000)  # the machine is shared: be patient
                page.add_init_script(f"localStorage.setItem('onemap.apiKey', {key!r})")
                requests: list[str] = []
                page.on("request", lambda r, requests=requests: requests.append(r.url))
                page.goto(viewer + "/" + query)
                page.wait_for_function("OneMap.state.eco_redline "
                                       "&& OneMap.state.eco_redline.features")
                seen[query] = sorted(page.evaluate(
                    "OneMap.state.eco_redline.features.map(f => f.properties.redline_code)"))
                asked = [u for u in requests if "/collections/eco_redline/items" in u]
                assert asked and all(("datetime=2024-01-01" in u) == bool(query) for u in asked)
                page.context.close()
        finally:
            browser.close()
    assert seen == {"": ["HX-1", "HX-2", "HX-3"], "?as_of=2024-01-01": ["HX-1", "HX-2"]}
