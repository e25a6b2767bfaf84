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


def _rows(page, division: str = "64") -> list[dict]:
    """Every figure of the indicator table (one row per county, one column per indicator,
    issue 23), with the footnote its reference points to, once the table shows ``division``
    (the page drops a slower answer for a division no longer chosen)."""
    page.wait_for_function(
        f"document.body.dataset.indicatorsDivision === '{division}'")
    return page.eval_on_selector_all("#quota-indicators tbody td[data-indicator]", """tds =>
        tds.map(td => { const ref = td.querySelector('.om-ind-ref');
          const notes = [...document.querySelectorAll('#quota-indicator-notes li')];
          return {id: td.dataset.indicator, info: td.dataset.informationOnly === 'true',
            bad: td.classList.contains('om-bad'), row: td.closest('tr').dataset.division,
            rowName: td.closest('tr').querySelector('th').innerText,
            text: td.innerText,
            note: ref ? notes[Number(ref.innerText) - 1].innerText : ''}; })""")


def test_region_view_judges_the_regional_udb_ratio_once(visit) -> None:  # noqa: F811
    v = visit("/quota", "planner")
    rows = _rows(v.page)
    udb = [r for r in rows if r["id"].startswith("udb_expansion_ratio")]
    assert sorted(r["id"] for r in udb) == [
        "udb_expansion_ratio", "udb_expansion_ratio:640104", "udb_expansion_ratio:640202"]
    regional = next(r for r in udb if r["id"] == "udb_expansion_ratio")
    assert regional["row"] == "640000" and regional["rowName"] == "全区（已加载区县）"
    assert not regional["info"] and regional["bad"] is REGION["exceeds"] is True
    assert "✘" in regional["text"] and "不超过 1.30" in regional["text"]
    assert "仅含已加载数据的区县" in regional["note"]
    for own in (r for r in udb if r["id"] != "udb_expansion_ratio"):
        assert own["info"] and not own["bad"] and "仅供参考" in own["text"]
        assert "✘" not in own["text"] and "✔" not in own["text"]
        assert own["row"] == own["id"].split(":")[1]
    assert v.errors == [], v.errors


def test_district_view_in_english(visit) -> None:  # noqa: F811
    v = visit("/quota?lang=en", "planner")
    v.page.select_option("#quota-division", "640104")
    rows = {r["id"]: r for r in _rows(v.page, "640104")}
    assert {r["row"] for r in rows.values()} == {"640000", "640104"}, rows
    own = rows["udb_expansion_ratio:640104"]
    assert own["info"] and "information only" in own["text"]
    assert "the 1.3x limit is set for the region as a whole" in own["note"]
    regional = rows["udb_expansion_ratio"]
    assert regional["bad"] and regional["rowName"] == "Region (districts loaded)"
    assert "the limit is region-wide" in regional["note"]
    assert rows["cultivated_land"]["info"]  # no district target for cultivated land
    assert v.errors == [], v.errors
