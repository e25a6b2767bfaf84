"""Red-line monitoring on the sample land cover: the planted changes (LC-01..LC-06) are found
with the right areas (vs pyproj.Geod on the planted pixel footprints), nothing outside a zone
is reported inside it, windowed == whole-array, misaligned rasters are resampled with a
warning, bad inputs are refused, and the work list keeps decisions (API and CLI too)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import pytest
import rasterio
import shapely
import yaml
from fastapi.testclient import TestClient
from rasterio.transform import Affine, from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from gis.analysis import monitoring as mon
from gis.analysis.monitoring_detect import (
    GridWarning,
    LandCoverPair,
    ZoneFeature,
    detect_changes,
)
from gis.cli import app
from gis.errors import Conflict, InputError, MissingCRS, NotFound
from gis.identity import Actor, os_user
from gis.layers.load import LoadOptions, load_file
from gis.rules import load_profile

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
GPKG = SAMPLES / "onemap_samples.gpkg"
LC_2020, LC_2023 = SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif"
PLANTED = {s["id"]: s for s in yaml.safe_load(
    (SAMPLES / "planted.yaml").read_text(encoding="utf-8"))["situations"]}
PARAMS = load_profile("dawukou").monitoring
GEOD = pyproj.Geod(ellps="GRS80")
PIXEL_M2 = 900.0
#: planted id -> (layer, feature key, zone, kind)
EXPECTED = {
    "LC-01": ("eco_redline", "640202-STHX-002", "general", "new_construction"),
    "LC-02": ("eco_redline", "640202-STHX-003", "general", "new_construction"),
    "LC-03": ("eco_redline", "640202-STHX-001", "core", "new_bare"),
    "LC-04": ("basic_farmland", "640202-JBNT-0309", None, "new_construction"),
}
MONITOR_TABLES = "monitor_events, monitor_patches, monitor_runs"


def geod_area(geom: shapely.Geometry) -> float:
    """Independent of gis.units: pyproj.Geod on each polygon, holes subtracted."""
    total = 0.0
    for poly in shapely.get_parts(geom):
        area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(poly))
        total += abs(area)
    return total


def planted_footprint(sid: str) -> shapely.Geometry:
    return shapely.from_wkt(PLANTED[sid]["expected"]["footprint_wkt"])


def sample_zones() -> list[ZoneFeature]:
    red = pyogrio.read_dataframe(GPKG, layer="eco_redline")
    farm = pyogrio.read_dataframe(GPKG, layer="basic_farmland")
    return ([ZoneFeature("eco_redline", r.redline_code, r.geometry, zone=r.zone)
             for r in red.itertuples()]
            + [ZoneFeature("basic_farmland", r.parcel_code, r.geometry)
               for r in farm.itertuples()])


@pytest.fixture(scope="module")
def zones_db(engine):
    """The sample layers monitoring reads, loaded once for the module."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {MONITOR_TABLES}, eco_redline, basic_farmland, "
                          "village_plans, admin_divisions RESTART IDENTITY CASCADE"))
    for layer in ("admin_divisions", "eco_redline", "basic_farmland", "village_plans"):
        load_file(engine, GPKG, layer, LoadOptions(source_layer=layer, strict=True))
    return engine


@pytest.fixture
def db(zones_db):
    with zones_db.begin() as conn:
        conn.execute(text(f"TRUNCATE {MONITOR_TABLES} RESTART IDENTITY CASCADE"))
    return zones_db


def _write(path: Path, data: np.ndarray, crs: str | None = "EPSG:4544",
           transform: Affine | None = None, classes: dict[int, str] | None = None,
           tags: dict[str, str] | None = None, nodata: int | None = 0) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "transform": transform or from_origin(
                   610000, 4330000, 30, 30)}
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(**(tags or {}))
        if classes:
            dst.update_tags(1, **{f"CLASS_{k}": v for k, v in classes.items()})
    return path


