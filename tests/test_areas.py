"""The bulk area path (used by every load) and the database's own area trigger, both checked
against the independent per-polygon pyproj.Geod computation."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from gis.units import ellipsoidal_areas, geodesic_area, geodesic_areas


def _random_parcels(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(73.5, 134.5, n), rng.uniform(18.5, 53.0, n)])
    sizes = rng.uniform(0.0002, 0.015, n)
    points = shapely.points(centres)
    return np.asarray(shapely.buffer(points, sizes, quad_segs=4), dtype=object)


def test_bulk_areas_match_geod_across_china() -> None:
    parcels = _random_parcels(2000)
    fast = ellipsoidal_areas(parcels)
    exact = geodesic_areas(parcels)
    assert np.max(np.abs(fast - exact) / exact) < 1e-5


def test_holes_multipolygons_orientation_and_large_shapes() -> None:
    shell = box(106.30, 38.90, 106.31, 38.91)
    hole = box(106.302, 38.902, 106.304, 38.904)
    with_hole = Polygon(shell.exterior.coords, [hole.exterior.coords])
    same_winding_hole = Polygon(shell.exterior.coords, [list(hole.exterior.coords)[::-1]])
    geoms = np.array([
        with_hole,
        same_winding_hole,
        MultiPolygon([box(106.0, 38.0, 106.001, 38.001), with_hole]),
        shell.reverse(),
        box(104.2, 35.2, 107.6, 39.4),  # Ningxia-sized: takes the exact path
    ], dtype=object)
    fast = ellipsoidal_areas(geoms)
    for got, geom in zip(fast, geoms, strict=True):
        expected = geodesic_area(geom).m2
        assert abs(got - expected) / expected < 1e-7, (geom.wkt[:40], got, expected)
    assert fast[0] == fast[1]  # hole winding does not matter


def test_missing_and_empty() -> None:
    geoms = np.array([None, Polygon(), box(106, 38, 106.001, 38.001)], dtype=object)
    out = ellipsoidal_areas(geoms)
    assert np.isnan(out[0]) and out[1] == 0 and out[2] > 0


def test_database_fills_area_for_other_writers(clean_db) -> None:
    square = box(106.30, 38.90, 106.32, 38.91)
    moved = box(106.30, 38.90, 106.34, 38.91)
    with clean_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO projects (project_code, name, geom) VALUES "
            "('P1', '测试项目', ST_Multi(ST_GeomFromText(:wkt, 4490)))"
        ), {"wkt": square.wkt})
        first = conn.execute(text("SELECT area_m2 FROM projects")).scalar_one()
        conn.execute(text(
            "UPDATE projects SET geom = ST_Multi(ST_GeomFromText(:wkt, 4490))"
        ), {"wkt": moved.wkt})
        second = conn.execute(text("SELECT area_m2 FROM projects")).scalar_one()
    assert abs(first - geodesic_area(square).m2) / first < 1e-9
    assert abs(second - geodesic_area(moved).m2) / second < 1e-9
