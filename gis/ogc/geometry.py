"""Geometry coming into the OGC API and going out of it.

In: bounding boxes (the ``bbox`` parameter, CQL2 ``BBOX``) and CQL2 geometry literals are
checked against their CRS before they reach SQL (a latitude of 180, a ring of three
positions, a self-intersecting polygon, south above north are refused with a message, not
left to a database error), and become expressions in the storage CRS (EPSG:4490). Positions
are written in the CRS's axis order (latitude first in EPSG:4490/4326, northing first in
EPSG:4544: Part 2); a geographic box whose west edge is east of its east edge crosses the
antimeridian and becomes two boxes.

Out: GeoJSON polygons follow RFC 7946's right-hand rule (outer rings counterclockwise, holes
clockwise). The items query orients in SQL (``ST_ForcePolygonCCW``); :func:`rfc7946` does
the same for geometries built in Python (siting overlaps, parsed footprints).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa

from gis.crs import transformer
from gis.errors import InvalidParameter
from gis.messages import msg
from gis.ogc.crs import ServedCRS

GEOGRAPHIC_SRIDS = frozenset({4490, 4326})
STORAGE_SRID = 4490
_MIN_POSITIONS = {"LineString": 2, "ring": 4}


def _format(position: tuple[float, ...]) -> str:
    return " ".join(f"{v:g}" for v in position)


def check_positions(positions: list[tuple[float, float]], crs: ServedCRS,
                    error: type[InvalidParameter], parameter: str) -> None:
    """Refuse positions (in the CRS's axis order) that are not finite or lie outside the
    CRS's domain: longitude -180..180 and latitude -90..90 for geographic CRSs; for EPSG:4544
    coordinates whose lon/lat would be outside that range (or not computable)."""
    for position in positions:
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in position):
            raise error(msg("ogc.position_not_finite", position=_format(position)),
                        parameter=parameter)
    xy = np.array([(p[1], p[0]) if crs.swap_axes else (p[0], p[1]) for p in positions],
                  dtype=float).reshape(-1, 2)
    if crs.srid in GEOGRAPHIC_SRIDS:
        lon, lat = xy[:, 0], xy[:, 1]
    else:
        lon, lat = transformer(crs.srid, "OGC:CRS84").transform(xy[:, 0], xy[:, 1])
        lon, lat = np.asarray(lon), np.asarray(lat)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        position = positions[int(np.flatnonzero(bad)[0])]
        raise error(msg("ogc.position_out_of_range", position=_format(position),
                        crs=crs.label), parameter=parameter)


def _positions(geometry: dict[str, Any]) -> Iterator[tuple[float, ...]]:
    kind, coords = geometry["type"], geometry.get("coordinates")
    if kind == "GeometryCollection":
        for member in geometry["geometries"]:
            yield from _positions(member)
    elif kind == "Point":
        yield tuple(coords)
    elif kind in ("LineString", "MultiPoint"):
        yield from (tuple(p) for p in coords)
    elif kind in ("Polygon", "MultiLineString"):
        yield from (tuple(p) for part in coords for p in part)
    else:
        yield from (tuple(p) for polygon in coords for ring in polygon for p in ring)


def _check_structure(geometry: dict[str, Any], error: type[InvalidParameter],
                     parameter: str) -> None:
    """Enough positions of two or three numbers, and closed rings."""
    kind = geometry.get("type")

    def bad(reason: str) -> InvalidParameter:
        return error(msg("ogc.geometry_literal", kind=str(kind), reason=msg(reason)),
                     parameter=parameter)

    def position(p: Any) -> None:
        if not isinstance(p, list | tuple) or len(p) not in (2, 3):
            raise bad("ogc.geometry_position")

    def line(ps: Any, minimum: int, ring: bool) -> None:
        if not isinstance(ps, list | tuple) or len(ps) < minimum:
            raise bad("ogc.geometry_ring_short" if ring else "ogc.geometry_line_short")
        for p in ps:
            position(p)
        if ring and list(ps[0])[:2] != list(ps[-1])[:2]:
            raise bad("ogc.geometry_ring_open")

    def polygon(rings: Any) -> None:
        if not isinstance(rings, list | tuple) or not rings:
            raise bad("ogc.geometry_ring_short")
        for ring in rings:
            line(ring, 4, True)

    coords = geometry.get("coordinates")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list | tuple) or not members:
            raise bad("ogc.geometry_empty")
        for member in members:
            if not isinstance(member, dict) or member.get("type") == "GeometryCollection":
                raise bad("ogc.geometry_nested")
            _check_structure(member, error, parameter)
    elif kind == "Point":
        position(coords)
    elif kind == "MultiPoint":
        line(coords, 1, False)
    elif kind == "LineString":
        line(coords, 2, False)
    elif kind == "MultiLineString":
        if not isinstance(coords, list | tuple) or not coords:
            raise bad("ogc.geometry_empty")
        for part in coords:
            line(part, 2, False)
    elif kind == "Polygon":
        polygon(coords)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list | tuple) or not coords:
            raise bad("ogc.geometry_empty")
        for part in coords:
            polygon(part)
    else:
        raise bad("ogc.geometry_position")


def _swapped(geometry: dict[str, Any]) -> dict[str, Any]:
    def swap(coords: Any) -> Any:
        if coords and isinstance(coords[0], int | float):
            return [coords[1], coords[0], *coords[2:]]
        return [swap(c) for c in coords]

    if geometry["type"] == "GeometryCollection":
        return {"type": "GeometryCollection",
                "geometries": [_swapped(g) for g in geometry["geometries"]]}
    return {"type": geometry["type"], "coordinates": swap(geometry["coordinates"])}


def geometry_literal(geometry: dict[str, Any], crs: ServedCRS,
                     error: type[InvalidParameter], parameter: str = "filter"
                     ) -> sa.ColumnElement:
    """A GeoJSON-like geometry (positions in the CRS's axis order) as a bound expression in
    the storage CRS, after checking its structure, its positions and (polygons) its
    validity."""
    _check_structure(geometry, error, parameter)
    check_positions(list(_positions(geometry)), crs, error, parameter)
    xy = _swapped(geometry) if crs.swap_axes else {
        k: v for k, v in geometry.items() if k in ("type", "coordinates", "geometries")}
    shape = shapely.geometry.shape(xy)
    if not shapely.is_valid(shape):
        raise error(msg("ogc.geometry_literal", kind=geometry["type"], reason=msg(
            "ogc.geometry_invalid", reason=shapely.is_valid_reason(shape))),
            parameter=parameter)
    literal = sa.func.ST_SetSRID(
        sa.func.ST_GeomFromGeoJSON(sa.bindparam(None, json.dumps(xy))), crs.srid)
    return literal if crs.srid == STORAGE_SRID else sa.func.ST_Transform(literal, STORAGE_SRID)


def envelope(box: tuple[float, float, float, float], crs: ServedCRS,
             error: type[InvalidParameter], parameter: str) -> sa.ColumnElement:
    """A box given as (min, min, max, max) in the CRS's axis order as an expression in the
    storage CRS. Geographic: latitudes -90..90 with south <= north, longitudes -180..180;
    west > east crosses the antimeridian (two boxes, one MultiPolygon). Projected: min <= max
    on both axes."""
    a1, b1, a2, b2 = box
    check_positions([(a1, b1), (a2, b2)], crs, error, parameter)
    x1, y1, x2, y2 = (b1, a1, b2, a2) if crs.swap_axes else (a1, b1, a2, b2)
    if y1 > y2 or (x1 > x2 and crs.srid not in GEOGRAPHIC_SRIDS):
        raise error(msg("ogc.bbox_inverted", value=",".join(f"{v:g}" for v in box),
                        crs=crs.label), parameter=parameter)

    def make(west: float, east: float) -> sa.ColumnElement:
        return sa.func.ST_MakeEnvelope(*(sa.bindparam(None, float(v), type_=sa.Float)
                                         for v in (west, y1, east, y2)), crs.srid)

    if x1 <= x2:
        geom = make(x1, x2)
    else:  # across the antimeridian
        geom = sa.func.ST_Multi(sa.func.ST_Collect(make(x1, 180.0), make(-180.0, x2)))
    return geom if crs.srid == STORAGE_SRID else sa.func.ST_Transform(geom, STORAGE_SRID)


def rfc7946(geometry: dict[str, Any] | shapely.Geometry | None) -> dict[str, Any] | None:
    """A GeoJSON geometry with RFC 7946 ring orientation: exterior rings counterclockwise,
    interior rings clockwise (lines and points unchanged)."""
    if geometry is None:
        return None
    shape = geometry if isinstance(geometry, shapely.Geometry) \
        else shapely.geometry.shape(geometry)
    return shapely.geometry.mapping(shapely.orient_polygons(shape, exterior_cw=False))