# ------------------------------------------------------------------ detection (no database)
def test_planted_patches_found_with_their_areas() -> None:
    with LandCoverPair.open(LC_2020, LC_2023, PARAMS) as pair:
        assert (pair.date_a, pair.date_b) == ("2020", "2023") and pair.resampled is None
        pieces = detect_changes(pair, sample_zones())
    found = {(p.layer, p.feature.key, p.feature.zone, p.kind): p for p in pieces}
    assert set(found) == set(EXPECTED.values())  # LC-05 (outside) and LC-06 (afforestation)
    for sid, key in EXPECTED.items():
        piece, expected = found[key], PLANTED[sid]["expected"]
        assert piece.patch_pixels == expected["pixel_count"], sid
        assert sum(piece.transitions.values()) == expected["pixel_count"]
        assert abs(piece.area_m2 - expected["area_m2"]) < PIXEL_M2, sid
        assert piece.area_m2 == pytest.approx(geod_area(piece.geometry), rel=1e-6)
        truth = planted_footprint(sid)  # the planted pixels, drawn independently
        assert piece.area_m2 == pytest.approx(geod_area(truth), rel=1e-4), sid
        assert piece.geometry.symmetric_difference(truth).area < 1e-3 * truth.area
    assert found[EXPECTED["LC-03"]].transitions == {"grassland->bare": 43}
    assert found[EXPECTED["LC-04"]].transitions == {"cultivated->construction": 24}


