"""The reconciliation work list in a real browser, as a forestry user works it (issue 20).

Same set-up as ``tests/test_portal.py`` (its fixtures: the sample one-map with both districts
detected, a uvicorn server with the offline base map, Debian's chromium): filter, zoom, send
to field check, decide, correct the decision, read the history, survive someone else's change
(the conflict names them and offers to reload), export and compare the file's rows with the
screen's, apply; and on a division never detected, the empty state that says how to start and
detection as a background job whose progress the page shows.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text

from gis.analysis import forest_grass as fg
from gis.analysis.worklist import BEIJING
from gis.identity import Actor
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    Server,
    browser,
    portal_db,
    server,
    visit,
)


def screen_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#recon-table tbody tr", "rows => rows.map(r => Array.from(r.cells)"
        ".map(c => c.innerText.trim()))")


def detail_state(page) -> str:
    return page.locator("#recon-detail-state").inner_text()


def wait_version(page, version: int) -> None:
    page.wait_for_function("(v) => document.getElementById('recon-detail').dataset.version "
                           "=== String(v)", arg=version)


def filter_by(page, **values: str) -> None:
    for name, value in values.items():
        page.select_option(f"#recon-{name}", value)
    page.click("#recon-filters button[type=submit]")


def test_filter_zoom_decide_correct_history_export(visit, server: Server) -> None:  # noqa: F811
    v = visit("/reconciliation", "forestry")
    page = v.page
    page.wait_for_function("Number(document.body.dataset.findings) > 0")
    with server.engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM recon_findings WHERE division = '640202' "
            "AND kind = 'forest_grass_overlap' AND status = 'open'")).scalar_one()
    assert 0 < expected <= 15
    filter_by(page, division="640202", kind="forest_grass_overlap", status="open")
    page.wait_for_function("(n) => document.body.dataset.findings === String(n)", arg=expected)
    first = page.locator("#recon-table tbody tr").first
    finding_id = int(first.get_attribute("data-id"))

    # zoom: the row goes to the map, the panel shows the finding as stored
    first.click()
    page.wait_for_function("OneMap.map().getZoom() >= 13")
    page.wait_for_function("document.getElementById('recon-history').children.length > 0")
    assert detail_state(page) == "状态：待处理 · 版本 1"

    # send to field check with the forestry buttons; the panel follows the answer
    page.click("#recon-send-field")
    wait_version(page, 2)
    assert detail_state(page) == "状态：待外业核实 · 版本 2"
    assert page.locator("#recon-send-field").is_disabled()

    # decide: the finding leaves the "open" table, the panel shows the decision (not 版本 1)
    page.select_option("#recon-decision", "keep_forest")
    page.fill("#recon-reason", "外业核实为乔木林地")
    page.click("#recon-decide-button")
    wait_version(page, 3)
    assert detail_state(page) == "状态：已决定 · 版本 3"
    assert "外业核实为乔木林地" in page.locator("#recon-history").inner_text()
    page.wait_for_function("(id) => !document.querySelector(`#recon-table tr[data-id='${id}']`)",
                           arg=finding_id)

    # correct it from the panel: the same person, the version the panel shows, no conflict
    page.select_option("#recon-decision", "keep_grass")
    page.fill("#recon-reason", "复核：现状为天然草地")
    page.click("#recon-decide-button")
    wait_version(page, 4)
    assert page.locator("#recon-conflict").is_hidden()
    assert detail_state(page) == "状态：已决定 · 版本 4"
    trail = page.locator(".om-trail").inner_text()
    holder = next(n for n in server.key_names if n.startswith("portal-forestry"))
    assert "保留草地" in trail and holder in trail and "复核：现状为天然草地" in trail, trail
    history = page.locator("#recon-history li")
    actions = history.evaluate_all("items => items.map(i => i.dataset.action)")
    assert actions == ["detected", "status", "decided", "decided"], actions
    assert "保留林地" in history.nth(2).inner_text() and "保留草地" in history.nth(3).inner_text()
    assert "版本 4" in history.nth(3).inner_text()

    # someone else decides meanwhile: refused, in Chinese, naming them; reload, then decide
    fg.decide(server.engine, finding_id, "split_by_line", Actor("林草局 赵工", "k-zhao"),
              "按界线分割", 4)
    page.select_option("#recon-decision", "keep_forest")
    page.fill("#recon-reason", "再次复核")
    page.click("#recon-decide-button")
    page.locator("#recon-conflict").wait_for()
    conflict = page.locator("#recon-conflict-text").inner_text()
    assert "林草局 赵工" in conflict and "已由" in conflict and "第 5 版" in conflict, conflict
    page.click("#recon-reload")
    wait_version(page, 5)
    assert page.locator("#recon-conflict").is_hidden()
    assert "按界线分割" in page.locator(".om-trail").inner_text()

    # the decided ones on screen, and the file: the same rows
    filter_by(page, status="decided")
    page.wait_for_function("(id) => !!document.querySelector(`#recon-table tr[data-id='${id}']`)",
                           arg=finding_id)
    shown = screen_rows(page)
    total = int(page.evaluate("document.body.dataset.findings"))
    assert len(shown) == total
    with page.expect_download() as info:
        page.click("#recon-export")
    book = load_workbook(BytesIO(Path(info.value.path()).read_bytes()))
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    column = {name: i for i, name in enumerate(header)}
    assert "决定时间（北京时间 UTC+8）" in column and "理由" in column and "决定人" in column
    as_screen = [[str(r[column["编号"]]), r[column["问题类型"]], r[column["状态"]],
                  r[column["处理决定"]] or "", r[column["乡镇(街道)"]] or "",
                  r[column["村"]] or "", r[column["涉及图斑"]], f"{r[column['面积(亩)']]:,.2f}"]
                 for r in body]
    assert as_screen == shown
    mine = next(r for r in body if r[column["编号"]] == finding_id)
    assert mine[column["理由"]] == "按界线分割" and mine[column["决定人"]] == "林草局 赵工"
    assert mine[column["版本"]] == 5
    decided_at = mine[column["决定时间（北京时间 UTC+8）"]]
    assert abs(decided_at - datetime.now(BEIJING).replace(tzinfo=None)) < timedelta(minutes=5)
    assert totals[0] == f"合计（{total} 条）"
    assert totals[column["面积(亩)"]] == round(sum(r[column["面积(亩)"]] for r in body), 2)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{total + 1}"
    assert not re.search(r"forest_grass_overlap|keep_|decided\b", str(rows))

    # apply the division's decisions: the panel reloads the finding, now applied
    page.click("#recon-apply")
    page.locator("#recon-status-line.om-ok").wait_for()
    assert "项决定已入库" in page.locator("#recon-status-line").inner_text()
    page.wait_for_function("document.getElementById('recon-detail').dataset.status === 'applied'")
    assert page.locator("#recon-decide-button").is_disabled()
    assert v.errors == [] or all("409" in e for e in v.errors), v.errors
    assert v.external() == [], v.external()


def test_first_visit_says_how_to_start_and_detection_is_a_job(
        visit, server: Server) -> None:  # noqa: F811
    with server.engine.begin() as conn:  # Xingqing as if never detected
        conn.execute(text("DELETE FROM recon_events WHERE finding_id IN (SELECT id FROM "
                          "recon_findings WHERE division = '640104')"))
        conn.execute(text("DELETE FROM recon_findings WHERE division = '640104'"))
        conn.execute(text("DELETE FROM recon_runs WHERE division = '640104'"))
    v = visit("/reconciliation", "forestry")
    page = v.page
    page.wait_for_function("document.body.dataset.findings !== undefined")
    filter_by(page, division="640104")
    page.wait_for_function("document.body.dataset.findings === '0'")
    empty = page.locator("#recon-empty")
    assert empty.is_visible() and empty.get_attribute("data-state") == "never"
    assert "运行检测" in empty.inner_text() and "gis reconcile detect 640104" in empty.inner_text()
    assert "共 0 条" in page.locator("#recon-status-line").inner_text()

    stages: list[str] = []
    page.on("console", lambda m: None)
    page.click("#recon-run")
    page.locator("#recon-job").wait_for()
    page.wait_for_function("document.body.dataset.job !== undefined")
    stages.append(page.locator("#recon-job-text").inner_text())
    page.wait_for_function("document.body.dataset.job === 'done'", timeout=60_000)
    assert stages[0].startswith("检测 640104（第 1/1 个行政区"), stages
    assert "检测完成：新增" in page.locator("#recon-job-text").inner_text()
    page.wait_for_function("Number(document.body.dataset.findings) > 0")
    assert page.locator("#recon-empty").is_hidden()
    # the detection was a job, polled; no request waited for the detection itself
    posted = [u for u in v.requests if u.endswith("/api/v1/jobs")]
    polled = [u for u in v.requests if re.search(r"/api/v1/jobs/[0-9a-f]{32}$", u)]
    assert posted and polled and not [u for u in v.requests if u.endswith("/runs")]

    # the summary by township and village: a table and a chart
    page.locator("#recon-summary tbody tr").first.wait_for()
    assert page.evaluate("!!Chart.getChart(document.getElementById('recon-chart'))")
    summary = page.locator("#recon-summary").inner_text()
    assert "月牙湖乡" in summary and not re.search(r"forest_grass|open\b", summary), summary

    # a filter matching nothing on a detected division says so, not "run detection"
    filter_by(page, kind="certificate_mismatch", status="applied")
    page.wait_for_function("document.body.dataset.findings === '0'")
    assert page.locator("#recon-empty").get_attribute("data-state") == "filtered"
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()
