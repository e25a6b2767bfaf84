"""Small synthetic control layers for the siting tests (module-scoped fixture)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import text

from gis.layers.catalogue import load_catalogue
from gis.layers.load import LoadOptions, load_file

CORE = box(106.20, 39.00, 106.22, 39.02)
GENERAL = box(106.22, 39.00, 106.26, 39.02)
FARMLAND = box(106.30, 39.00, 106.31, 39.01)
GOOD_LAND = box(106.31, 39.00, 106.32, 39.01)
POOR_LAND = box(106.32, 39.00, 106.33, 39.01)
CENTRALIZED = box(106.40, 39.00, 106.44, 39.02)
FLEXIBLE = box(106.44, 39.00, 106.46, 39.02)
DISTRICT = box(106.0, 38.8, 106.6, 39.3)


def _load(engine, tmp_path, layer: str, rows: list[dict], geoms: list) -> None:
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path, driver="GPKG")
    load_file(engine, path, layer, LoadOptions(strict=True))


@pytest.fixture(scope="module")
def layers(engine, tmp_path_factory):
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(layer.table for layer in load_catalogue())))
    tmp = tmp_path_factory.mktemp("siting")
    _load(engine, tmp, "admin_divisions", [
        {"code": "640202", "name": "大武口区", "level": "区", "parent_code": "640200"}],
        [DISTRICT])
    _load(engine, tmp, "eco_redline", [
        {"redline_code": "HX-001", "name": "贺兰山核心保护区", "zone": "核心保护区"},
        {"redline_code": "HX-002", "name": "贺兰山一般控制区", "zone": "一般控制区"},
    ], [CORE, GENERAL])
    _load(engine, tmp, "basic_farmland", [
        {"parcel_code": "JBNT-001", "village": "星光村"}], [FARMLAND])
    _load(engine, tmp, "cultivated_land", [
        {"patch_no": "GD-001", "subclass": "水浇地", "quality_grade": 3, "village": "隆惠村"},
        {"patch_no": "GD-002", "subclass": "旱地", "quality_grade": 12, "village": "隆惠村"},
    ], [GOOD_LAND, POOR_LAND])
    _load(engine, tmp, "urban_boundary", [
        {"boundary_code": "UDB-1", "name": "大武口城区", "zone": "集中建设区"},
        {"boundary_code": "UDB-2", "name": "大武口城区", "zone": "弹性发展区"},
    ], [CENTRALIZED, FLEXIBLE])
    return engine


