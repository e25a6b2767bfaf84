"""Statistics by region (issue 23): a layer's areas per township and class, computed in the
database (``gis.layers.region_stats``), served by ``/api/v1/layers/{id}/stats`` and shown by
the portal's statistics tool, checked against an independent sum: shapely intersections of
the features with the townships, measured with ``pyproj.Geod`` on GRS80; the survey layer's
official class areas against their plain SQL sum.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import text

from api.app import create_app
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    Server,
    browser,
    portal_db,
    server,
    shot,
    visit,
)
from tests.test_portal_strings import CJK

GEOD = pyproj.Geod(ellps="GRS80")


def _independent(engine, layer: str, field: str, level: str = "township",
                 weight: str | None = None) -> dict[tuple[str, str], float]:
    """(region code, class) -> m² of the parts inside each region, from the geometries alone
    (shapely + Geod); with ``weight``, that field shared out by the part's fraction."""
    with engine.connect() as conn:
        regions = conn.execute(text("SELECT code, ST_AsGeoJSON(geom) FROM admin_divisions "
                                    "WHERE level = :level"), {"level": level}).all()
        feats = conn.execute(text(
            f"SELECT {field}, {weight or 'NULL'}, ST_AsGeoJSON(geom) FROM {layer}")).all()
    shapes = [(value, w, shape(json.loads(geom))) for value, w, geom in feats]
    out: dict[tuple[str, str], float] = defaultdict(float)
    for code, region in regions:
        r = shape(json.loads(region))
        for value, w, geom in shapes:
            part = shapely.intersection(r, geom)
            if part.is_empty or part.area == 0:
                continue
            m2 = abs(GEOD.geometry_area_perimeter(part)[0])
            if weight:
                m2 = float(w) * m2 / abs(GEOD.geometry_area_perimeter(geom)[0])
            out[(code, value)] += m2
    return dict(out)


def test_stats_api_equal_an_independent_sum(server: Server, settings) -> None:  # noqa: F811
    expected = _independent(server.engine, "urban_boundary", "zone")
    with TestClient(create_app(settings)) as client:
        rows = client.get("/api/v1/layers/urban_boundary/stats",
                          params={"by": "township", "field": "zone"}).json()
        survey = client.get("/api/v1/layers/survey_patches/stats",
                            params={"by": "district", "field": "land_use_code"},
                            headers={"X-API-Key": server.keys["planner"]}).json()
        public_survey = client.get("/api/v1/layers/survey_patches/stats")
        bad_field = client.get("/api/v1/layers/urban_boundary/stats",
                               params={"field": "colour"}, headers={"Accept-Language": "en"})
    got = {(r["region_code"], r["value"]): r["area_m2"] for r in rows}
    assert got.keys() == expected.keys()
    for key, m2 in expected.items():
        assert got[key] == pytest.approx(m2, rel=1e-6), key
    assert all(r["official_area_m2"] is None for r in rows)  # no official area on this layer
    # the survey: the official class areas (TBDLMJ) are summed, shared out by the part of
    # each patch inside each district
    official = _independent(server.engine, "survey_patches", "land_use_code", "district",
                            weight="official_area_m2")
    assert isinstance(survey, list), survey
    got = {(r["region_code"], r["value"]): r["official_area_m2"] for r in survey}
    assert got.keys() == official.keys()
    for key, m2 in official.items():
        assert got[key] == pytest.approx(m2, rel=1e-6, abs=0.01), key
    assert public_survey.status_code == 401  # the survey is not public
    assert bad_field.status_code == 422
    assert "has no field colour" in bad_field.json()["detail"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_stats_tool(visit, server: Server, lang: str) -> None:  # noqa: F811
    v = visit(f"/?lang={lang}", "planner")
    page = v.page
    page.click('.om-wb-tool[data-tool="stats"]')
    page.select_option("#om-stats-layer", "urban_boundary")
    page.select_option("#om-stats-field", "zone")
    page.select_option("#om-stats-level", "township")
    page.click("#om-stats-run")
    page.wait_for_function("document.body.dataset.stats === 'done'")
    rows = page.eval_on_selector_all(
        "#om-stats-table tbody tr", "trs => trs.map(tr => [tr.dataset.region, "
        "tr.dataset.value, Number(tr.dataset.m2), tr.cells[1].innerText])")
    expected = _independent(server.engine, "urban_boundary", "zone")
    assert {(r[0], r[1]) for r in rows} == expected.keys()
    for region, value, m2, _ in rows:
        assert m2 == pytest.approx(expected[(region, value)], rel=1e-6)
    classes = {r[3] for r in rows}
    if lang == "zh":  # the class by its label, never its code
        assert classes <= {"集中建设区", "弹性发展区", "特别用途区"}, classes
    total = page.locator("#om-stats-table tfoot td").nth(2).inner_text()
    assert float(total.replace(",", "")) == pytest.approx(sum(expected.values()), abs=0.05)
    assert page.evaluate("!!Chart.getChart(document.getElementById('om-stats-chart'))")
    heads = page.locator("#om-stats-table thead").inner_text()
    assert bool(CJK.search(heads)) == (lang == "zh"), heads
    if lang == "zh":
        shot(page, "viewer-stats", docs=True)
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()
