"""Areas and area units: the single place where square metres become 亩 or hectares.

Planning documents in China report land in 亩 (mu) and 万亩, statistics in hectares, and
PostGIS/pyproj in square metres. Keeping every conversion here means a report can never mix
a "Chinese acre" computed one way with one computed another way.

Areas are always *ellipsoidal* (computed on the GRS80/CGCS2000 ellipsoid from lon/lat), never
planar areas in a projected CRS: Gauss-Kruger zones inflate areas by their scale distortion
(up to ~1e-3 at a 3-degree zone edge), which is enough to change a reported 亩 figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

__all__ = [
    "GEOD",
    "M2_PER_HA",
    "M2_PER_MU",
    "Area",
    "ellipsoidal_areas",
    "geodesic_area",
    "geodesic_areas",
    "sql_area_m2",
]

#: 1 市亩 = 10000/15 m² (one hectare is exactly 15 亩), i.e. 666.666... m².
M2_PER_MU: float = 10000 / 15
#: 1 hectare = 10 000 m².
M2_PER_HA: float = 10000.0

GEOD = pyproj.Geod(ellps="GRS80")
"""Geodesic calculator on the GRS80 ellipsoid, standing in for CGCS2000 (EPSG:4490).

CGCS2000 defines a = 6378137 m and f = 1/298.257222101; GRS80 has the same a and a flattening
that only differs beyond the 12th significant digit (it is derived from J2 there), so the two
semi-minor axes agree to ~0.1 mm. The resulting area difference is ~1e-11 relative — far below
any survey precision — so GRS80 *is* CGCS2000 for area purposes, and it is also the spheroid
PROJ and PostGIS attach to EPSG:4490, which keeps Python and SQL figures identical.
"""


@dataclass(frozen=True, slots=True)
class Area:
    """An area, stored canonically in square metres so that unit rounding happens only on output."""

    m2: float

    @classmethod
    def from_mu(cls, mu: float) -> Area:
        return cls(mu * M2_PER_MU)

    @classmethod
    def from_ha(cls, ha: float) -> Area:
        return cls(ha * M2_PER_HA)

    @property
    def mu(self) -> float:
        return self.m2 / M2_PER_MU

    @property
    def ha(self) -> float:
        return self.m2 / M2_PER_HA

    @property
    def km2(self) -> float:
        return self.m2 / 1e6

    @property
    def wanmu(self) -> float:
        """万亩 (10 000 亩): the unit provincial plans use for farmland quotas."""
        return self.mu / 1e4

    def __add__(self, other: object) -> Area:
        if isinstance(other, Area):
            return Area(self.m2 + other.m2)
        return NotImplemented

    def __radd__(self, other: object) -> Area:
        # Lets the builtin sum() work: it starts from the integer 0.
        if isinstance(other, int | float) and other == 0:
            return self
        return NotImplemented

    def as_dict(self) -> dict[str, float]:
        """API/report representation; ha keeps 4 decimals so that it still resolves 1 m²."""
        return {
            "area_m2": round(self.m2, 2),
            "area_mu": round(self.mu, 2),
            "area_ha": round(self.ha, 4),
        }


def _polygon_area_m2(polygon: shapely.Polygon) -> float:
    # pyproj adds hole areas *signed*, trusting that holes wind opposite to the shell; data from
    # shapefiles and GeoJSON often break that rule. Orienting first (shell CCW, holes CW) makes the
    # result independent of the input winding, and abs() covers the shell sign.
    oriented = shapely.orient_polygons(polygon, exterior_cw=False)
    area, _perimeter = GEOD.geometry_area_perimeter(oriented)
    return abs(area)


def _area_m2(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    if isinstance(geom, shapely.Polygon):
        return _polygon_area_m2(geom)
    if isinstance(geom, shapely.MultiPolygon | shapely.GeometryCollection):
        return sum(_area_m2(part) for part in geom.geoms)
    # Points and lines have no area. pyproj would treat a LineString's vertices as a closed ring
    # and return a non-zero "area", so they must not reach it.
    return 0.0


def geodesic_area(geom: BaseGeometry) -> Area:
    """Ellipsoidal area of a lon/lat geometry (CGCS2000/EPSG:4490 or CRS84 axis order).

    Edges are geodesics on GRS80, the same model as PostGIS ``ST_Area(geography, true)``, so
    the figure matches :func:`sql_area_m2` within floating-point noise. Overlapping parts of a
    MultiPolygon are counted twice, as in PostGIS; dissolve first if that matters.
    """
    return Area(_area_m2(geom))


def geodesic_areas(geoms: Iterable[BaseGeometry | None] | np.ndarray) -> np.ndarray:
    """Vectorised :func:`geodesic_area`, in m², for a geometry array or GeoSeries values.

    Missing geometries (None) yield NaN rather than 0 so that a gap in the data cannot pass as
    a legitimately empty parcel.
    """
    return np.array(
        [np.nan if g is None else _area_m2(g) for g in np.asarray(geoms, dtype=object).ravel()],
        dtype=float,
    )


#: Geometries wider than this (degrees, ~2 km) get the exact geodesic computation.
_EXACT_ABOVE_DEG = 0.02


def ellipsoidal_areas(geoms: np.ndarray) -> np.ndarray:
    """Ellipsoidal areas (m²) of many lon/lat geometries at once, for bulk loads.

    :func:`geodesic_areas` loops in Python (~20 µs a polygon) and PostGIS's spheroidal
    ``ST_Area`` is no faster; for 200,000 parcels that dominates an import. Here the work is
    vectorised: every vertex is projected (in numpy) to a GRS80 Lambert azimuthal
    *equal-area* projection centred on its own geometry, and areas are measured in the
    plane. Equal-area projections preserve area exactly; what is
    left is the gap between a straight projected edge and the geodesic, which grows with the
    square of the edge length: below ~1e-7 relative for parcels of a few hundred metres and
    ~1e-5 at the 2 km cut-off, above which the exact :func:`geodesic_area` is used.
    """
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    out = np.where(missing, np.nan, 0.0)
    present = ~missing & ~shapely.is_empty(np.where(missing, None, geoms))
    if not present.any():
        return out
    work = geoms[present]
    bounds = shapely.bounds(work)
    areas = np.empty(len(work), dtype=float)
    # Long edges bow away from the geodesic once projected; the few large geometries
    # (red-line zones, districts) take the exact per-geometry route instead.
    big = np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) > _EXACT_ABOVE_DEG
    areas[big] = [_area_m2(g) for g in work[big]]
    small = np.flatnonzero(~big)
    if len(small):
        areas[small] = _projected_areas(work[small], bounds[small])
    out[present] = areas
    out[shapely.is_missing(geoms)] = np.nan
    return out


# GRS80 (= CGCS2000 for areas, see GEOD) eccentricity and the authalic-sphere constants.
_A = 6378137.0
_E2 = 0.00669438002290
_E = math.sqrt(_E2)


def _authalic_q(sin_phi: np.ndarray | float) -> np.ndarray | float:
    """Snyder's q(φ): proportional to the area between the equator and latitude φ."""
    return (1 - _E2) * (
        sin_phi / (1 - _E2 * sin_phi**2)
        - np.log((1 - _E * sin_phi) / (1 + _E * sin_phi)) / (2 * _E)
    )


