"""The 审查记录 page in a real browser (Debian's chromium through Playwright) against the
API in its own uvicorn process: search a project's checks, reopen one, re-run it after the
data changed and see what changed; the siting page's batch job over an uploaded coordinate
file with the spreadsheet to download."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from shapely.geometry import box, mapping
from sqlalchemy import text

from tests.server_fixtures import uvicorn_process
from tests.test_coordinates import coordinate_file
from tests.test_portal import CHROMIUM, DESKTOP, shot

CODE = "2025-640202-48-01-000500"
FOOT = box(106.23, 39.005, 106.24, 39.01)  # the red line's general zone of tests/siting_fixtures


@pytest.fixture(scope="module")
def live(settings, layers, role_keys) -> Iterator[tuple[str, dict[str, str]]]:
    with uvicorn_process({"GIS_BASEMAP": "offline"}) as (_, url):
        yield url, role_keys["planner"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def _page(browser: Browser, url: str, key: str, path: str, errors: list[str]) -> Page:
    # Playwright's wait_for_function evaluates its predicate with eval(), which the pages'
    # Content-Security-Policy forbids (rightly); the test bypasses it, the page does not.
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="zh-CN",
                                  bypass_csp=True)
    context.add_init_script(f"localStorage.setItem('onemap.apiKey', {key!r})")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(url + path)
    page.wait_for_function("document.body.dataset.layersReady === 'true'")
    return page


def test_history_reopen_rerun_and_compare(browser, live, layers, tmp_path: Path) -> None:
    url, key = live
    first = httpx.post(f"{url}/api/v1/analysis/siting", headers=key, timeout=60, json={
        "geometry": mapping(FOOT), "activity": "NMP3", "new_construction_land": True,
        "profile": "dawukou", "project_code": CODE, "project_name": "沟口供水工程",
        "applicant": "大武口区水务局"})
    assert first.status_code == 201, first.text
    errors: list[str] = []
    page = _page(browser, url, key["X-API-Key"], "/history", errors)
    assert page.locator("a[data-nav=history]").get_attribute("aria-current") == "page"
    page.fill("#history-code", CODE)
    page.click("#history-search")
    page.wait_for_function(f"(document.body.dataset.listed || '').includes('{CODE}')")
    rows = page.locator("#history-table tbody tr[data-run]")
    assert rows.count() == 1 and "沟口供水工程" in rows.first.inner_text()
    assert "需专题论证" in rows.first.inner_text()
    rows.first.locator("td").nth(2).click()
    page.wait_for_function(f"document.body.dataset.opened === {first.json()['id']!r}")
    assert page.locator("#history-detail-verdict").get_attribute("data-verdict") == \
        "justification_required"
    with page.expect_download() as info:
        page.click("#history-pdf")
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # The red line is redrawn away from the footprint, and the check is run again.
    with layers.begin() as conn:
        conn.execute(text("UPDATE eco_redline SET geom = ST_Multi(ST_MakeEnvelope("
                          "106.22, 39.00, 106.23, 39.02, 4490)) WHERE redline_code = 'HX-002'"))
    try:
        page.click("#history-rerun")
        page.wait_for_function("document.getElementById('history-changes').dataset.changed")
    finally:
        with layers.begin() as conn:
            conn.execute(text("UPDATE eco_redline SET geom = ST_Multi(ST_MakeEnvelope("
                              "106.22, 39.00, 106.26, 39.02, 4490)) "
                              "WHERE redline_code = 'HX-002'"))
    changes = page.locator("#history-changes")
    assert changes.get_attribute("data-changed") == "true"
    verdict_row = page.locator("#history-changes-table tr[data-change=verdict]")
    assert verdict_row.inner_text().split("\t")[1:] == ["需专题论证", "无冲突"]
    assert page.locator("#history-changes-table tr[data-change='overlap:eco_redline']").count() == 1
    page.wait_for_function(
        "document.querySelectorAll('#history-table tbody tr[data-run]').length === 2")
    assert "复查" in rows.first.inner_text()
    # Ticking both runs compares them again, from the list.
    page.locator(".history-pick").nth(0).check()
    page.locator(".history-pick").nth(1).check()
    page.click("#history-compare")
    page.wait_for_function(
        "document.querySelector('#history-changes-table tr[data-change=verdict]')")
    shown = " ".join(page.locator(f"#{part}").inner_text() for part in (
        "history-table", "history-detail", "history-changes-summary"))
    shown += page.locator("#history-changes-table tr[data-change^=overlap]").inner_text()
    assert not re.search(r"justification_required|no_conflict|eco_redline|\bgeneral\b", shown)
    shot(page, "history", docs=True)
    assert errors == [], errors


def test_batch_job_from_the_siting_page(browser, live, tmp_path: Path) -> None:
    url, key = live
    errors: list[str] = []
    page = _page(browser, url, key["X-API-Key"], "/siting", errors)
    page.wait_for_function("document.querySelectorAll('#siting-activity option').length > 10")
    page.select_option("#siting-profile", "dawukou")
    page.wait_for_function("document.querySelector('#siting-activity option[value=NMP3]')")
    page.select_option("#siting-activity", "NMP3")
    upload = tmp_path / "报批坐标.txt"
    upload.write_bytes(coordinate_file())
    page.set_input_files("#siting-file", str(upload))
    page.wait_for_function("document.body.dataset.footprint === 'uploaded'")
    batch = page.locator("#siting-batch")
    assert batch.is_visible() and "2" in batch.inner_text()
    batch.click()
    page.wait_for_function("document.body.dataset.batch === 'succeeded'", timeout=60_000)
    with page.expect_download() as info:
        page.click("#siting-batch-xlsx")
    sheet = tmp_path / "batch.xlsx"
    info.value.save_as(sheet)
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.read_bytes())).active.values)
    assert [r[0] for r in rows[1:]] == ["DK-1", "DK-2"]
    assert errors == [], errors
