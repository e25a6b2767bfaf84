"""Tests for gis.units: unit arithmetic and ellipsoidal areas.

The reference areas come from an independent route: project onto a GRS80 Lambert Azimuthal
Equal-Area plane centred on the polygon (PROJ's authalic-latitude implementation, not
GeographicLib's area integral) and take shapely's planar area.
Gauss-Kruger (EPSG:4544, CM 105E) is not
used because it is conformal, not equal-area: its scale distortion would dominate the comparison.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from gis.units import (
    GEOD,
    M2_PER_HA,
    M2_PER_MU,
    Area,
    geodesic_area,
    geodesic_areas,
    sql_area_m2,
)

# Measured agreement with the LAEA reference: ~3e-9 for km-sized polygons with straight
# lon/lat edges (the residual is edge shape: geodesic vs straight in LAEA), ~3e-11 once edges
# are densified along geodesics. Tolerances leave two orders of magnitude of headroom.
SMALL_REL_TOL = 1e-7
DENSIFIED_REL_TOL = 1e-9

YINCHUAN_SQUARE = box(106.3, 38.9, 106.31, 38.91)


def laea_area_m2(geom: shapely.Geometry) -> float:
    centre = geom.centroid
    crs = f"+proj=laea +lat_0={centre.y} +lon_0={centre.x} +ellps=GRS80 +units=m"
    to_plane = pyproj.Transformer.from_crs("OGC:CRS84", crs, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_plane.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, project).area


def densify_geodesic(polygon: Polygon, step_m: float = 100.0) -> Polygon:
    """Insert points along each geodesic edge so straight LAEA edges follow it closely."""

    def ring(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for (x0, y0), (x1, y1) in itertools.pairwise(coords):
            out.append((x0, y0))
            n = int(GEOD.inv(x0, y0, x1, y1)[2] // step_m)
            if n:
                out.extend(GEOD.npts(x0, y0, x1, y1, n))
        out.append(coords[-1])
        return out

    return Polygon(
        ring(list(polygon.exterior.coords)),
        [ring(list(hole.coords)) for hole in polygon.interiors],
    )


def rel_diff(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# --- units ---------------------------------------------------------------------------------


def test_unit_constants() -> None:
    assert M2_PER_HA == 10000.0
    assert math.isclose(M2_PER_MU, 2000 / 3, rel_tol=1e-15)  # 666.666... m²
    assert math.isclose(M2_PER_HA / M2_PER_MU, 15.0, rel_tol=1e-15)


def test_one_hectare_is_fifteen_mu() -> None:
    area = Area.from_ha(1)
    assert area.m2 == 10000.0
    assert area.mu == pytest.approx(15.0)
    assert area.ha == 1.0
    assert area.km2 == pytest.approx(0.01)


def test_one_mu() -> None:
    area = Area.from_mu(1)
    assert area.m2 == pytest.approx(10000 / 15)
    assert area.ha == pytest.approx(1 / 15)
    assert Area.from_mu(15).m2 == pytest.approx(10000.0)


def test_wanmu() -> None:
    assert Area.from_mu(10000).wanmu == pytest.approx(1.0)
    assert Area(1e6).wanmu == pytest.approx(0.15)  # 1 km² = 1500 亩


def test_add_and_sum() -> None:
    total = Area.from_ha(1) + Area.from_mu(15)
    assert total == Area(20000.0)
    assert sum([Area(1.0), Area(2.5)]) == Area(3.5)
    with pytest.raises(TypeError):
        _ = Area(1.0) + 1.0


def test_area_is_frozen() -> None:
    with pytest.raises(AttributeError):
        Area(1.0).m2 = 2.0  # type: ignore[misc]


def test_as_dict_rounding() -> None:
    d = Area(1234.56789).as_dict()
    assert d == {"area_m2": 1234.57, "area_mu": 1.85, "area_ha": 0.1235}
    assert Area.from_mu(1).as_dict() == {"area_m2": 666.67, "area_mu": 1.0, "area_ha": 0.0667}


# --- geodesic areas ----------------------------------------------------------------------------


def test_small_square_near_yinchuan_matches_equal_area_projection() -> None:
    area = geodesic_area(YINCHUAN_SQUARE).m2
    # 0.01° x 0.01° at 38.9°N is about 1.11 km x 0.87 km.
    assert 0.95e6 < area < 0.97e6
    assert rel_diff(area, laea_area_m2(YINCHUAN_SQUARE)) < SMALL_REL_TOL


def test_orientation_does_not_matter() -> None:
    ccw = shapely.orient_polygons(YINCHUAN_SQUARE, exterior_cw=False)
    cw = shapely.orient_polygons(YINCHUAN_SQUARE, exterior_cw=True)
    assert list(ccw.exterior.coords) != list(cw.exterior.coords)
    assert geodesic_area(cw).m2 == pytest.approx(geodesic_area(ccw).m2, rel=1e-12)
    assert geodesic_area(ccw).m2 > 0


def test_polygon_with_hole() -> None:
    shell = [(106.2, 38.4), (106.5, 38.45), (106.6, 38.8), (106.3, 38.9), (106.1, 38.7)]
    hole = [(106.3, 38.6), (106.4, 38.6), (106.4, 38.7), (106.3, 38.7)]
    polygon = Polygon(shell, [hole])
    expected = laea_area_m2(densify_geodesic(polygon))
    area = geodesic_area(polygon).m2
    assert rel_diff(area, expected) < DENSIFIED_REL_TOL
    assert area == pytest.approx(
        geodesic_area(Polygon(shell)).m2 - geodesic_area(Polygon(hole)).m2, rel=1e-12
    )


def test_hole_wound_like_its_shell_is_still_subtracted() -> None:
    # pyproj alone would *add* such a hole; shapefiles and hand-written GeoJSON produce it.
    shell = [(106.0, 38.0), (106.1, 38.0), (106.1, 38.1), (106.0, 38.1)]  # CCW
    hole = [(106.02, 38.02), (106.05, 38.02), (106.05, 38.05), (106.02, 38.05)]  # also CCW
    polygon = Polygon(shell, [hole])
    assert polygon.exterior.is_ccw and polygon.interiors[0].is_ccw
    expected = geodesic_area(Polygon(shell)).m2 - geodesic_area(Polygon(hole)).m2
    assert geodesic_area(polygon).m2 == pytest.approx(expected, rel=1e-12)
    assert geodesic_area(shapely.reverse(polygon)).m2 == pytest.approx(expected, rel=1e-12)


def test_multipolygon_is_sum_of_parts() -> None:
    a = box(106.3, 38.9, 106.31, 38.91)
    b = shapely.reverse(box(105.2, 36.0, 105.23, 36.02))  # different winding on purpose
    multi = MultiPolygon([a, b])
    expected = laea_area_m2(a) + laea_area_m2(b)
    assert rel_diff(geodesic_area(multi).m2, expected) < SMALL_REL_TOL
    assert geodesic_area(multi) == geodesic_area(a) + geodesic_area(b)


def test_large_polygon_covering_ningxia() -> None:
    # Ningxia's bounding box, ~1.1e11 m²; edges densified so LAEA follows the geodesics.
    ningxia = box(104.2, 35.2, 107.7, 39.4)
    expected = laea_area_m2(densify_geodesic(ningxia, step_m=200.0))
    assert rel_diff(geodesic_area(ningxia).m2, expected) < DENSIFIED_REL_TOL


def test_area_matches_pyproj_for_plain_polygon() -> None:
    oriented = shapely.orient_polygons(YINCHUAN_SQUARE, exterior_cw=False)
    pyproj_area, _ = pyproj.Geod(ellps="GRS80").geometry_area_perimeter(oriented)
    assert geodesic_area(YINCHUAN_SQUARE).m2 == pytest.approx(pyproj_area, rel=1e-14)


def test_non_polygonal_parts_contribute_nothing() -> None:
    collection = GeometryCollection(
        [
            YINCHUAN_SQUARE,
            Point(106.0, 38.0),
            LineString([(106.0, 38.0), (106.1, 38.0), (106.1, 38.1)]),
        ]
    )
    assert geodesic_area(collection) == geodesic_area(YINCHUAN_SQUARE)
    assert geodesic_area(LineString([(106.0, 38.0), (106.1, 38.0), (106.1, 38.1)])).m2 == 0.0
    assert geodesic_area(Point(106.0, 38.0)).m2 == 0.0


@pytest.mark.parametrize(
    "empty",
    [Polygon(), MultiPolygon(), GeometryCollection(), shapely.from_wkt("POLYGON EMPTY")],
)
def test_empty_is_zero(empty: shapely.Geometry) -> None:
    assert geodesic_area(empty) == Area(0.0)


def test_geodesic_areas_vectorised() -> None:
    geoms = np.array([YINCHUAN_SQUARE, Polygon(), None, box(105.2, 36.0, 105.23, 36.02)])
    areas = geodesic_areas(geoms)
    assert areas.dtype == np.float64
    assert areas.shape == (4,)
    assert areas[0] == geodesic_area(YINCHUAN_SQUARE).m2
    assert areas[1] == 0.0
    assert math.isnan(areas[2])
    assert areas[3] == geodesic_area(geoms[3]).m2
    assert geodesic_areas([YINCHUAN_SQUARE]).tolist() == [geodesic_area(YINCHUAN_SQUARE).m2]
    assert geodesic_areas([]).shape == (0,)


# --- SQL -------------------------------------------------------------------------------------


def _sql(expression) -> str:
    from sqlalchemy.dialects import postgresql

    return str(expression.compile(dialect=postgresql.dialect()))


def test_sql_area_expression() -> None:
    import sqlalchemy as sa

    assert _sql(sql_area_m2()) == "ST_Area(geography(geom), true)"
    assert _sql(sql_area_m2(sa.column("shape"))) == "ST_Area(geography(shape), true)"
    parcels = sa.table("p", sa.column("geom"))
    assert _sql(sql_area_m2(parcels.c.geom)) == "ST_Area(geography(p.geom), true)"
    # an odd name is quoted as an identifier, never spliced in as SQL
    odd = _sql(sql_area_m2(sa.column("geom); drop table x; --")))
    assert odd == 'ST_Area(geography("geom); drop table x; --"), true)'


def test_sql_area_agrees_with_geodesic_area(engine) -> None:
    import sqlalchemy as sa
    from geoalchemy2.shape import from_shape

    expression = sql_area_m2(sa.func.ST_GeomFromWKB(
        sa.literal(from_shape(YINCHUAN_SQUARE).data), 4490))
    with engine.connect() as conn:
        in_db = conn.execute(sa.select(expression)).scalar_one()
    assert in_db == pytest.approx(geodesic_area(YINCHUAN_SQUARE).m2, rel=1e-9)


def test_gauss_kruger_zone_of_ningxia() -> None:
    import pyproj

    from gis.crs import gauss_kruger_epsg

    assert gauss_kruger_epsg(106.3) == 4544
    assert "CM 105E" in pyproj.CRS.from_epsg(gauss_kruger_epsg(106.3)).name
    assert "CM 75E" in pyproj.CRS.from_epsg(gauss_kruger_epsg(74.0)).name
    assert "CM 135E" in pyproj.CRS.from_epsg(gauss_kruger_epsg(134.9)).name
