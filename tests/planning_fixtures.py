"""Fixtures of the planning-check tests: village plans, and small three-control-line layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import text

from gis.layers.load import LoadOptions, load_file
from gis.units import geodesic_area

# (code, name, township, planned construction m², quota share)
VILLAGES = [
    ("640202100201", "星光村", "星海镇", 400_000, 0.06),
    ("640202100202", "隆惠村", "星海镇", 300_000, 0.03),
    ("640202100203", "果园村", "星海镇", 250_000, 0.05),
    ("640202100204", "星海村", "星海镇", 500_000, 0.0498),
    ("640202100205", "临湖村", "星海镇", 200_000, 0.0),
    ("640104200201", "镇河村", "月牙湖乡", 350_000, 0.06),
    ("640104200202", "月牙湖村", "月牙湖乡", 420_000, 0.0498),
    ("640104200203", "塔桥村", "月牙湖乡", 380_000, 0.05),
]


@pytest.fixture
def villages(clean_db, tmp_path):
    rows = [{"village_code": c, "village_name": n, "township_name": t,
             "planned_construction_m2": base, "flexible_quota_m2": base * share}
            for c, n, t, base, share in VILLAGES]
    geoms = [box(106.3 + i * 0.01, 39.0, 106.309 + i * 0.01, 39.009) for i in range(len(rows))]
    path = tmp_path / "villages.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path)
    load_file(clean_db, path, "village_plans", LoadOptions(strict=True))
    with clean_db.begin() as conn:
        conn.execute(text("TRUNCATE quota_draws"))
    return clean_db


DISTRICT = box(106.0, 38.8, 106.6, 39.3)
REDLINE = box(106.10, 39.00, 106.20, 39.10)
FARM_A = box(106.19, 39.00, 106.22, 39.02)   # overlaps the red line (0.01° strip)
FARM_B = box(106.30, 39.00, 106.32, 39.02)   # overlaps the UDB
FARM_C = box(106.40, 39.10, 106.41, 39.11)   # clean
UDB = box(106.31, 39.00, 106.36, 39.05)
FOREST = box(106.05, 38.85, 106.09, 38.90)
SHRUB_OUTSIDE_CLASSES = box(106.45, 38.85, 106.46, 38.86)


def _load(engine, tmp_path, layer, rows, geoms):
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path)
    load_file(engine, path, layer, LoadOptions(strict=True))


@pytest.fixture
def lines(clean_db, tmp_path):
    _load(clean_db, tmp_path, "admin_divisions", [
        {"code": "640202", "name": "大武口区", "level": "区"}], [DISTRICT])
    _load(clean_db, tmp_path, "eco_redline", [
        {"redline_code": "HX-1", "zone": "general", "county_code": "640202"}], [REDLINE])
    _load(clean_db, tmp_path, "basic_farmland", [
        {"parcel_code": c, "county_code": "640202"} for c in ("JB-A", "JB-B", "JB-C")],
        [FARM_A, FARM_B, FARM_C])
    _load(clean_db, tmp_path, "cultivated_land", [
        {"patch_no": c, "subclass": "dry"} for c in ("GD-A", "GD-B", "GD-C")],
        [FARM_A, FARM_B, FARM_C])
    _load(clean_db, tmp_path, "urban_boundary", [
        {"boundary_code": "UDB-1", "zone": "centralized_construction", "county_code": "640202",
         "baseline_2020_m2": geodesic_area(UDB).m2 / 1.25}], [UDB])
    _load(clean_db, tmp_path, "forest_parcels", [
        {"county_code": "640202", "lin_ban": "001", "xiao_ban": "001", "land_class": "乔木林地"},
        {"county_code": "640202", "lin_ban": "001", "xiao_ban": "002", "land_class": "疏林地"}],
        [FOREST, SHRUB_OUTSIDE_CLASSES])
    return clean_db


