"""Three-control-line conflicts on the tiling of issue 24, on the suite's two-worker dask
LocalCluster: the same conflicts as the untiled PostGIS join (ids, kinds, keys and order
exactly, areas within 1e-6, the same geometry) on the samples (the region and a county) and on
generated lines whose overlaps straddle a forced fine grid (each once, areas against an
independent shapely + pyproj.Geod computation); ``gis control-lines check --tiled`` through
the real executable; an unreachable scheduler is a clear error, not a hang."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import shapely
from shapely.geometry import box, shape
from sqlalchemy import Engine, text

from gis.analysis.control_lines import LineConflict, line_conflicts
from gis.analysis.tile_scan import grid
from gis.analysis.tiled_detection import TileOptions
from gis.errors import ConfigurationError
from gis.layers.load import LoadOptions, load_file
from gis.layers.schema import layer_tables, metadata
from gis.layers.versions import VersionSpec
from gis.samples import load_samples
from gis.settings import get_settings
from tests.planning_fixtures import _load
from tests.test_cli_usage import assert_usage_error, run_gis
from tests.test_tiled_detection import dask_client  # noqa: F401  (the two-worker cluster)

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
GEOD = pyproj.Geod(ellps="GRS80")
SUPERSEDED = VersionSpec("approval", "国函〔2022〕示例1号", None, dt.date(2022, 10, 1))
IN_FORCE = VersionSpec("protected_area_change", "宁政函〔2025〕示例3号",
                       "宁夏回族自治区人民政府", dt.date(2025, 6, 1))


def _assert_same(tiled: list[LineConflict], untiled: list[LineConflict]) -> None:
    """Same conflicts in the same order; areas within 1e-6; the same ground."""
    def names(rows: list[LineConflict]) -> list[tuple[str, ...]]:
        return [(c.id, c.kind, c.layer_a, c.key_a, c.layer_b, c.key_b) for c in rows]

    assert names(tiled) == names(untiled)
    for t, u in zip(tiled, untiled, strict=True):
        assert t.area_m2 == pytest.approx(u.area_m2, rel=1e-6), t.id
        assert t.area_mu == pytest.approx(u.area_mu, rel=1e-6), t.id
        a, b = shape(t.geometry), shape(u.geometry)
        assert a.symmetric_difference(b).area <= 1e-9 * b.area, t.id


def _load_samples(engine: Engine, settings) -> None:
    layer_tables()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables
                                                  if t.name != "api_keys")
                          + " RESTART IDENTITY CASCADE"))
    load_samples(engine, settings.with_changes(data={"samples_dir": SAMPLES}))


def test_tiled_equals_untiled_on_the_samples(settings, engine, dask_client) -> None:  # noqa: F811
    _load_samples(engine, settings)
    for division, tiles in (("64", 9), ("640202", 6), ("640202", None)):
        untiled = line_conflicts(engine, division)
        assert untiled, division
        tiled = line_conflicts(engine, division,
                               tiles=TileOptions(client=dask_client, tiles=tiles))
        _assert_same(tiled, untiled)
    assert {c.kind for c in line_conflicts(engine, "64")} >= {
        "eco_redline/basic_farmland", "basic_farmland/urban_boundary"}


def _straddling_lines(engine: Engine, tmp_path: Path) -> dict[tuple[str, str, str], float]:
    """Red lines as long strips across the district, farmland on a 12 x 9 grid of small
    parcels, urban boundaries shifted by half a parcel, so that overlaps lie across any grid
    line; a U-shaped parcel whose overlap with a strip is in two parts; a sliver under the
    1 m² tolerance; a red line without a county code (region-wide data, in every scope) and a
    superseded version of the red line;
    farmland of another county (outside a 640202 run's scope as layer a, in it as layer b).
    Returns the expected conflicts computed here: (kind, key a, key b) -> area in m²
    (pyproj.Geod on GRS80, shapely intersections)."""
    x0, y0, w, h = 106.10, 38.90, 0.004, 0.003
    redline = {"HX-1": box(x0 + 0.5 * w, y0 + 1.5 * h, x0 + 11.5 * w, y0 + 2.5 * h),
               "HX-2": box(x0 + 5.5 * w, y0 + 0.2 * h, x0 + 6.5 * w, y0 + 8.8 * h)}
    farmland = {f"JB-{i:02d}-{j:02d}": box(x0 + i * w, y0 + j * h, x0 + (i + 0.9) * w,
                                           y0 + (j + 0.9) * h)
                for j in range(9) for i in range(12) if (i + j) % 3}
    farmland["JB-L"] = shapely.Polygon([(x0 + 2.1 * w, y0 + 1.2 * h), (x0 + 2.9 * w, y0 + 1.2 * h),
                                        (x0 + 2.9 * w, y0 + 2.8 * h), (x0 + 2.7 * w, y0 + 2.8 * h),
                                        (x0 + 2.7 * w, y0 + 1.4 * h), (x0 + 2.3 * w, y0 + 1.4 * h),
                                        (x0 + 2.3 * w, y0 + 2.8 * h), (x0 + 2.1 * w, y0 + 2.8 * h)])
    udb = {f"UDB-{i}-{j}": box(x0 + (i * 3 + 0.5) * w, y0 + (j * 3 + 0.5) * h,
                               x0 + (i * 3 + 2.4) * w, y0 + (j * 3 + 2.4) * h)
           for j in range(3) for i in range(4)}
    # A sliver: 1e-8 degrees (about 1 mm) by 0.4 parcel heights, against JB-00-01.
    udb["UDB-SLIVER"] = box(x0 + 0.9 * w - 1e-8, y0 + h, x0 + 0.9 * w + 0.01 * w, y0 + 1.4 * h)
    # Across HX-1 and UDB-3-0.
    other = {"JB-X": box(x0 + 9.6 * w, y0 + 1.6 * h, x0 + 10.4 * w, y0 + 2.3 * h)}
    _load(engine, tmp_path, "admin_divisions", [
        {"code": "640202", "name": "大武口区", "level": "区"}], [box(106.0, 38.8, 106.6, 39.3)])
    # The red line in two versions: the superseded one over the whole grid must not count.
    for version, lines in ((SUPERSEDED, {"HX-1": box(x0, y0, x0 + 12 * w, y0 + 9 * h)}),
                           (IN_FORCE, redline)):
        path = tmp_path / f"eco_redline_{version.basis}.gpkg"
        gpd.GeoDataFrame([{"redline_code": k, "zone": "general",
                           "county_code": "640202" if k == "HX-1" else None} for k in lines],
                         geometry=list(lines.values()), crs="EPSG:4490").to_file(path)
        load_file(engine, path, "eco_redline", LoadOptions(strict=True, version=version))
    _load(engine, tmp_path, "basic_farmland",
          [{"parcel_code": k, "county_code": "640202"} for k in farmland]
          + [{"parcel_code": k, "county_code": "640104"} for k in other],
          list(farmland.values()) + list(other.values()))
    _load(engine, tmp_path, "urban_boundary", [
        {"boundary_code": k, "zone": "centralized_construction", "county_code": "640202"}
        for k in udb], list(udb.values()))
    expected = {}
    for kind, layer_a, layer_b in (
            ("eco_redline/basic_farmland", redline, farmland | other),
            ("eco_redline/urban_boundary", redline, udb),
            ("basic_farmland/urban_boundary", farmland, udb)):
        for key_a, a in layer_a.items():
            for key_b, b in layer_b.items():
                piece = a.intersection(b)
                area = abs(GEOD.geometry_area_perimeter(piece)[0]) if piece.area else 0.0
                if area >= 1.0:
                    expected[(kind, key_a, key_b)] = area
    return expected


def test_conflicts_across_tile_borders_counted_once(clean_db, tmp_path,
                                                    dask_client) -> None:  # noqa: F811
    expected = _straddling_lines(clean_db, tmp_path)
    untiled = line_conflicts(clean_db, "640202")
    tiled = line_conflicts(clean_db, "640202", tiles=TileOptions(client=dask_client, tiles=16))
    _assert_same(tiled, untiled)
    found = {(c.kind, c.key_a, c.key_b): c for c in tiled}
    assert len(found) == len(tiled)  # each conflict once
    assert set(found) == set(expected)
    for key, area in expected.items():
        assert found[key].area_m2 == pytest.approx(area, rel=1e-6), key
    # JB-X (640104) is in scope as layer b, not as layer a; HX-2 (no county) is in scope.
    assert ("eco_redline/basic_farmland", "HX-1", "JB-X") in found
    assert not any(c.key_a == "JB-X" for c in tiled)
    assert any(c.key_a == "HX-2" for c in tiled)
    assert found[("eco_redline/basic_farmland", "HX-1", "JB-L")].geometry["type"] \
        == "MultiPolygon"
    assert not any(c.key_b == "UDB-SLIVER" for c in tiled)  # under the tolerance, both ways
    # The borders of the 16 tiles really run through conflicts.
    with clean_db.connect() as conn:
        extent = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Extent(geom)::geometry AS e FROM (SELECT geom FROM eco_redline UNION ALL "
            "SELECT geom FROM basic_farmland WHERE county_code = '640202') AS p) AS x")).one()
    cells = [box(*t.box) for t in grid(tuple(extent), 16)]
    straddling = [c for c in tiled
                  if sum(shape(c.geometry).intersection(cell).area > 0 for cell in cells) > 1]
    assert len(straddling) >= 10
    assert {c.kind for c in straddling} == {k for k, _, _ in expected}


def test_cli_tiled_on_the_scheduler_of_the_setting(clean_db, tmp_path,
                                                   dask_client) -> None:  # noqa: F811
    """``gis control-lines check --tiled`` on the cluster ``GIS_DASK_SCHEDULER`` names gives
    what the untiled command gives; ``--workers`` without ``--tiled`` is a usage error."""
    expected = _straddling_lines(clean_db, tmp_path)
    args = ("control-lines", "check", "--division", "640202", "--json")
    untiled = run_gis(*args)
    assert untiled.returncode == 0, untiled.stderr
    tiled = run_gis(*args, "--tiled",
                    env={"GIS_DASK_SCHEDULER": dask_client.scheduler.address})
    assert tiled.returncode == 0, tiled.stderr
    rows, reference = json.loads(tiled.stdout), json.loads(untiled.stdout)
    assert [r["id"] for r in rows] == [r["id"] for r in reference]
    assert len(rows) == len(expected)
    for row, ref in zip(rows, reference, strict=True):
        assert row["area_m2"] == pytest.approx(ref["area_m2"], rel=1e-6)
    assert_usage_error(run_gis("control-lines", "check", "--workers", "2"), "add --tiled")


def test_unreachable_scheduler_is_a_clear_error(clean_db, tmp_path, monkeypatch) -> None:
    _straddling_lines(clean_db, tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("GIS_DASK_SCHEDULER", f"tcp://127.0.0.1:{port}")
    get_settings.cache_clear()
    try:
        started = time.monotonic()
        with pytest.raises(ConfigurationError, match="compute cluster") as caught:
            line_conflicts(clean_db, "640202", tiles=TileOptions(connect_timeout=2))
        assert time.monotonic() - started < 30
        assert f"127.0.0.1:{port}" in str(caught.value)
    finally:
        monkeypatch.delenv("GIS_DASK_SCHEDULER")
        get_settings.cache_clear()