_QP = float(_authalic_q(1.0))
_RQ = _A * math.sqrt(_QP / 2)  # radius of the sphere with the ellipsoid's area


def _authalic_sin_cos(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of the authalic latitude β, which maps GRS80 to a sphere of equal area."""
    sin_b = np.clip(_authalic_q(np.sin(np.radians(lat))) / _QP, -1, 1)
    return sin_b, np.sqrt(1 - sin_b**2)


def _laea_xy(lon: np.ndarray, lat: np.ndarray, lon0: np.ndarray, lat0: np.ndarray,
             owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lambert azimuthal equal-area coordinates (m) on the GRS80 authalic sphere, each vertex
    centred on its geometry's (lon0, lat0)[owner] (Snyder 1987, eq. 24-2 ff. with D = 1).

    The ellipsoid is mapped to the authalic sphere by authalic latitude, which preserves
    area exactly, and LAEA preserves area exactly; dropping Snyder's D stretch changes
    shapes but not areas. Centring every geometry on itself keeps its edges where the
    projection is least distorted, so no grouping or PROJ objects are needed.
    """
    sin_b, cos_b = _authalic_sin_cos(lat)
    sin_b0, cos_b0 = (v[owner] for v in _authalic_sin_cos(lat0))
    dlon = np.radians(lon - lon0[owner])
    cos_dlon = np.cos(dlon)
    k = _RQ * np.sqrt(2 / (1 + sin_b0 * sin_b + cos_b0 * cos_b * cos_dlon))
    return k * cos_b * np.sin(dlon), k * (cos_b0 * sin_b - sin_b0 * cos_b * cos_dlon)


def _centres(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2


def _ring_areas(x: np.ndarray, y: np.ndarray, ring: np.ndarray, n: int) -> np.ndarray:
    """Unsigned shoelace area of each of ``n`` rings; ``ring`` is each vertex's ring number."""
    same_ring = ring[1:] == ring[:-1]  # pairs straddling two rings are not edges
    cross = (x[:-1] * y[1:] - x[1:] * y[:-1])[same_ring]
    return np.abs(np.bincount(ring[:-1][same_ring], weights=cross, minlength=n)) / 2


def _projected_areas(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Shoelace areas in an equal-area projection centred on each geometry, in numpy.

    Plain polygons (the bulk of any parcel layer) go straight from their coordinate array;
    only polygons with holes and multipolygons are split into rings first, since building
    part and ring objects costs more than all the arithmetic.
    """
    lon0, lat0 = _centres(bounds)
    areas = np.zeros(len(geoms))
    simple = (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (
        shapely.get_num_interior_rings(geoms) == 0)
    if simple.any():
        idx = np.flatnonzero(simple)
        coords, owner = shapely.get_coordinates(geoms[idx], return_index=True)
        x, y = _laea_xy(coords[:, 0], coords[:, 1], lon0[idx], lat0[idx], owner)
        areas[idx] = _ring_areas(x, y, owner, len(idx))
    if (~simple).any():
        idx = np.flatnonzero(~simple)
        parts, part_geom = shapely.get_parts(geoms[idx], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        owner = part_geom[ring_part[coord_ring]]
        x, y = _laea_xy(coords[:, 0], coords[:, 1], lon0[idx], lat0[idx], owner)
        ring_area = _ring_areas(x, y, coord_ring, len(rings))
        is_shell = np.ones(len(rings), dtype=bool)
        is_shell[1:] = ring_part[1:] != ring_part[:-1]  # the first ring of each polygon
        part_area = np.bincount(ring_part, weights=np.where(is_shell, ring_area, -ring_area),
                                minlength=len(parts))
        areas[idx] = np.bincount(part_geom, weights=part_area, minlength=len(idx))
    return areas




def sql_area_m2(geom: ColumnElement | None = None) -> ColumnElement:
    """SQLAlchemy expression for the ellipsoidal area (m²) of a lon/lat geometry (a column or
    expression; default the column named ``geom``).

    Casting to ``geography`` keeps the column's SRID, and PostGIS then integrates on the
    spheroid of that SRID (GRS80 for EPSG:4490) with GeographicLib — the same algorithm and
    ellipsoid as :data:`GEOD` — so database and Python areas agree. ``true`` selects the
    spheroid rather than the faster sphere, whose areas are ~0.08% too small at Ningxia's
    latitude and off by up to ~0.5% elsewhere in China — more than many quota tolerances.
    An expression, not SQL text: identifiers are quoted by SQLAlchemy (the SQL policy).
    """
    import sqlalchemy as sa

    target = sa.column("geom") if geom is None else geom
    return sa.func.ST_Area(sa.func.geography(target), sa.true())
