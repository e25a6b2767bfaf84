"""GCJ-02 ("Mars coordinates") <-> WGS84/CGCS2000 conversion.

Web maps licensed in China (AMap/Gaode, Tencent, and Baidu before its own BD-09 step) publish
coordinates in GCJ-02: WGS84 lon/lat plus a deliberately non-linear offset of a few hundred
metres. Field data digitised on such basemaps must be converted before it can be overlaid on
CGCS2000 planning layers (CGCS2000 and WGS84 agree to well below a metre, far less than the
GCJ offset, so they are treated as the same here).

The forward transform follows the widely published formula: an offset in "metres" from two
empirical polynomial-plus-sine functions of (lon - 105, lat - 35), turned into degrees with the
meridian and prime-vertical radii of the Krasovsky 1940 ellipsoid. There is no closed-form
inverse, so :func:`gcj02_to_wgs84` solves it by fixed-point iteration.

All functions accept scalars or numpy arrays (broadcast against each other); scalar inputs
give Python floats back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = [
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_array",
    "gcj02_to_wgs84_geometry",
    "in_china",
    "wgs84_to_gcj02",
    "wgs84_to_gcj02_geometry",
]

# Krasovsky 1940: the ellipsoid of the obfuscation formula (not of CGCS2000 or WGS84).
_A = 6378245.0
_EE = 0.00669342162296594323

# The conventional rough bounding box of China. Outside it, GCJ-02 services return WGS84
# unchanged, so the conversions must do the same.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_PI = np.pi

Coord = float | NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether the offset applies: the conventional box, not China's real border."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _periodic(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # Shared high-frequency term of both offset functions; the obfuscation is periodic in lon.
    return (20.0 * np.sin(6.0 * _PI * x) + 20.0 * np.sin(2.0 * _PI * x)) * 2.0 / 3.0


def _shift_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Northward offset in pseudo-metres for x = lon - 105, y = lat - 35."""
    poly = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    waves = (20.0 * np.sin(_PI * y) + 40.0 * np.sin(_PI * y / 3.0)) * 2.0 / 3.0
    waves += (160.0 * np.sin(_PI * y / 12.0) + 320.0 * np.sin(_PI * y / 30.0)) * 2.0 / 3.0
    return poly + _periodic(x) + waves


def _shift_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Eastward offset in pseudo-metres for x = lon - 105, y = lat - 35."""
    poly = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    waves = (20.0 * np.sin(_PI * x) + 40.0 * np.sin(_PI * x / 3.0)) * 2.0 / 3.0
    waves += (150.0 * np.sin(_PI * x / 12.0) + 300.0 * np.sin(_PI * x / 30.0)) * 2.0 / 3.0
    return poly + _periodic(x) + waves


def _offset_deg(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS84 at a WGS84 point, in degrees, ignoring the China box."""
    x, y = lon - 105.0, lat - 35.0
    phi = np.radians(lat)
    w2 = 1.0 - _EE * np.sin(phi) ** 2
    w = np.sqrt(w2)
    # Metres to degrees with the Krasovsky meridian radius M and parallel radius N cos(phi).
    meridian_radius = _A * (1.0 - _EE) / (w2 * w)
    parallel_radius = _A / w * np.cos(phi)
    dlat = np.degrees(_shift_lat(x, y) / meridian_radius)
    dlon = np.degrees(_shift_lon(x, y) / parallel_radius)
    return dlon, dlat


def _as_arrays(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a, lat_a, lon_a.ndim == 0


def _out(lon: NDArray[np.float64], lat: NDArray[np.float64], scalar: bool) -> tuple[Coord, Coord]:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS84 (or CGCS2000) lon/lat to GCJ-02; points outside the China box pass through."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _offset_deg(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    out_lon = np.where(inside, lon_a + dlon, lon_a)
    out_lat = np.where(inside, lat_a + dlat, lat_a)
    return _out(out_lon, out_lat, scalar)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, tol: float = 1e-9, max_iter: int = 20
) -> tuple[Coord, Coord]:
    """GCJ-02 lon/lat to WGS84, inverting :func:`wgs84_to_gcj02` to sub-millimetre accuracy.

    The common one-step inverse (subtract the offset evaluated at the GCJ point) is off by up
    to ~2.5 m because the offset varies with position. Here w <- w - (f(w) - g) is iterated
    instead. The offset's gradient is below 7e-3 in the box, so each step shrinks the error
    by about two orders of magnitude: the default ``tol`` of 1e-9 degrees (~0.1 mm) is met
    after 3 iterations, and the error then left is below 1e-10 degrees (~10 um). The one
    exception is the 105°E meridian, right through Ningxia, where the formula's sqrt(|lon-105|)
    term has an infinite slope; convergence there is slower but the measured error stays
    below 1e-10 degrees too. If ``max_iter`` runs out the last iterate is returned.

    Points outside the China box (tested on the GCJ input) pass through. Within a few hundred
    metres of the box edge the forward and inverse may disagree about the box; that is inherent
    in the convention, and irrelevant for Ningxia.
    """
    g_lon, g_lat, scalar = _as_arrays(lon, lat)
    dlon, dlat = _offset_deg(g_lon, g_lat)
    w_lon, w_lat = g_lon - dlon, g_lat - dlat
    for _ in range(max_iter):
        dlon, dlat = _offset_deg(w_lon, w_lat)
        new_lon = g_lon - dlon
        new_lat = g_lat - dlat
        change = max(_max_abs(new_lon - w_lon), _max_abs(new_lat - w_lat))
        w_lon, w_lat = new_lon, new_lat
        if change < tol:
            break
    inside = in_china(g_lon, g_lat)
    return _out(np.where(inside, w_lon, g_lon), np.where(inside, w_lat, g_lat), scalar)


def _max_abs(values: NDArray[np.float64]) -> float:
    # nanmax so that one NaN coordinate does not keep the whole batch iterating.
    return float(np.nanmax(np.abs(values), initial=0.0))


def _coords_fn(
    convert: Callable[[ArrayLike, ArrayLike], tuple[Coord, Coord]],
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        # Converts x/y and leaves any z column untouched.
        out = np.array(coords, dtype=float, copy=True)
        out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1])
        return out

    return apply


_TO_WGS84 = _coords_fn(gcj02_to_wgs84)
_TO_GCJ02 = _coords_fn(wgs84_to_gcj02)


def gcj02_to_wgs84_geometry(geom: BaseGeometry) -> BaseGeometry:
    """A shapely geometry traced on an AMap/Tencent basemap, moved onto WGS84/CGCS2000.

    Vertices are converted one by one; edges stay straight in lon/lat. The offset's gradient
    is below 7e-3 (bar a sliver along 105°E, see :func:`gcj02_to_wgs84`), so shapes distort
    by less than 1% of their size — areas change by up to ~0.7%, which is real: GCJ-02 is not
    area-preserving — and valid geometries stay valid unless they are nearly degenerate.
    Z values are preserved.
    """
    return shapely.transform(geom, _TO_WGS84, include_z=None)


def wgs84_to_gcj02_geometry(geom: BaseGeometry) -> BaseGeometry:
    """A WGS84/CGCS2000 shapely geometry shifted for display on a GCJ-02 basemap."""
    return shapely.transform(geom, _TO_GCJ02, include_z=None)


def gcj02_to_wgs84_array(geoms: ArrayLike) -> NDArray[np.object_]:
    """:func:`gcj02_to_wgs84_geometry` for a numpy array of geometries in one vectorised call."""
    return shapely.transform(np.asarray(geoms, dtype=object), _TO_WGS84, include_z=None)
