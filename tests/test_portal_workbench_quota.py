"""The /quota page rebuilt for reading (issue 23), in a real browser: the indicator table
has one row per county and one column per indicator in the units planners read (km², 万亩,
倍, %), Chinese names on the Chinese page and English ones on the English page; the map has a
compliance legend and its village labels do not pile up.

Same set-up as ``tests/test_portal.py`` (its fixtures).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    TABLET,
    Server,
    browser,
    portal_db,
    server,
    shot,
    visit,
)
from tests.test_portal_strings import CJK


def _api(srv: Server, settings, division: str) -> dict[str, dict]:
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/api/v1/indicators/{division}",
                          headers={"X-API-Key": srv.keys["planner"]}).json()
    return {i["id"]: i for i in body}


def _cells(page) -> dict[tuple[str, str], str]:
    page.wait_for_function("Number(document.body.dataset.indicators) > 0")
    cells = page.eval_on_selector_all(
        "#quota-indicators tbody td[data-indicator]",
        "tds => tds.map(td => [td.closest('tr').dataset.division, td.dataset.indicator, "
        "td.querySelector('.om-ind-value').innerText])")
    return {(row, ind): value for row, ind, value in cells}


def _overlaps(rects: list[dict]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(rects) for j, b in enumerate(rects[i + 1:], i + 1)
            if a["left"] < b["right"] and b["left"] < a["right"]
            and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


def _visible_labels(page) -> list[dict]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.om-village-label')]"
        ".filter(e => getComputedStyle(e).visibility !== 'hidden')"
        ".map(e => { const r = e.getBoundingClientRect(); "
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })")


def test_indicator_table_one_row_per_county_in_units(visit, server: Server,  # noqa: F811
                                                      settings) -> None:
    v = visit("/quota", "planner")
    page = v.page
    cells = _cells(page)
    rows = page.eval_on_selector_all("#quota-indicators tbody tr",
                                     "trs => trs.map(tr => tr.dataset.division)")
    assert rows == ["640000", "640104", "640202"]  # the region, then each county once
    names = page.eval_on_selector_all("#quota-indicators tbody th",
                                      "ths => ths.map(th => th.innerText)")
    assert names == ["全区（已加载区县）", "兴庆区", "大武口区"]
    heads = page.eval_on_selector_all("#quota-indicators thead th[data-column]",
                                      "ths => ths.map(th => th.innerText.replace(/\\n/g, ' '))")
    assert heads == ["生态保护红线面积 平方千米", "永久基本农田面积 万亩", "耕地面积 万亩",
                     "城镇开发边界扩展倍数 倍", "森林覆盖率 %"]
    for division in ("640202", "640104"):
        api = _api(server, settings, division)
        got = {ind: value for (row, ind), value in cells.items() if row == division}
        assert float(got["redline"].replace(",", "")) == pytest.approx(
            api["redline"]["value"], abs=0.005)
        assert float(got["basic_farmland"].replace(",", "")) == pytest.approx(
            api["basic_farmland"]["value"] / 10000, abs=0.00005)  # 万亩
        assert got["forest_coverage"].endswith("%")
        assert float(got["forest_coverage"].rstrip("%")) == pytest.approx(
            api["forest_coverage"]["value"] * 100, abs=0.005)
        assert float(got[f"udb_expansion_ratio:{division}"]) == pytest.approx(
            api[f"udb_expansion_ratio:{division}"]["value"], abs=0.005)
    region = _api(server, settings, "64")
    assert float(cells[("640000", "cultivated_land")].replace(",", "")) == pytest.approx(
        region["cultivated_land"]["value"] / 10000, abs=0.00005)
    # the forest cover target reads in % too ("不少于 7.5%", not "0.08 share")
    target = page.locator('td[data-indicator="forest_coverage"]').last.locator(
        ".om-ind-target").inner_text()
    assert target == "目标 不少于 7.50%", target
    text = page.locator("#quota-indicators").inner_text()
    assert "share" not in text and "ratio" not in text and "km2" not in text
    # the conflicts table names its two columns apart
    conflict_heads = page.eval_on_selector_all("#quota-conflicts thead th",
                                               "ths => ths.map(th => th.innerText)")
    assert len(set(conflict_heads)) == 3, conflict_heads
    assert v.errors == [], v.errors


def test_english_quota_page_in_english(visit) -> None:  # noqa: F811
    v = visit("/quota?lang=en", "planner")
    page = v.page
    _cells(page)
    heads = page.eval_on_selector_all("#quota-indicators thead th",
                                      "ths => ths.map(th => th.innerText)")
    assert not [h for h in heads if CJK.search(h)], heads
    assert "Forest coverage\n%" in heads
    marks = page.eval_on_selector_all("#quota-indicators .om-ind-mark, .om-ind-target",
                                      "els => els.map(e => e.innerText)")
    assert marks and not [m for m in marks if CJK.search(m)], marks
    legend = page.locator("#quota-legend").inner_text()
    assert "compliant" in legend and not CJK.search(legend)
    conflict_heads = page.locator("#quota-conflicts thead").inner_text()
    assert not CJK.search(conflict_heads)
    assert v.errors == [], v.errors


def test_quota_map_legend_and_labels(visit) -> None:  # noqa: F811
    v = visit("/quota", "planner")
    page = v.page
    page.wait_for_function("Number(document.body.dataset.villages) === 11")
    legend = page.eval_on_selector_all("#quota-legend .om-legend-row",
                                       "rows => rows.map(r => r.innerText)")
    assert legend == ["符合", "不符合", "超用", "三条控制线冲突"]
    swatches = page.eval_on_selector_all(
        "#quota-legend .om-swatch", "s => s.map(e => e.style.getPropertyValue('--c'))")
    drawn = set(page.evaluate(
        "() => [...OneMap.map().getPane('om-villages').querySelectorAll('path')]"
        ".map(p => p.getAttribute('fill'))"))
    assert drawn <= set(swatches[:3]) and len(drawn) == 3  # every colour drawn is explained
    # the region view: labels that would overlap are hidden, the shown ones never overlap
    page.evaluate("OneMap.map().setZoom(OneMap.map().getZoom() - 3, {animate: false})")
    page.wait_for_timeout(200)
    shown = _visible_labels(page)
    assert 0 < len(shown) < 11 and _overlaps(shown) == []
    # zoomed in, more of them have room
    page.evaluate("OneMap.map().setZoom(OneMap.map().getZoom() + 4, {animate: false})")
    page.wait_for_timeout(200)
    closer = _visible_labels(page)
    assert len(closer) > len(shown) and _overlaps(closer) == []
    page.evaluate("OneMap.map().setZoom(OneMap.map().getZoom() - 1, {animate: false})")
    shot(page, "quota-legend", docs=True)
    assert v.errors == [], v.errors


def test_quota_tablet(visit) -> None:  # noqa: F811
    v = visit("/quota", "planner", TABLET)
    page = v.page
    page.wait_for_function("Number(document.body.dataset.villages) === 11")
    _cells(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    shot(page, "quota-tablet", docs=True)
    assert v.errors == [], v.errors
