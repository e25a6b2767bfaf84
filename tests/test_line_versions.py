"""Control-line versions: every version kept with its basis, the version in force chosen by
date in the siting check, the OGC items and tiles, the search and the diff (API, CLI, map
layer). Areas against shapely + pyproj.Geod; bases against the seed (003:237-239)."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from api.app import create_app
from gis.analysis.siting import check
from gis.errors import InputError, NotFound
from gis.layers.load import LoadOptions, load_file
from gis.layers.schema import control_line_versions, layer_tables
from gis.layers.versions import VersionSpec, bases, list_versions, versions_in_force
from gis.rules import load_profile
from gis.rules.citations import check_citation
from gis.rules.models import Citation
from gis.units import geodesic_area
from tests.test_cli_usage import run_gis

#: Version 1 (approved 2022-10-01): a general zone over the footprint and a core zone.
GENERAL_V1 = box(106.20, 39.00, 106.26, 39.02)
CORE = box(106.30, 39.00, 106.32, 39.02)
#: Version 2 (2025-06-01, after the protected area's boundary changed): the general zone
#: shrinks east of 106.23 and a new general zone appears.
GENERAL_V2 = box(106.23, 39.00, 106.26, 39.02)
ADDED = box(106.40, 39.00, 106.41, 39.01)
FOOTPRINT = box(106.205, 39.005, 106.215, 39.01)
V1_DAY, V2_DAY = dt.date(2022, 10, 1), dt.date(2025, 6, 1)


def _file(tmp_path, name: str, rows: list[tuple[str, str, object]]):
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame([{"HXBM": code, "GKFQ": zone, "HXMC": "贺兰山"} for code, zone, _ in rows],
                     geometry=[g for _, _, g in rows], crs="EPSG:4490").to_file(path)
    return path


V1_ROWS = [("HX-1", "一般控制区", GENERAL_V1), ("HX-2", "核心保护区", CORE)]
V2_ROWS = [("HX-1", "一般控制区", GENERAL_V2), ("HX-2", "核心保护区", CORE),
           ("HX-3", "一般控制区", ADDED)]
V1 = VersionSpec("approval", "国函〔2022〕示例1号", None, V1_DAY)
V2 = VersionSpec("protected_area_change", "宁政函〔2025〕示例3号", "宁夏回族自治区人民政府", V2_DAY)


@pytest.fixture
def two_versions(clean_db, tmp_path):
    load_file(clean_db, _file(tmp_path, "v1", V1_ROWS), "eco_redline", LoadOptions(version=V1))
    load_file(clean_db, _file(tmp_path, "v2", V2_ROWS), "eco_redline", LoadOptions(version=V2))
    return clean_db


def _rows(engine, version: int) -> int:
    table = layer_tables()["eco_redline"]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(table.c.version == version)).scalar()


def test_a_version_loaded_after_another_leaves_both(two_versions, tmp_path) -> None:
    found = list_versions(two_versions, "eco_redline")
    assert [(v.version, v.basis, v.document_no, v.approved_by, v.effective_date)
            for v in found] == [
        (1, "approval", "国函〔2022〕示例1号", "国务院", V1_DAY),  # the approver the seed names
        (2, "protected_area_change", "宁政函〔2025〕示例3号", "自治区", V2_DAY)]
    assert [v.in_force for v in found] == [False, True]
    assert (_rows(two_versions, 1), _rows(two_versions, 2)) == (2, 3)
    assert versions_in_force(two_versions, dt.date(2024, 1, 1))["eco_redline"].version == 1
    assert versions_in_force(two_versions, dt.date(2022, 9, 30))["eco_redline"] is None
    # the same file with the same basis again: no third version, nothing written
    again = load_file(two_versions, _file(tmp_path, "v2b", V2_ROWS), "eco_redline",
                      LoadOptions(version=V2))
    assert (again.version, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 3)
    assert len(list_versions(two_versions, "eco_redline")) == 2


def test_siting_checks_the_version_in_force_on_the_date(two_versions) -> None:
    def verdict(day):
        return check(two_versions, mapping(FOOTPRINT), "DEV", True, profile="dawukou",
                     as_of=day)

    before, after = verdict(dt.date(2024, 1, 1)), verdict(dt.date(2025, 7, 1))
    # 003:221: no development inside the red line; version 2 no longer covers the footprint
    assert before.verdict == "prohibited" and after.verdict == "no_conflict"
    red = next(o for o in before.overlaps if o.layer == "eco_redline")
    assert red.area_m2 == pytest.approx(geodesic_area(FOOTPRINT).m2, rel=1e-4)
    assert not any(o.layer == "eco_redline" for o in after.overlaps)
    named = {v.layer: v for v in before.control_line_versions}
    assert named["eco_redline"].version == 1 and named["eco_redline"].document_no.startswith("国函")
    assert {v.layer: v.version for v in after.control_line_versions}["eco_redline"] == 2
    assert before.as_of == dt.date(2024, 1, 1)
    # before any version was in force the red line is not checked, and the result says so
    early = verdict(dt.date(2020, 1, 1))
    assert "no_version_in_force" in {w.code for w in early.warnings}
    assert "eco_redline" not in {v.layer for v in early.control_line_versions}


@pytest.fixture
def client(settings, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def _codes(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["properties"]["redline_code"] for f in response.json()["features"]}


def test_ogc_items_serve_one_version(two_versions, client) -> None:
    url = "/ogc/collections/eco_redline/items"
    assert _codes(client.get(url)) == {"HX-1", "HX-2", "HX-3"}
    assert _codes(client.get(url, params={"datetime": "2024-01-01"})) == {"HX-1", "HX-2"}
    assert _codes(client.get(url, params={"datetime": "2023-01-01/2024-12-31"})) == {
        "HX-1", "HX-2"}  # an interval: the version in force on its last day
    assert _codes(client.get(url, params={"version": 1})) == {"HX-1", "HX-2"}
    assert client.get(url, params={"version": 7}).status_code == 404
    assert client.get("/ogc/collections/cultivated_land/items",
                      params={"version": 1}).status_code == 400
    paths = client.get("/ogc/api").json()["paths"]  # OpenAPI 3.0: clients see `version`

    def documented(layer: str) -> set[str]:
        return {p.get("$ref", "").rsplit("/", 1)[-1]
                for p in paths[f"/collections/{layer}/items"]["get"]["parameters"]}

    assert "version" in documented("eco_redline")
    assert "version" not in documented("cultivated_land")
    whole = client.get(url, params={"version": 2}).json()["features"]
    hx1 = next(f for f in whole if f["properties"]["redline_code"] == "HX-1")
    assert hx1["properties"]["area_m2"] == pytest.approx(geodesic_area(GENERAL_V2).m2, rel=1e-4)


def test_tiles_serve_one_version(two_versions, client) -> None:
    tile = morecantile.tms.get("WebMercatorQuad").tile(106.25, 39.01, 10)
    url = f"/ogc/collections/eco_redline/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"

    def codes(**params) -> list[str]:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        layer = mapbox_vector_tile.decode(response.content)["eco_redline"]
        return sorted(f["properties"]["redline_code"] for f in layer["features"])

    assert codes() == ["HX-1", "HX-2", "HX-3"]  # once each: never two versions
    assert codes(datetime="2024-01-01") == ["HX-1", "HX-2"]
    assert codes(version=1) == ["HX-1", "HX-2"]


def test_search_finds_the_version_in_force(two_versions, client) -> None:
    hits = client.get("/portal/api/search", params={"q": "HX-1"}).json()
    red = [h for h in hits if h["layer"] == "eco_redline"]
    assert len(red) == 1
    assert red[0]["area_m2"] == pytest.approx(geodesic_area(GENERAL_V2).m2, rel=1e-4)


def test_diff_over_the_api_and_as_a_map_layer(two_versions, client) -> None:
    body = client.get("/api/v1/control-lines/eco_redline/diff",
                      params={"from": 1, "to": 2}).json()
    zones = {z["zone"]: z for z in body["zones"]}
    removed = geodesic_area(GENERAL_V1.difference(GENERAL_V2)).m2
    assert zones["general"]["removed_m2"] == pytest.approx(removed, rel=1e-4)
    assert zones["general"]["added_m2"] == pytest.approx(geodesic_area(ADDED).m2, rel=1e-4)
    assert zones["general"]["net_m2"] == pytest.approx(geodesic_area(ADDED).m2 - removed,
                                                       rel=1e-4)
    assert zones["core"]["added_m2"] == zones["core"]["removed_m2"] == 0
    assert {(f["key"], f["change"]) for f in body["features"]} == {
        ("HX-1", "changed"), ("HX-3", "added")}
    assert body["before"]["version"] == 1 and body["after"]["basis"] == "protected_area_change"
    layer = client.get("/api/v1/control-lines/eco_redline/diff",
                       params={"from": 1, "to": 2, "f": "geojson"})
    assert layer.headers["content-type"].startswith("application/geo+json")
    changes = sorted(f["properties"]["change"] for f in layer.json()["features"])
    assert changes == ["added", "removed"]
    listed = client.get("/api/v1/control-lines/versions").json()
    assert [(v["layer"], v["version"], v["in_force"]) for v in listed] == [
        ("eco_redline", 1, False), ("eco_redline", 2, True)]
    assert client.get("/api/v1/control-lines/eco_redline/diff",
                      params={"from": 1, "to": 5}).status_code == 404
    assert client.get("/api/v1/control-lines/eco_redline/diff", params={"from": 1, "to": 2},
                      headers={"X-API-Key": ""}).status_code in (401, 403)


def test_cli_loads_lists_and_diffs(clean_db, tmp_path) -> None:
    v1 = _file(tmp_path, "v1", V1_ROWS)
    out = run_gis("lines", "load", str(v1), "--layer", "eco_redline", "--basis", "approval",
                  "--document", "国函〔2022〕示例1号", "--effective", "2022-10-01", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["version"] == 1
    out = run_gis("lines", "load", str(_file(tmp_path, "v2", V2_ROWS)), "--layer",
                  "eco_redline", "--basis", "mining_right", "--document", "宁政函〔2025〕示例4号",
                  "--effective", "2025-06-01")
    assert out.returncode == 0 and "version 2" in out.stdout, out.stderr
    listed = json.loads(run_gis("lines", "versions", "eco_redline", "--as-of", "2024-01-01",
                                "--json").stdout)
    assert [(v["version"], v["in_force"]) for v in listed] == [(1, True), (2, False)]
    layer = tmp_path / "diff.geojson"
    out = run_gis("lines", "diff", "eco_redline", "1", "2", "-o", str(layer), "--json")
    assert out.returncode == 0, out.stderr
    assert {z["zone"] for z in json.loads(out.stdout)["zones"]} == {"general", "core"}
    assert len(json.loads(layer.read_text(encoding="utf-8"))["features"]) == 2
    for args, codes in (((), {"HX-1", "HX-2", "HX-3"}), (("--version", "1"), {"HX-1", "HX-2"})):
        out = run_gis("export", "eco_redline", "-f", "geojson", "-o",
                      str(exported := tmp_path / "export.geojson"), *args)
        assert out.returncode == 0, out.stderr
        features = json.loads(exported.read_text(encoding="utf-8"))["features"]
        assert {f["properties"]["redline_code"] for f in features} == codes
    assert run_gis("export", "eco_redline", "--version", "9").returncode == 2
    # usage errors exit 2 with one line: a bad date, a wrong approving body
    bad = run_gis("lines", "load", str(v1), "--layer", "eco_redline", "--basis", "approval",
                  "--document", "x", "--effective", "2022-13-01")
    assert bad.returncode == 2
    wrong = run_gis("lines", "load", str(v1), "--layer", "eco_redline", "--basis", "approval",
                    "--document", "x", "--effective", "2022-10-01", "--approved-by", "市政府")
    assert wrong.returncode == 2 and "State Council" in wrong.stderr


@pytest.mark.parametrize(("spec", "layer", "expected"), [
    (VersionSpec("approval", "国函〔2022〕1号", "自治区", V1_DAY), "eco_redline", "State Council"),
    (VersionSpec("approval", None, None, V1_DAY), "eco_redline", "document_no"),
    (VersionSpec("approval", "x", None, V1_DAY), "basic_farmland", "approved_by"),
    (VersionSpec("mining_right", "x", None, V1_DAY), "urban_boundary", "does not apply"),
    (VersionSpec("whim", "x", None, V1_DAY), "eco_redline", "does not apply"),
])
def test_a_version_without_its_basis_is_refused_and_nothing_written(
        clean_db, tmp_path, spec, layer, expected) -> None:
    path = _file(tmp_path, "v", V1_ROWS)  # refused before the file is read
    with pytest.raises(InputError, match=expected):
        load_file(clean_db, path, layer, LoadOptions(version=spec))
    with clean_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(control_line_versions)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(layer_tables()[layer])).scalar() == 0


def test_unknown_version_is_not_found(two_versions) -> None:
    from gis.analysis.line_versions import diff_versions

    with pytest.raises(NotFound):
        diff_versions(two_versions, "eco_redline", 1, 3)


def test_bases_quote_the_seed() -> None:
    profile = load_profile("ningxia")
    cited = 0
    for basis in bases().values():
        for rule in basis.layers.values():
            if rule.citation is not None:
                citation = Citation(**rule.citation.model_dump(exclude={"quote"}))
                assert check_citation(profile, rule.citation.quote, citation) == []
                cited += 1
    assert cited == 3
