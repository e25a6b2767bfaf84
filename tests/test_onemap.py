"""The analyst's entry point on the test database: ``gis.connect()`` and what it returns,
checked against the analyses called directly, against shapely and pyproj.Geod, and for what
it must not do (write a ledger on a dry run, load the data stack on ``import gis``)."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pyproj
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy import Engine

import gis
from gis.analysis import control_lines, reserve
from gis.analysis.siting import check
from gis.db.engine import database_url
from gis.errors import InputError, InvalidParameter, NotFound, UnknownLayer
from gis.identity import os_user
from gis.layers.catalogue import get_layer
from gis.layers.export import read_layer
from gis.messages import label
from gis.samples import load_sample_ledger
from gis.settings import Settings, get_settings
from tests.server_fixtures import SAMPLES

GEOD = pyproj.Geod(ellps="GRS80")
#: Modules ``import gis`` must not load (the CLI's --help budget, issue 12).
HEAVY = ("pandas", "geopandas", "shapely", "sqlalchemy", "numpy", "pyproj", "folium",
         "httpx", "gis.onemap", "gis.results", "gis.analysis", "gis.layers", "gis.db")
C_FOOTPRINT = {"type": "Polygon", "coordinates": [[
    [106.37620, 39.03420], [106.37770, 39.03420], [106.37770, 39.03550],
    [106.37620, 39.03550], [106.37620, 39.03420]]]}


@pytest.fixture(scope="module")
def om(settings: Settings, sample_db: Engine) -> gis.OneMap:
    assert load_sample_ledger(sample_db, settings.with_changes(data={"samples_dir": SAMPLES}))
    with gis.connect(lang="zh") as onemap:
        yield onemap


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()


def _findings(result: gis.Result) -> list[tuple]:
    frame = result.to_frame()
    return sorted(zip(frame["kind"], frame["parcel_keys"], frame["area_m2"].round(2),
                      strict=True))


def _patches(result: gis.Result) -> list[tuple]:
    frame = result.to_frame()
    return sorted(zip(frame["layer"], frame["feature_key"], frame["area_m2"].round(1),
                      strict=True))


def test_import_gis_loads_nothing_heavy_and_lists_its_public_names() -> None:
    probe = ("import json, sys, gis\nprint(json.dumps(sorted(sys.modules)))")
    modules = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True,
                                        text=True, check=True).stdout)
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
    assert set(gis.__all__) <= set(dir(gis))
    for name in gis.__all__:
        assert getattr(gis, name).__doc__, name
    assert not hasattr(gis, "engine")  # nothing outside __all__


def test_layers_are_the_catalogue_with_counts(om: gis.OneMap, sample_db: Engine) -> None:
    layers = om.layers.set_index("id")
    assert layers.loc["eco_redline", "title_zh"] == get_layer("eco_redline").zh
    assert layers.loc["village_plans", "title_en"] == "Village plans"
    assert int(layers.loc["projects", "features"]) == len(read_layer(sample_db,
                                                                      get_layer("projects")))


def test_read_filters_like_an_independent_computation(om: gis.OneMap,
                                                      sample_db: Engine) -> None:
    whole = read_layer(sample_db, get_layer("cultivated_land"))
    frame = om.read("cultivated_land")
    assert list(frame["id"]) == list(whole["id"])
    assert frame.crs.to_epsg() == 4490
    assert list(frame.columns[:-1]) == ["id", *get_layer("cultivated_land").field_names,
                                        "area_m2", "area_mu", "area_ha"]
    first = frame.iloc[0]
    geod_m2 = abs(GEOD.geometry_area_perimeter(first.geometry)[0])
    assert first["area_m2"] == pytest.approx(geod_m2, rel=1e-4)
    assert first["area_mu"] == pytest.approx(first["area_m2"] * 15 / 10000)
    assert first["area_ha"] == pytest.approx(first["area_m2"] / 10000)
    # bbox: what shapely says intersects the box
    box = (106.30, 38.95, 106.40, 39.05)
    expected = whole[whole.intersects(shapely.box(*box))]
    assert sorted(om.read("cultivated_land", bbox=box)["id"]) == sorted(expected["id"])
    # where: CQL2 text over the catalogue fields
    irrigated = om.read("cultivated_land", where="subclass = 'irrigated' AND area_m2 > 5000")
    expected = whole[(whole["subclass"] == "irrigated") & (whole["area_m2"] > 5000)]
    assert sorted(irrigated["id"]) == sorted(expected["id"]) and len(expected) > 0
    # division: intersecting the union of the divisions under the code
    admin = read_layer(sample_db, get_layer("admin_divisions"))
    outline = shapely.union_all(admin[admin["code"].str.startswith("640104")].geometry)
    assert sorted(om.read("cultivated_land", division="640104")["id"]) == sorted(
        whole[whole.intersects(outline)]["id"])
    # crs: the same features, projected
    projected = om.read("cultivated_land", limit=5, crs="EPSG:4544")
    assert projected.crs.to_epsg() == 4544 and len(projected) == 5
    assert projected.geometry.iloc[0].equals_exact(
        gpd.GeoSeries([first.geometry], crs=4490).to_crs(4544).iloc[0], 1e-6)


def test_areas_of_cut_pieces_in_any_crs_are_ellipsoidal(om: gis.OneMap) -> None:
    land = om.read("cultivated_land", division="640104")
    box = land.geometry.iloc[0].centroid.buffer(0.005)  # cuts the parcel and its neighbours
    pieces = gpd.overlay(land[["patch_no", "geometry"]],
                         gpd.GeoDataFrame(geometry=[box], crs=4490)).to_crs("EPSG:4544")
    measured = gis.areas(pieces)
    assert measured.crs.to_epsg() == 4544 and len(measured) > 0
    for (_, row), piece in zip(measured.iterrows(), pieces.to_crs(4490).geometry, strict=True):
        geod_m2 = abs(GEOD.geometry_area_perimeter(piece)[0])
        assert row["area_m2"] == pytest.approx(geod_m2, rel=1e-6)
        assert row["area_mu"] == pytest.approx(geod_m2 * 15 / 10000, rel=1e-6)
        assert row["area_ha"] == pytest.approx(geod_m2 / 10000, rel=1e-6)
    with pytest.raises(InputError):
        gis.areas(pieces.set_crs(None, allow_override=True))


def test_connect_takes_a_database_url_and_refuses_what_it_cannot_reach(
        settings: Settings, om: gis.OneMap) -> None:
    with gis.connect(database_url(settings), lang="en") as by_url:
        assert by_url.mode == "database"
        assert len(by_url.read("projects")) == len(om.read("projects"))
        assert by_url.indicators("640104").title == "Indicators and targets"
    with pytest.raises(InputError, match="cannot connect"):
        gis.connect("ftp://example.org")
    with pytest.raises(InputError):
        gis.connect(key="a-key-without-a-server")


def test_read_refuses_bad_input(om: gis.OneMap) -> None:
    with pytest.raises(UnknownLayer):
        om.read("no_such_layer")
    with pytest.raises(InputError, match="digits"):
        om.read("cultivated_land", division="Dawukou")
    with pytest.raises(NotFound):
        om.read("cultivated_land", division="99")
    with pytest.raises(InvalidParameter):
        om.read("cultivated_land", where="nonexistent = 1")
    with pytest.raises(InputError, match="bbox"):
        om.read("cultivated_land", bbox=(1, 2, 3))


def test_check_siting_takes_every_form_and_agrees_with_the_library(
        om: gis.OneMap, sample_db: Engine, tmp_path) -> None:
    expected = check(sample_db, C_FOOTPRINT, "DEV", True, profile="dawukou")
    wkt = shapely.geometry.shape(C_FOOTPRINT).wkt
    frame = gpd.GeoDataFrame({"name": ["C"]}, geometry=[shapely.geometry.shape(C_FOOTPRINT)],
                             crs="EPSG:4490").to_crs("EPSG:4544")
    frame.to_file(tmp_path / "c.gpkg")
    forms = [C_FOOTPRINT, wkt, shapely.geometry.shape(C_FOOTPRINT), frame, frame.geometry,
             str(tmp_path / "c.gpkg"), tmp_path / "c.gpkg"]
    for form in forms:
        result = om.check_siting(form, "DEV", new_construction_land=True, profile="dawukou")
        assert result.verdict == expected.verdict == "no_conflict", type(form)
        assert result.to_frame()["area_m2"].iloc[0] == pytest.approx(
            expected.footprint_area.area_m2, rel=1e-6)
    projected = frame.geometry.iloc[0].wkt
    assert om.check_siting(projected, "DEV", new_construction_land=True, profile="dawukou",
                           crs="EPSG:4544").verdict == "no_conflict"


def test_a_batch_keeps_going_past_a_bad_footprint(om: gis.OneMap) -> None:
    projects = om.read("projects")
    bad = projects.iloc[:2].copy()
    bad["activity_code"] = ["LA1", "NOPE"]
    checks = om.check_siting(bad, new_construction_land=True, activity_field="activity_code",
                             id_field="name")
    table = checks.to_frame()
    first = label("verdict", table["verdict"].iloc[0], "zh")
    assert "错误 1" in checks._repr_html_() and f"{first} 1" in checks._repr_html_()
    assert table["verdict"].iloc[1] == "error" and "NOPE" in table["error"].iloc[1]
    assert table["verdict"].iloc[0] != "error"
    with pytest.raises(InputError):  # a single footprint's error is raised
        om.check_siting(C_FOOTPRINT, "NOPE", new_construction_land=True)
    with pytest.raises(InputError):
        om.check_siting(42, "DEV", new_construction_land=True)
    with pytest.raises(InputError):
        om.check_siting(bad.set_crs(None, allow_override=True), "DEV",
                        new_construction_land=True)


def test_a_check_shows_verdict_path_and_cited_rules(om: gis.OneMap) -> None:
    b = om.read("projects", where="name = '贺兰山保护区大武口管护站巡护用房'")
    result = om.check_siting(b, "LA1", new_construction_land=True, profile="dawukou")
    full = result.results[0]
    assert result.verdict == full.verdict == "justification_required"
    page = result._repr_html_()
    assert label("verdict", full.verdict, "zh") in page
    assert full.approval_path.organizer_zh in page and full.approval_path.decider_zh in page
    for finding in full.rules:
        assert finding.citation.label() in page and finding.text_zh in page
    pieces = result.overlaps()
    assert pieces["area_m2"].sum() == pytest.approx(sum(o.area_m2 for o in full.overlaps))
    assert set(pieces["layer"]) == {o.layer for o in full.overlaps}


def test_recording_a_check_stores_it_as_the_local_user(om: gis.OneMap,
                                                       sample_db: Engine) -> None:
    before = _count(sample_db, "siting_runs")
    om.check_siting(C_FOOTPRINT, "DEV", new_construction_land=True)
    assert _count(sample_db, "siting_runs") == before
    om.check_siting(C_FOOTPRINT, "DEV", new_construction_land=True, record=True)
    with sample_db.connect() as conn:
        who = conn.execute(sa.text("SELECT requested_by FROM siting_runs ORDER BY created_at "
                                   "DESC LIMIT 1")).scalar_one()
    assert who == f"python:{os_user()}"


def test_planning_results_are_the_library_s(om: gis.OneMap, sample_db: Engine) -> None:
    quota = om.quota("64")
    expected = reserve.village_report(sample_db, "64")
    frame = quota.to_frame()
    assert list(frame["village_code"]) == [v.village_code for v in expected]
    assert list(frame["compliant"]) == [v.compliant for v in expected]
    assert (frame["quota_mu"] - frame["quota_m2"] * 15 / 10000).abs().max() < 1e-3
    assert (frame["quota_ha"] == frame["quota_m2"] / 10000).all()
    plans = read_layer(sample_db, get_layer("village_plans")).set_index("village_code")
    shapes = quota.to_geodataframe().set_index("village_code").geometry
    assert all(shapes[c].equals(plans.geometry[c]) for c in shapes.index)
    assert quota.townships().to_frame()["township_code"].tolist() == [
        t.township_code for t in reserve.township_report(sample_db, "64")]
    code = frame["village_code"].iloc[0]
    assert len(quota.ledger(code)) == len(reserve.ledger(sample_db, code))
    conflicts = om.control_line_conflicts("64").to_geodataframe()
    lines = control_lines.line_conflicts(sample_db, "64")
    assert list(conflicts["id"]) == [c.id for c in lines] and len(lines) > 0
    for (_, row), line in zip(conflicts.iterrows(), lines, strict=True):
        geod_m2 = abs(GEOD.geometry_area_perimeter(row.geometry)[0])
        assert row["area_m2"] == pytest.approx(geod_m2, rel=1e-4) == line.area_m2
    indicators = om.indicators("640202")
    assert [r["id"] for r in indicators] == [
        i.id for i in control_lines.indicators(sample_db, "640202")]
    with pytest.raises(InputError):
        indicators.to_geodataframe()  # no geometry: said, not an empty frame


def test_reconcile_dry_run_writes_nothing_and_finds_what_recording_finds(
        om: gis.OneMap, sample_db: Engine) -> None:
    before = (_count(sample_db, "recon_findings"), _count(sample_db, "recon_runs"))
    dry = om.reconcile("640202")
    assert (_count(sample_db, "recon_findings"), _count(sample_db, "recon_runs")) == before
    assert dry.recorded is None and len(dry) > 0
    recorded = om.reconcile("640202", record=True)
    assert recorded.recorded.run_id is not None
    assert _findings(dry) == _findings(recorded)
    with sample_db.connect() as conn:
        actors = set(conn.execute(sa.text("SELECT DISTINCT actor FROM recon_events")).scalars())
    assert actors == {f"python:{os_user()}"}
    with pytest.raises(NotFound):
        om.reconcile("640299")


def test_monitor_dry_run_writes_nothing_and_finds_what_recording_finds(
        om: gis.OneMap, sample_db: Engine) -> None:
    a, b = SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif"
    before = _count(sample_db, "monitor_runs")
    dry = om.monitor(a, b)
    assert _count(sample_db, "monitor_runs") == before and len(dry) > 0
    recorded = om.monitor(a, b, record=True)
    assert _count(sample_db, "monitor_runs") == before + 1
    assert _patches(dry) == _patches(recorded)
    assert sum(recorded.recorded.found.values()) == len(recorded)


def test_explore_draws_the_catalogue_styles_offline(om: gis.OneMap) -> None:
    page = om.explore("eco_redline", "urban_boundary").get_root().render()
    for layer_id in ("eco_redline", "urban_boundary"):
        style = get_layer(layer_id).style
        for entry in style.legend(get_layer(layer_id).zh, get_layer(layer_id).en):
            # the legend goes into the page as a JSON string (non-ASCII escaped)
            assert entry.color in page and json.dumps(entry.zh)[1:-1] in page
    assert "data:text/javascript;base64," in page
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "bootstrap", "jquery"):
        assert cdn not in page
    result_page = om.control_line_conflicts("64").explore().get_root().render()
    assert json.dumps("三条控制线冲突")[1:-1] in result_page  # the result's legend entry
    with pytest.raises(InputError):
        om.explore(om.read("projects", where="name = 'none'"))


def test_an_offline_base_map_asks_nothing_of_the_network(om: gis.OneMap,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert "tile.openstreetmap.org" in om.explore("urban_boundary").get_root().render()
    monkeypatch.setenv("GIS_BASEMAP", "offline")
    get_settings.cache_clear()
    try:
        with gis.connect() as offline:
            page = offline.explore("urban_boundary").get_root().render()
    finally:
        get_settings.cache_clear()  # rebuilt from the restored environment when next asked
    assert "tile.openstreetmap.org" not in page and "<script src=\"http" not in page
