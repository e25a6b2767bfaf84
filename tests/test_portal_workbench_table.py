"""The attribute table in a real browser (issue 23): the query builder writes CQL2, the
table pages through what it selects, a row zooms the map to its feature, and the xlsx and
GeoPackage exports of the selection hold exactly the table's rows (all pages). Counted
independently in SQL. Same set-up as ``tests/test_portal.py`` (its fixtures).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pyogrio
from openpyxl import load_workbook
from sqlalchemy import text

from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    Server,
    browser,
    portal_db,
    server,
    shot,
    visit,
)
from tests.test_portal_strings import CJK


def _screen(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#om-table tbody tr[data-row]",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_query_page_zoom_export(visit, server: Server, tmp_path: Path) -> None:  # noqa: F811
    v = visit("/", "planner")
    page = v.page
    page.click('.om-wb-tool[data-tool="table"]')
    page.select_option("#om-table-layer", "basic_farmland")
    page.wait_for_function("(document.body.dataset.table || '').startsWith('basic_farmland:')")
    # two conditions, all of them: county 640202 and an area of at least 2000 m²
    page.click("#om-table-add")
    page.select_option('#om-table-conditions select[data-k="field"]', "county_code")
    page.fill('#om-table-conditions input[data-k="value"]', "640202")
    page.click("#om-table-add")
    page.locator('#om-table-conditions select[data-k="field"]').nth(1).select_option("area_m2")
    page.locator('#om-table-conditions select[data-k="op"]').nth(1).select_option(">=")
    page.locator('#om-table-conditions input[data-k="value"]').nth(1).fill("2000")
    cql = page.locator("#om-table-cql").inner_text()
    assert cql == "county_code = '640202' AND area_m2 >= 2000"
    page.click("#om-table-run")
    page.wait_for_function("/^basic_farmland:0:\\d+$/.test(document.body.dataset.table)")
    total = int(page.evaluate("document.body.dataset.table").split(":")[2])
    with server.engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT id FROM basic_farmland WHERE county_code = '640202' AND area_m2 >= 2000 "
            "ORDER BY id")).scalars().all()
    assert total == len(expected) > 20, total  # more than a page
    rows = _screen(page)
    while len(rows) < total:  # every page
        page.click("#om-table-next")
        page.wait_for_function(
            "(n) => document.body.dataset.table === 'basic_farmland:' + n + ':' + "
            f"{total}", arg=len(rows))
        rows += _screen(page)
    assert [int(r[0]) for r in rows] == expected
    range_text = page.locator("#om-table-range").inner_text()
    assert range_text.endswith(f"共 {total} 条"), range_text

    # a row zooms the map to its feature
    page.locator("#om-table tbody tr[data-row]").last.click()
    page.wait_for_function("OneMap.map().getZoom() >= 14")
    shot(page, "viewer-table", docs=True)

    # the xlsx holds the table's rows, as the table shows them
    with page.expect_download() as info:
        page.click("#om-table-xlsx")
    book = load_workbook(BytesIO(Path(info.value.path()).read_bytes()))
    sheet = book.active
    cells = [[("" if c is None else c) for c in row] for row in sheet.iter_rows(values_only=True)]
    heads = page.eval_on_selector_all("#om-table thead th", "ths => ths.map(t => t.innerText)")
    assert list(cells[0]) == heads
    body, totals = cells[1:-1], cells[-1]
    assert len(body) == total and totals[0] == "合计"
    n = len(heads)
    for shown, saved in zip(rows, body, strict=True):
        assert int(shown[0]) == saved[0]
        assert shown[1:n - 3] == [str(x) for x in saved[1:n - 3]]
        for i in (n - 3, n - 2, n - 1):  # m², 亩, 公顷 as shown (rounded)
            assert abs(_number(shown[i]) - saved[i]) < 0.01, (shown[i], saved[i])
    # ... and the GeoPackage the same features, in CGCS2000
    with page.expect_download() as info:
        page.click("#om-table-gpkg")
    gpkg = tmp_path / "selection.gpkg"
    info.value.save_as(gpkg)
    frame = pyogrio.read_dataframe(gpkg)
    assert sorted(frame["id"].astype(int)) == expected
    assert frame.crs.to_epsg() == 4490
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()


def test_coded_values_and_bad_input_in_english(visit) -> None:  # noqa: F811
    v = visit("/?lang=en", "planner")
    page = v.page
    page.click('.om-wb-tool[data-tool="table"]')
    page.select_option("#om-table-layer", "village_plans")
    page.wait_for_function("document.body.dataset.table === 'village_plans:0:11'")
    page.click("#om-table-add")
    page.select_option('#om-table-conditions select[data-k="field"]', "category")
    options = page.eval_on_selector_all('#om-table-conditions select[data-k="value"] option',
                                        "os => os.map(o => o.textContent).filter(Boolean)")
    assert options and not [o for o in options if CJK.search(o)], options
    page.select_option('#om-table-conditions select[data-k="value"]', label=options[0])
    codes = page.evaluate("OneMap.config.layers.village_plans.coded.category")
    code = next(c for c, name in codes.items() if name == options[0])
    assert page.locator("#om-table-cql").inner_text() == f"category = '{code}'"  # the code
    page.click("#om-table-run")
    page.wait_for_function("/^village_plans:0:\\d+$/.test(document.body.dataset.table)")
    shown = {r[5] for r in _screen(page)}  # the category column shows the label
    assert shown == {options[0]}, shown
    # a number field given text is explained, nothing is asked of the server
    page.select_option('#om-table-conditions select[data-k="field"]', "flexible_quota_m2")
    page.fill('#om-table-conditions input[data-k="value"]', "a lot")
    page.click("#om-table-run")
    message = page.locator("#om-table-status.om-error").inner_text()
    assert "is not a number" in message and not CJK.search(message), message
    assert v.errors == [], v.errors
