"""The quota page's indicator table on the sample one-map (issue 17, item 8): the UDB expansion
limit of 003:131-133 ("城镇开发边界扩展倍数控制在基于2020年现状城镇建设用地规模的1.3倍以内") is
region-wide, so the table judges the regional figure (over the loaded districts, shown once)
and marks each district's own ratio as information only. Runs in the same headless Chromium
against a live server as ``tests/test_portal.py``, whose fixtures it uses."""

from __future__ import annotations

import yaml

from tests.test_portal import SAMPLES, browser, portal_db, server, visit  # noqa: F401

PLANTED = yaml.safe_load((SAMPLES / "planted.yaml").read_text(encoding="utf-8"))
REGION = next(s for s in PLANTED["situations"] if s["id"] == "UDB-REGION-01")["expected"]


def _rows(page) -> list[dict]:
    page.locator("#quota-indicators tbody tr").first.wait_for()
    return page.eval_on_selector_all("#quota-indicators tbody tr", """trs => trs.map(tr => ({
        id: tr.dataset.indicator, info: tr.dataset.informationOnly === 'true',
        bad: tr.classList.contains('om-bad'),
        cells: [...tr.querySelectorAll('td')].map(td => td.innerText)}))""")


def test_region_view_judges_the_regional_udb_ratio_once(visit) -> None:  # noqa: F811
    v = visit("/quota", "planner")
    rows = _rows(v.page)
    udb = [r for r in rows if r["id"].startswith("udb_expansion_ratio")]
    assert sorted(r["id"] for r in udb) == [
        "udb_expansion_ratio", "udb_expansion_ratio:640104", "udb_expansion_ratio:640202"]
    regional = next(r for r in udb if r["id"] == "udb_expansion_ratio")
    assert not regional["info"] and regional["bad"] is REGION["exceeds"] is True
    assert "✘" in regional["cells"][3] and "1.3" in regional["cells"][2]
    assert "仅含已加载数据的区县" in regional["cells"][0]
    for own in (r for r in udb if r["id"] != "udb_expansion_ratio"):
        assert own["info"] and not own["bad"] and "仅供参考" in own["cells"][3]
        assert "✘" not in own["cells"][3] and "✔" not in own["cells"][3]
    assert v.errors == [], v.errors


def test_district_view_in_english(visit) -> None:  # noqa: F811
    v = visit("/quota?lang=en", "planner")
    v.page.select_option("#quota-division", "640104")
    v.page.wait_for_function(
        "[...document.querySelectorAll('#quota-indicators tbody tr')]"
        ".some(tr => tr.dataset.indicator === 'udb_expansion_ratio:640104')")
    rows = {r["id"]: r for r in _rows(v.page)}
    own = rows["udb_expansion_ratio:640104"]
    assert own["info"] and "information only" in own["cells"][3]
    assert "the 1.3x limit is set for the region as a whole" in own["cells"][0]
    assert rows["udb_expansion_ratio"]["bad"] and "Ningxia" in rows["udb_expansion_ratio"][
        "cells"][0]
    assert rows["cultivated_land"]["info"]  # no district target for cultivated land
    assert v.errors == [], v.errors