def test_windowed_equals_whole_array() -> None:
    window = 20
    for sid in EXPECTED:  # every planted patch is cut by a window edge
        w = PLANTED[sid]["expected"]["window"]
        rows = {r // window for r in (w["row_off"], w["row_off"] + w["height"] - 1)}
        cols = {c // window for c in (w["col_off"], w["col_off"] + w["width"] - 1)}
        assert len(rows) > 1 or len(cols) > 1, sid
    zones = sample_zones()
    with LandCoverPair.open(LC_2020, LC_2023, PARAMS) as pair:
        whole = detect_changes(pair, zones, window=None)
        windowed = detect_changes(pair, zones, window=window)
    assert len(whole) == len(windowed) == 4
    for a, b in zip(whole, windowed, strict=True):
        assert (a.layer, a.feature.key, a.kind, a.patch_pixels, a.transitions) == (
            b.layer, b.feature.key, b.kind, b.patch_pixels, b.transitions)
        assert a.area_m2 == pytest.approx(b.area_m2, abs=1e-6)
        assert a.geometry.symmetric_difference(b.geometry).area < 1e-14


def test_a_patch_across_the_line_counts_only_inside() -> None:
    """LC-05 lies outside every zone; a synthetic zone cutting through it gets exactly the
    part inside, and nothing outside the zone."""
    truth = planted_footprint("LC-05")
    minx, miny, maxx, maxy = truth.bounds
    cut = shapely.box(minx - 0.01, miny - 0.01, (minx + maxx) / 2 + 0.0001, maxy + 0.01)
    cut = shapely.affinity.rotate(cut, 17, origin=truth.centroid)  # not along pixel edges
    zones = [ZoneFeature("eco_redline", "TEST-1", cut, zone="general")]
    with LandCoverPair.open(LC_2020, LC_2023, PARAMS) as pair:
        assert detect_changes(pair, sample_zones()) and not [
            p for p in detect_changes(pair, sample_zones())
            if p.geometry.intersects(truth.buffer(-1e-6))]
        (piece,) = detect_changes(pair, zones, window=64)
    inside = truth.intersection(cut)
    assert 0.2 < inside.area / truth.area < 0.8
    assert piece.area_m2 == pytest.approx(geod_area(inside), rel=1e-4)
    assert piece.geometry.difference(cut).area < 1e-12  # nothing outside reported inside
    assert piece.patch_pixels < PLANTED["LC-05"]["expected"]["pixel_count"]


def test_min_patch_area_from_the_profile() -> None:
    big = PARAMS.model_copy(update={"min_patch_m2": 40_000.0})
    with LandCoverPair.open(LC_2020, LC_2023, big) as pair:
        pieces = detect_changes(pair, sample_zones())
    assert {p.feature.key for p in pieces} == {"640202-STHX-002", "640202-STHX-003"}


def test_misaligned_raster_is_resampled_with_a_warning(tmp_path: Path) -> None:
    """2023 reprojected to EPSG:4490 at 1": compared on the 2020 grid, with a warning."""
    target = tmp_path / "lc2023_4490.tif"
    with rasterio.open(LC_2023) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4490", src.width, src.height, *src.bounds, resolution=1 / 3600)
        out = np.zeros((height, width), dtype="uint8")
        reproject(rasterio.band(src, 1), out, dst_transform=transform, dst_crs="EPSG:4490",
                  resampling=Resampling.nearest)
        _write(target, out, "EPSG:4490", transform, classes=src.tags(1),
               tags={"YEAR": "2023"})
    with pytest.warns(GridWarning, match="resampled"):
        pair = LandCoverPair.open(LC_2020, target, PARAMS)
    with pair:
        assert pair.resampled == target.name and pair.grid.crs.to_epsg() == 4544
        assert any(w["code"] == "resampled" for w in pair.warnings)
        pieces = detect_changes(pair, sample_zones())
    for sid, key in EXPECTED.items():
        (match,) = [p for p in pieces if (p.layer, p.feature.key, p.feature.zone, p.kind) == key
                    and p.geometry.intersects(planted_footprint(sid))]
        assert abs(match.area_m2 - PLANTED[sid]["expected"]["area_m2"]) < PIXEL_M2, sid
    # Nearest-neighbour resampling shifts class edges by a pixel here and there: the price of
    # misaligned inputs, and why the comparison warns. Such artefacts stay tiny.
    others = [p for p in pieces if not any(p.geometry.intersects(planted_footprint(sid))
                                           for sid in EXPECTED)]
    assert all(p.patch_pixels <= 2 for p in others)


# --------------------------------------------------------------------------------- bad input
def test_bad_inputs_are_refused_clearly(tmp_path: Path) -> None:
    grass = np.full((40, 40), 3, dtype="uint8")
    built = grass.copy()
    built[10:20, 10:20] = 5
    classes = {1: "cultivated 耕地", 3: "grassland 草地", 5: "construction 建设用地"}
    a = _write(tmp_path / "a.tif", grass, classes=classes, tags={"YEAR": "2020"})
    b = _write(tmp_path / "b.tif", built, classes=classes, tags={"YEAR": "2023"})
    with LandCoverPair.open(a, b, PARAMS):
        pass  # the good pair opens
    swapped = _write(tmp_path / "swapped.tif", built, tags={"YEAR": "2023"},
                     classes={**classes, 5: "bare 裸地"})
    with pytest.raises(InputError, match="class tables differ: value 5"):
        LandCoverPair.open(a, swapped, PARAMS)
    other = _write(tmp_path / "other.tif", built, tags={"YEAR": "2023"},
                   classes={3: "grassland", 7: "wetland 湿地"})
    with pytest.raises(InputError, match="does not match the rule profile: value 7"):
        LandCoverPair.open(a, other, PARAMS)
    far = _write(tmp_path / "far.tif", built, transform=from_origin(710000, 4330000, 30, 30),
                 classes=classes, tags={"YEAR": "2023"})
    with pytest.raises(InputError, match="do not overlap"):
        LandCoverPair.open(a, far, PARAMS)
    with pytest.raises(MissingCRS, match="no CRS"):
        LandCoverPair.open(a, _write(tmp_path / "nocrs.tif", built, crs=None), PARAMS,
                           date_b="2023")
    with pytest.raises(InputError, match="integer raster"):
        LandCoverPair.open(a, _write(tmp_path / "f.tif", built.astype("float32")), PARAMS,
                           date_b="2023")
    with pytest.raises(InputError, match="earlier"):
        LandCoverPair.open(b, a, PARAMS)
    with pytest.raises(InputError, match="date of raster B"):
        LandCoverPair.open(a, _write(tmp_path / "nodate.tif", built), PARAMS)
    with pytest.raises(InputError, match="no such file"):
        LandCoverPair.open(a, tmp_path / "missing.tif", PARAMS)
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(InputError, match="not a readable raster"):
        LandCoverPair.open(a, tmp_path / "junk.tif", PARAMS)
    odd = built.copy()
    odd[0, 0] = 9
    zone = [ZoneFeature("eco_redline", "Z", shapely.box(100, 30, 110, 45), zone="general")]
    with LandCoverPair.open(a, _write(tmp_path / "odd.tif", odd), PARAMS,
                            date_b="2023") as pair, \
            pytest.raises(InputError, match=r"values \[9\] that are neither a class"):
        detect_changes(pair, zone)
    with LandCoverPair.open(a, b, PARAMS) as pair:
        (piece,) = detect_changes(pair, zone)
        assert piece.patch_pixels == 100 and piece.transitions == {
            "grassland->construction": 100}
        with pytest.raises(InputError, match="at least 16"):
            detect_changes(pair, zone, window=4)


# ------------------------------------------------------------------------- the work list
def test_run_stores_the_work_list(db) -> None:
    summary = mon.run(db, LC_2020, LC_2023, "dawukou", actor=Actor("遥感组"))
    assert summary.found == {"eco_redline/general": 2, "eco_redline/core": 1,
                             "basic_farmland": 1}
    assert (summary.new, summary.kept, summary.closed) == (4, 0, 0)
    total, patches = mon.list_patches(db, with_geometry=True)
    assert total == 4
    by_key = {(p.layer, p.feature_key, p.zone, p.kind): p for p in patches}
    for sid, key in EXPECTED.items():
        p = by_key[key]
        assert abs(p.area_m2 - PLANTED[sid]["expected"]["area_m2"]) < PIXEL_M2, sid
        assert p.area_m2 == pytest.approx(geod_area(shapely.geometry.shape(p.geometry)),
                                          rel=1e-5)  # GeoJSON keeps 8 decimals (1 mm)
        assert p.area_mu == pytest.approx(p.area_m2 / (10000 / 15), abs=0.01)
        assert p.township == PLANTED[sid]["township"], sid
        assert (p.date_a, p.date_b, p.status, p.version) == ("2020", "2023", "open", 1)
        assert p.division == "640202" and p.village is not None
    assert by_key[EXPECTED["LC-04"]].village == "祥和村"
    assert by_key[EXPECTED["LC-04"]].village_distance_m == 0
    assert by_key[EXPECTED["LC-03"]].feature_name == "贺兰山国家级自然保护区核心保护区"
    with db.connect() as conn:  # nothing outside its red-line feature or farmland parcel
        outside = conn.execute(text(
            "SELECT max(ST_Area(geography(ST_Difference(p.geom, z.geom)), true)) FROM "
            "monitor_patches AS p JOIN (SELECT redline_code AS key, geom FROM eco_redline "
            "UNION ALL SELECT parcel_code, geom FROM basic_farmland) AS z "
            "ON z.key = p.feature_key")).scalar_one()
        control = conn.execute(text(
            "SELECT count(*) FROM monitor_patches WHERE ST_Intersects(geom, "
            "ST_GeomFromText(:wkt, 4490))"),
            {"wkt": PLANTED["LC-05"]["expected"]["footprint_wkt"]}).scalar_one()
        postgis = conn.execute(text(
            "SELECT max(abs(ST_Area(geography(geom), true) / area_m2 - 1)) "
            "FROM monitor_patches")).scalar_one()
    assert outside < 0.01 and control == 0 and postgis < 1e-7
    assert mon.list_patches(db, layer="eco_redline", zone="core")[0] == 1
    assert mon.list_patches(db, layer="basic_farmland", township="星海镇")[0] == 1
    with pytest.raises(InputError, match="unknown layer"):
        mon.list_patches(db, layer="roads")


def test_decisions_concurrency_and_reruns(db) -> None:
    first = mon.run(db, LC_2020, LC_2023, "dawukou")
    _, patches = mon.list_patches(db, layer="eco_redline", zone="core")
    core = patches[0]
    checked = mon.set_status(db, core.id, "field_check", Actor("巡护员"), core.version)
    decided = mon.decide(db, core.id, "violation", Actor("执法科"), "现场核实为非法采挖",
                         checked.version)
    assert (decided.status, decided.decision, decided.version) == ("decided", "violation", 3)
    with pytest.raises(Conflict, match="changed by 执法科 at"):
        mon.decide(db, core.id, "false_alarm", Actor("赵工"), "误判", checked.version)
    with pytest.raises(InputError, match="reason"):
        mon.decide(db, core.id, "violation", Actor("赵工"), " ", decided.version)
    with pytest.raises(InputError, match="unknown decision"):
        mon.decide(db, core.id, "demolish", Actor("赵工"), "拆除", decided.version)
    with pytest.raises(NotFound):
        mon.decide(db, 999_999, "violation", Actor("赵工"), "x", 1)
    again = mon.run(db, LC_2020, LC_2023, "dawukou")  # same period: decisions kept
    assert (again.new, again.kept, again.closed) == (0, 4, 0)
    item, history, rules = mon.get_patch(db, core.id)
    assert (item.decision, item.version, item.last_run) == ("violation", 3, again.run_id)
    assert [e.action for e in history] == ["detected", "status", "decided"]
    assert history[-1].reason == "现场核实为非法采挖" and history[-1].actor == "执法科"
    assert [r.rule_id for r in rules] == ["redline.monitoring", "redline.core_zone",
                                          "redline.enforcement"]
    assert rules[0].citation.label() == "003:251"
    assert mon.list_patches(db, run=first.run_id)[0] == 4
    # The same period compared again without the changes: the patches are closed, with a
    # trace; closed patches can no longer be decided.
    gone = mon.run(db, LC_2020, LC_2020, "dawukou", date_a="2020", date_b="2023")
    assert (gone.new, gone.kept, gone.closed) == (0, 0, 4)
    item, history, _ = mon.get_patch(db, core.id)
    assert item.status == "closed" and history[-1].action == "closed"
    with pytest.raises(Conflict, match="closed"):
        mon.decide(db, core.id, "violation", Actor("执法科"), "x", item.version)
    # Another period adds to the list rather than closing the first one's patches.
    later = mon.run(db, LC_2020, LC_2023, "dawukou", date_a="2021", date_b="2024")
    assert later.new == 4 and mon.list_patches(db, status="open")[0] == 4


# ---------------------------------------------------------------------------- API and CLI
def test_api(db, settings, role_keys) -> None:
    configured = settings.with_changes(data={"raster_dir": SAMPLES})
    with TestClient(create_app(configured)) as anonymous:
        refused = anonymous.post("/api/v1/monitoring/runs", json={
            "raster_a": LC_2020.name, "raster_b": LC_2023.name})
        assert refused.status_code == 401  # writes need a planner or forestry key
    with TestClient(create_app(configured), headers=role_keys["forestry"]) as client:
        run = client.post("/api/v1/monitoring/runs", json={
            "raster_a": LC_2020.name, "raster_b": LC_2023.name, "profile": "dawukou",
            "actor": "遥感组"})
        assert run.status_code == 201, run.text
        assert run.json()["found"]["eco_redline/general"] == 2
        runs = client.get("/api/v1/monitoring/runs").json()
        # who ran it is the key's holder; the typed name (old field `actor`) is "on behalf of"
        assert runs["total"] == 1 and runs["items"][0]["actor"] == "test-forestry"
        assert runs["items"][0]["on_behalf_of"] == "遥感组"
        assert client.get(f"/api/v1/monitoring/runs/{run.json()['run_id']}").status_code == 200
        geo = client.get("/api/v1/monitoring/patches", params={"format": "geojson"})
        assert geo.status_code == 200
        assert geo.headers["content-type"].startswith("application/geo+json")
        body = geo.json()
        assert body["type"] == "FeatureCollection" and len(body["features"]) == 4
        feature = body["features"][0]
        assert feature["geometry"]["type"] == "MultiPolygon"
        assert {"layer", "zone", "area_mu", "status", "village", "date_a"} <= set(
            feature["properties"])
        page = client.get("/api/v1/monitoring/patches",
                          params={"layer": "eco_redline", "zone": "general"}).json()
        assert page["total"] == 2 and page["items"][0]["geometry"] is None
        patch = page["items"][0]
        url = f"/api/v1/monitoring/patches/{patch['id']}"
        detail = client.get(url).json()
        assert detail["rules"][1]["rule_id"] == "redline.general_zone"
        assert [e["action"] for e in detail["history"]] == ["detected"]
        ok = client.post(f"{url}/decision", json={"decision": "permitted", "actor": "李科长",
                                                  "reason": "已批准的巡护设施",
                                                  "version": patch["version"]})
        assert ok.status_code == 200 and ok.json()["status"] == "decided"
        stale = client.post(f"{url}/decision", json={"decision": "violation", "actor": "赵工",
                                                     "reason": "x", "version": patch["version"]})
        assert stale.status_code == 409
        assert stale.headers["content-type"].startswith("application/problem+json")
        back = client.post(f"{url}/status", json={"status": "field_check", "actor": "李科长",
                                                  "version": ok.json()["version"]})
        assert back.status_code == 200 and back.json()["status"] == "field_check"
        assert client.get("/api/v1/monitoring/patches/999999").status_code == 404
        assert client.get("/api/v1/monitoring/patches",
                          params={"status": "nope"}).status_code == 422
        escape = client.post("/api/v1/monitoring/runs", json={
            "raster_a": "../samples/landcover_2020.tif", "raster_b": "/etc/passwd"})
        assert escape.status_code == 422
        bad = client.post("/api/v1/monitoring/runs", json={
            "raster_a": LC_2023.name, "raster_b": LC_2020.name},
            headers={"Accept-Language": "en"})
        assert bad.status_code == 422 and "earlier" in bad.json()["detail"]
    with TestClient(create_app(settings), headers=role_keys["planner"]) as client:
        # no raster directory configured
        refused = client.post("/api/v1/monitoring/runs", json={
            "raster_a": LC_2020.name, "raster_b": LC_2023.name})
        assert refused.status_code == 500 and "GIS_RASTER_DIR" in refused.json()["detail"]


def test_cli(db, tmp_path: Path) -> None:
    runner = CliRunner()
    copy = tmp_path / "lc2023.tif"
    shutil.copy(LC_2023, copy)
    ran = runner.invoke(app, ["monitor", "run", str(LC_2020), str(copy), "--profile",
                              "dawukou", "--window", "512", "--json"])
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout)
    assert summary["new"] == 4 and summary["grid"]["window"] == 512
    table = runner.invoke(app, ["monitor", "run", str(LC_2020), str(copy), "--profile",
                                "dawukou"])
    assert table.exit_code == 0 and "eco_redline/core" in table.stdout
    listed = json.loads(runner.invoke(app, ["monitor", "list", "--layer", "basic_farmland",
                                            "--json"]).stdout)
    item = listed["items"][0]
    assert listed["total"] == 1 and item["village"] == "祥和村"
    decided = runner.invoke(app, ["monitor", "decide", str(item["id"]), "violation",
                                  "--reason", "占用永久基本农田建房", "--version",
                                  str(item["version"]), "--on-behalf-of", "李科长"])
    assert decided.exit_code == 0, decided.output
    shown = runner.invoke(app, ["monitor", "show", str(item["id"])])
    assert shown.exit_code == 0 and "farmland.permanent_basic" in shown.stdout
    assert f"cli:{os_user()} (代 李科长)" in shown.stdout
    listing = runner.invoke(app, ["monitor", "list"], env={"GIS_LANG": "en"})
    assert listing.exit_code == 0 and "Monitoring work list" in listing.stdout
    status = runner.invoke(app, ["monitor", "status", str(item["id"]), "open", "--version",
                                 str(item["version"] + 1)])
    assert status.exit_code == 0 and "待处理" in status.stdout
