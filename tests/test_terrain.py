"""Terrain: slope (Horn) on synthetic planes of known gradient in a projected and a geographic
CRS (cell sizes against pyproj.Geod), footprint statistics, bad input, and the siting check's
terrain section (with the sample DEM), API and CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from api.app import create_app
from gis.analysis.siting import check
from gis.analysis.siting_runs import StoredRun
from gis.analysis.terrain import cell_sizes, footprint_stats, footprint_terrain, slope_aspect
from gis.cli import app
from gis.errors import InputError, MissingCRS
from gis.reports.siting import siting_html
from gis.rules import load_profile

SAMPLE_DEM = Path(__file__).resolve().parent.parent / "data" / "samples" / "dem.tif"
GEOD = pyproj.Geod(ellps="GRS80")
TERRAIN = load_profile("ningxia").terrain
#: (slope degrees, azimuth the plane rises towards)
PLANES = [(0.5, 30.0), (5.0, 0.0), (25.0, 90.0), (26.0, 135.0), (45.0, 200.0), (70.0, 315.0)]
#: Helan Mountain (steep in places) and the plain east of Dawukou, in the sample DEM.
MOUNTAIN = box(106.20, 39.00, 106.22, 39.02)
PLAIN = box(106.40, 39.00, 106.44, 39.02)


def _plane(east_m: np.ndarray, north_m: np.ndarray, slope: float, towards: float) -> np.ndarray:
    t = math.tan(math.radians(slope))
    return t * (math.sin(math.radians(towards)) * east_m + math.cos(math.radians(towards))
                * north_m)


def _check(slope_deg: np.ndarray, aspect_deg: np.ndarray, slope: float, towards: float) -> None:
    inner = np.isfinite(slope_deg)
    assert inner.sum() > 0.8 * slope_deg.size
    assert np.abs(slope_deg[inner] - slope).max() < 0.1
    downhill = (towards + 180.0) % 360.0
    diff = (aspect_deg[inner] - downhill + 180.0) % 360.0 - 180.0
    assert np.abs(diff).max() < 0.1


@pytest.mark.parametrize(("slope", "towards"), PLANES)
def test_slope_on_planes_projected(slope: float, towards: float) -> None:
    crs = pyproj.CRS.from_epsg(4544)  # CGCS2000 GK CM 105E, 30 m cells near Dawukou
    transform = from_origin(600_000, 4_330_000, 30, 30)
    xs = transform.c + (np.arange(60) + 0.5) * 30
    ys = transform.f - (np.arange(50) + 0.5) * 30
    x, y = np.meshgrid(xs, ys)
    dx, dy = cell_sizes(crs, transform, ys)
    # Ground cells are map cells divided by the GK scale factor (~1.00012 here): tiny.
    assert 29.99 < dx[0] < 30.0 and -30.0 < dy[0] < -29.99
    _check(*slope_aspect(_plane(x, y, slope, towards), dx, dy), slope, towards)


@pytest.mark.parametrize(("slope", "towards"), PLANES)
def test_slope_on_planes_geographic(slope: float, towards: float) -> None:
    """1" cells at 39°N are ~24 m by ~31 m: a plane built from geodesic distances is
    recovered exactly, where a cell size 'in degrees' would be meaningless."""
    crs = pyproj.CRS.from_epsg(4490)
    res = 1 / 3600
    transform = from_origin(106.2, 39.1, res, res)
    lons = transform.c + (np.arange(60) + 0.5) * res
    lats = transform.f - (np.arange(50) + 0.5) * res
    lon, lat = np.meshgrid(lons, lats)
    _, _, east = GEOD.inv(np.full_like(lon, lons[0]), lat, lon, lat)
    _, _, north = GEOD.inv(lon, np.full_like(lat, lats[-1]), lon, lat)
    dx, dy = cell_sizes(crs, transform, lats)
    # Independent check of the cell sizes: geodesic distance between neighbouring centres.
    _, _, step_e = GEOD.inv(lons[0], lats[25], lons[1], lats[25])
    _, _, step_n = GEOD.inv(lons[0], lats[25], lons[0], lats[24])
    assert dx[25] == pytest.approx(step_e, rel=1e-6) and -dy[25] == pytest.approx(step_n,
                                                                                rel=1e-6)
    _check(*slope_aspect(_plane(east, north, slope, towards), dx, dy), slope, towards)


def _write_dem(path: Path, z: np.ndarray, crs: str | None, transform, nodata=-9999.0) -> Path:
    profile = {"driver": "GTiff", "width": z.shape[1], "height": z.shape[0], "count": 1,
               "dtype": "float32", "transform": transform, "nodata": nodata}
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z.astype("float32"), 1)
    return path


def _geographic_plane(tmp_path: Path, slope: float, towards: float = 90.0) -> Path:
    res = 1 / 3600
    transform = from_origin(106.30, 39.05, res, res)
    lons = transform.c + (np.arange(200) + 0.5) * res
    lats = transform.f - (np.arange(200) + 0.5) * res
    lon, lat = np.meshgrid(lons, lats)
    _, _, east = GEOD.inv(np.full_like(lon, lons[0]), lat, lon, lat)
    _, _, north = GEOD.inv(lon, np.full_like(lat, lats[-1]), lon, lat)
    z = 1200.0 + _plane(east, north, slope, towards)
    return _write_dem(tmp_path / f"plane_{slope}.tif", z, "EPSG:4490", transform)


def test_footprint_statistics_on_planes(tmp_path: Path) -> None:
    footprint = box(106.305, 39.01, 106.33, 39.04)
    steep = footprint_stats(_geographic_plane(tmp_path, 30.0), footprint, TERRAIN)
    assert steep.slope_mean_deg == pytest.approx(30.0, abs=0.1)
    assert steep.slope_max_deg == pytest.approx(30.0, abs=0.1)
    assert steep.steep_share == 1.0 and steep.steep_threshold_deg == 25.0
    assert steep.aspect_mean_deg == pytest.approx(270.0, abs=0.1)  # rises east, faces west
    assert steep.sampling == "centres" and steep.pixels_without_data == 0
    assert steep.cell_size_m[0] == pytest.approx(24.0, abs=0.1)
    assert steep.threshold_citation is None and "Technical parameter" in steep.threshold_note
    gentle = footprint_stats(_geographic_plane(tmp_path, 20.0), footprint, TERRAIN)
    assert gentle.slope_mean_deg == pytest.approx(20.0, abs=0.1) and gentle.steep_share == 0
    tiny = footprint_stats(_geographic_plane(tmp_path, 20.0),
                           box(106.31, 39.02, 106.31001, 39.02001), TERRAIN)
    assert tiny.sampling == "touched" and tiny.pixels >= 1


def test_sample_dem_statistics() -> None:
    mountain = footprint_stats(SAMPLE_DEM, MOUNTAIN, TERRAIN)
    plain = footprint_stats(SAMPLE_DEM, PLAIN, TERRAIN)
    assert mountain.dem_crs == "EPSG:4544" and 59.9 < mountain.cell_size_m[0] < 60.0
    assert mountain.elevation_mean_m > 2000 > 1200 > plain.elevation_mean_m
    assert mountain.slope_max_deg > TERRAIN.steep_slope_deg > plain.slope_max_deg
    assert 0 < mountain.steep_share < 1 and plain.steep_share == 0
    area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(MOUNTAIN))
    assert mountain.steep_area_m2 == pytest.approx(mountain.steep_share * abs(area),
                                                   abs=5e-5 * abs(area))  # share: 4 decimals
    assert mountain.steep_area_mu == pytest.approx(mountain.steep_area_m2 * 15 / 10000, abs=0.01)


def test_bad_dems_and_footprints(tmp_path: Path) -> None:
    z = np.zeros((20, 20))
    transform = from_origin(106.3, 39.05, 0.001, 0.001)
    with pytest.raises(MissingCRS, match="no CRS"):
        footprint_stats(_write_dem(tmp_path / "nocrs.tif", z, None, transform),
                        box(106.301, 39.04, 106.31, 39.045), TERRAIN)
    dem = _write_dem(tmp_path / "dem.tif", z, "EPSG:4490", transform)
    with pytest.raises(InputError, match="outside the DEM"):
        footprint_stats(dem, box(107.0, 39.0, 107.01, 39.01), TERRAIN)
    empty = _write_dem(tmp_path / "empty.tif", np.full((20, 20), -9999.0), "EPSG:4490",
                       transform)
    with pytest.raises(InputError, match="no data under the footprint"):
        footprint_stats(empty, box(106.301, 39.04, 106.31, 39.045), TERRAIN)
    with pytest.raises(InputError, match="no such file"):
        footprint_stats(tmp_path / "missing.tif", MOUNTAIN, TERRAIN)
    (tmp_path / "junk.tif").write_text("no raster")
    with pytest.raises(InputError, match="not a readable raster"):
        footprint_stats(tmp_path / "junk.tif", MOUNTAIN, TERRAIN)
    with pytest.raises(InputError, match="polygon"):
        footprint_terrain(SAMPLE_DEM, {"type": "Point", "coordinates": [106.2, 39.0]})


def test_siting_check_adds_terrain_when_a_dem_is_given(layers) -> None:
    steep = check(layers, mapping(MOUNTAIN), "LA1", False, profile="dawukou", dem=SAMPLE_DEM)
    assert steep.terrain is not None and steep.terrain.steep_share > 0
    warning = next(w for w in steep.warnings if w.code == "steep_slope")
    assert "25°" in warning.message_zh and "技术参数" in warning.message_zh
    assert "not a cited rule" in warning.message_en
    stored = StoredRun(id="t", created_at=datetime.now(UTC), inputs={}, result=steep)
    assert "<h2>地形</h2>" in siting_html(stored)
    english = siting_html(stored, lang="en")
    assert "<h2>Terrain</h2>" in english and "Technical parameter" in english
    flat = check(layers, mapping(PLAIN), "LA1", False, profile="dawukou", dem=SAMPLE_DEM)
    assert flat.terrain.steep_share == 0
    assert not [w for w in flat.warnings if w.code == "steep_slope"]
    # Without a DEM (GIS_DEM_PATH unset in the tests) nothing changes.
    plain = check(layers, mapping(PLAIN), "LA1", False, profile="dawukou")
    assert plain.terrain is None and plain.verdict == flat.verdict
    # West of Dawukou the sample DEM holds nodata: the check goes on, with a warning.
    outside = check(layers, mapping(box(106.10, 38.90, 106.11, 38.91)), "LA1", False,
                    profile="dawukou", dem=SAMPLE_DEM)
    assert outside.terrain is None
    assert any(w.code == "terrain_not_checked" for w in outside.warnings)


def test_api_and_cli(settings, tmp_path: Path) -> None:
    configured = settings.with_changes(data={"dem_path": SAMPLE_DEM})
    body = {"geometry": mapping(MOUNTAIN), "crs": "EPSG:4490"}
    with TestClient(create_app(configured)) as client:
        ok = client.post("/api/v1/terrain/stats", json=body)
        assert ok.status_code == 200, ok.text
        assert ok.json()["steep_share"] > 0 and ok.json()["steep_threshold_deg"] == 25.0
        far = client.post("/api/v1/terrain/stats",
                          json={**body, "geometry": mapping(box(110, 30, 110.01, 30.01))},
                          headers={"Accept-Language": "en"})
        assert far.status_code == 422 and "outside the DEM" in far.json()["detail"]
    with TestClient(create_app(settings)) as client:
        missing = client.post("/api/v1/terrain/stats", json=body)
        assert missing.status_code == 500 and "GIS_DEM_PATH" in missing.json()["detail"]
    footprint = tmp_path / "fp.geojson"
    footprint.write_text(json.dumps(mapping(shapely.Polygon(MOUNTAIN.exterior))))
    runner = CliRunner()
    result = runner.invoke(app, ["terrain", "stats", str(footprint), "--dem", str(SAMPLE_DEM),
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["slope_max_deg"] > 25
    table = runner.invoke(app, ["terrain", "stats", str(footprint), "--dem", str(SAMPLE_DEM)])
    assert table.exit_code == 0 and "share > 25°" in table.stdout
