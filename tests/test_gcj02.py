"""Tests for gis.gcj02.

The independent reference is the PyPI package ``eviltransform`` (test-only dependency). Its
API is latitude-first: ``wgs2gcj(lat, lng) -> (lat, lng)``. It converts the pseudo-metre offset
to degrees with a = 6378137 m instead of the formula's Krasovsky a = 6378245 m, so it differs
from us by 1.69e-5 of the offset itself — at most ~1.6e-7 degrees (~1.5 cm) across China,
which the 1e-6 degree tolerance absorbs while still catching any wrong coefficient.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from gis.gcj02 import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_array,
    gcj02_to_wgs84_geometry,
    in_china,
    wgs84_to_gcj02,
    wgs84_to_gcj02_geometry,
)

GEOD = pyproj.Geod(ellps="WGS84")

# (lon, lat) in WGS84: Ningxia first, then cities spread over the rest of the China box.
REFERENCE_POINTS = [
    (106.2309, 38.4872),  # Yinchuan
    (106.3840, 39.0150),  # Shizuishan
    (106.1990, 37.9860),  # Wuzhong
    (106.2424, 36.0160),  # Guyuan
    (105.1896, 37.5149),  # Zhongwei
    (105.6800, 38.8400),  # Helan Shan
    (106.7000, 35.5000),  # southern Ningxia
    (116.3913, 39.9075),  # Beijing
    (121.4737, 31.2304),  # Shanghai
    (113.2644, 23.1291),  # Guangzhou
    (104.0665, 30.5728),  # Chengdu
    (87.6168, 43.8256),  # Urumqi
    (91.1322, 29.6604),  # Lhasa
    (126.6424, 45.7560),  # Harbin
    (110.3312, 20.0310),  # Haikou
    (103.8343, 36.0611),  # Lanzhou
    (108.9398, 34.3416),  # Xi'an
    (111.6708, 40.8183),  # Hohhot
    (75.9897, 39.4704),  # Kashgar
    (130.9300, 47.3200),  # far north-east
]

NINGXIA_LON = np.linspace(105.0, 107.0, 21)
NINGXIA_LAT = np.linspace(35.0, 39.5, 19)


def china_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 1.5), np.arange(19.0, 54.0, 1.5))
    return lon.ravel(), lat.ravel()


def ningxia_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(NINGXIA_LON, NINGXIA_LAT)
    return lon.ravel(), lat.ravel()


def offset_m(lon: float, lat: float) -> float:
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    return GEOD.inv(lon, lat, g_lon, g_lat)[2]


# --- round trips and magnitudes ------------------------------------------------------------


@pytest.mark.parametrize("grid", [china_grid, ningxia_grid])
def test_round_trip(grid) -> None:
    lon, lat = grid()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert np.all((g_lon != lon) | (g_lat != lat))  # the offset really was applied
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    # Measured ~1e-13 degrees; 1e-7 degrees is ~1 cm.
    assert np.max(np.abs(w_lon - lon)) < 1e-7
    assert np.max(np.abs(w_lat - lat)) < 1e-7


def test_round_trip_on_105e_meridian() -> None:
    # The formula's sqrt(|lon - 105|) term has an infinite slope here, in the middle of
    # Ningxia, which slows the fixed-point inverse; it must still converge.
    lon = 105.0 + np.array([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6])
    lat = np.full_like(lon, 37.5)
    w_lon, w_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(w_lon - lon)) < 1e-9
    assert np.max(np.abs(w_lat - lat)) < 1e-9


def test_inverse_residual_is_sub_millimetre() -> None:
    lon, lat = china_grid()
    w_lon, w_lat = gcj02_to_wgs84(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    residual_m = GEOD.inv(f_lon, f_lat, lon, lat)[2]
    assert np.max(residual_m) < 1e-3


def test_inverse_is_better_than_one_step_approximation() -> None:
    # Guards against the common "subtract the offset once" shortcut (metres off).
    lon, lat = 106.2309, 38.4872
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(g_lon, g_lat)
    one_step = (2 * g_lon - f_lon, 2 * g_lat - f_lat)
    assert GEOD.inv(lon, lat, *one_step)[2] > 0.01
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert GEOD.inv(lon, lat, w_lon, w_lat)[2] < 1e-4


def test_offset_magnitude_in_ningxia_is_plausible() -> None:
    lon, lat = ningxia_grid()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    distances = GEOD.inv(lon, lat, g_lon, g_lat)[2]
    assert distances.min() > 50.0
    assert distances.max() < 800.0
    # In Ningxia the shift is mostly eastward (~0.0033-0.0050 degrees); its north-south part
    # changes sign across the region (about -0.0011..+0.0011 degrees).
    assert np.all(g_lon - lon > 0.003)
    assert np.max(np.abs(g_lat - lat)) < 0.002


def test_yinchuan_offset() -> None:
    assert 300.0 < offset_m(106.2309, 38.4872) < 700.0


# --- outside China -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (139.6917, 35.6895),  # Tokyo
        (2.3522, 48.8566),  # Paris
        (-74.006, 40.7128),  # New York
        (106.0, 60.0),  # north of the box
        (106.0, -10.0),  # south of the box
        (71.9, 39.0),  # just west of the box
    ],
)
def test_outside_china_unchanged(lon: float, lat: float) -> None:
    assert not in_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_mixed_array_only_moves_points_inside_box() -> None:
    lon = np.array([106.23, 139.69, 2.35])
    lat = np.array([38.49, 35.69, 48.86])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon[0] != lon[0] and g_lat[0] != lat[0]
    np.testing.assert_array_equal(g_lon[1:], lon[1:])
    np.testing.assert_array_equal(g_lat[1:], lat[1:])


# --- scalars, arrays, broadcasting ----------------------------------------------------------


def test_scalar_in_scalar_out() -> None:
    g = wgs84_to_gcj02(106.2309, 38.4872)
    assert all(type(v) is float for v in g)
    w = gcj02_to_wgs84(*g)
    assert all(type(v) is float for v in w)


def test_arrays_match_scalars() -> None:
    lon = np.array([p[0] for p in REFERENCE_POINTS])
    lat = np.array([p[1] for p in REFERENCE_POINTS])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon.shape == lon.shape
    for i, (x, y) in enumerate(REFERENCE_POINTS):
        assert wgs84_to_gcj02(x, y) == (g_lon[i], g_lat[i])
    w_lon, w_lat = gcj02_to_wgs84(g_lon.tolist(), g_lat.tolist())  # plain lists work too
    np.testing.assert_allclose(w_lon, lon, atol=1e-9, rtol=0)
    np.testing.assert_allclose(w_lat, lat, atol=1e-9, rtol=0)


def test_broadcasting_and_2d_shapes() -> None:
    lon = np.linspace(105.0, 107.0, 6).reshape(2, 3)
    g_lon, g_lat = wgs84_to_gcj02(lon, 38.0)
    assert g_lon.shape == g_lat.shape == (2, 3)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    np.testing.assert_allclose(w_lon, lon, atol=1e-9, rtol=0)
    np.testing.assert_allclose(w_lat, 38.0, atol=1e-9, rtol=0)


def test_nan_passes_through_without_breaking_the_batch() -> None:
    w_lon, w_lat = gcj02_to_wgs84(np.array([np.nan, 106.3]), np.array([38.0, 38.9]))
    assert np.isnan(w_lon[0])
    assert wgs84_to_gcj02(w_lon[1], w_lat[1]) == pytest.approx((106.3, 38.9), abs=1e-9)


# --- independent reference: eviltransform ---------------------------------------------------


def test_forward_matches_eviltransform() -> None:
    import eviltransform  # a locked dev dependency: never skipped
    for lon, lat in REFERENCE_POINTS:
        ref_lat, ref_lon = eviltransform.wgs2gcj(lat, lon)
        g_lon, g_lat = wgs84_to_gcj02(lon, lat)
        assert abs(g_lon - ref_lon) < 1e-6, (lon, lat)
        assert abs(g_lat - ref_lat) < 1e-6, (lon, lat)


def test_inverse_recovers_eviltransform_input() -> None:
    # eviltransform's own gcj2wgs_exact stops at a 1e-6 degree residual (and is up to ~1 m
    # off), so rather than compare inverses, invert its forward output and expect its input.
    import eviltransform  # a locked dev dependency: never skipped
    for lon, lat in REFERENCE_POINTS:
        g_lat, g_lon = eviltransform.wgs2gcj(lat, lon)
        w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
        assert abs(w_lon - lon) < 1e-6, (lon, lat)
        assert abs(w_lat - lat) < 1e-6, (lon, lat)


# --- geometries ------------------------------------------------------------------------------


def parcel() -> Polygon:
    return Polygon(
        [(106.23, 38.48), (106.24, 38.481), (106.242, 38.49), (106.235, 38.495), (106.228, 38.49)],
        [[(106.233, 38.485), (106.236, 38.485), (106.236, 38.488), (106.233, 38.488)]],
    )


def test_geometry_conversion_keeps_polygon_valid_and_moves_centroid() -> None:
    wgs = parcel()
    gcj = wgs84_to_gcj02_geometry(wgs)
    assert gcj.is_valid
    assert len(gcj.interiors) == 1
    expected = wgs84_to_gcj02(wgs.centroid.x, wgs.centroid.y)
    # Only an affine map carries centroids exactly. The offset's curvature (its sin(6*pi*x)
    # term mostly) leaves ~9e-7 degrees (~8 cm) on this ~1.2 km parcel, against a ~450 m shift.
    assert gcj.centroid.x == pytest.approx(expected[0], abs=3e-6)
    assert gcj.centroid.y == pytest.approx(expected[1], abs=3e-6)
    shift_m = GEOD.inv(wgs.centroid.x, wgs.centroid.y, gcj.centroid.x, gcj.centroid.y)[2]
    assert shift_m == pytest.approx(offset_m(wgs.centroid.x, wgs.centroid.y), abs=0.3)

    back = gcj02_to_wgs84_geometry(gcj)
    assert back.is_valid
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(wgs), atol=1e-9, rtol=0
    )


def test_geometry_vertices_match_point_functions() -> None:
    gcj = parcel()
    wgs = gcj02_to_wgs84_geometry(gcj)
    coords = shapely.get_coordinates(gcj)
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    np.testing.assert_array_equal(shapely.get_coordinates(wgs), np.column_stack([lon, lat]))


def test_geometry_keeps_z() -> None:
    point = Point(106.23, 38.48, 1111.0)
    moved = wgs84_to_gcj02_geometry(point)
    assert moved.has_z
    assert moved.z == 1111.0
    assert (moved.x, moved.y) == wgs84_to_gcj02(106.23, 38.48)
    assert not gcj02_to_wgs84_geometry(Point(106.23, 38.48)).has_z


def test_geometry_array() -> None:
    geoms = np.array([parcel(), box(105.2, 36.0, 105.23, 36.02), Point(106.0, 37.0), None])
    converted = gcj02_to_wgs84_array(geoms)
    assert isinstance(converted, np.ndarray)
    assert converted.shape == (4,)
    assert converted[3] is None
    for original, result in zip(geoms[:3], converted[:3], strict=True):
        assert result.equals_exact(gcj02_to_wgs84_geometry(original), tolerance=0)
        assert result.is_valid
