"""Geometry validation and repair, in one place.

Layers store MultiPolygons only. Invalid polygons (self-intersections, bow-ties, bad rings)
are common in survey data; they are repaired with GEOS ``make_valid`` keeping only the
polygonal parts, and the repairs are counted so a user sees how many were touched. With
``strict`` nothing is repaired: the load is refused with the failing rows and GEOS's reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely

from gis.errors import InvalidGeometry, WrongGeometryType
from gis.messages import Joined, Message, msg

_POLYGONAL = {shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON}
_MAX_LISTED = 20
#: GEOS's reasons (``is_valid_reason``, e.g. ``Self-intersection[0.5 0.5]``) that the
#: catalogue names in every language: reason -> key under ``geometry.reason``.
_REASONS = {
    "Self-intersection": "self_intersection", "Ring Self-intersection": "ring_self_intersection",
    "Too few points in geometry component": "too_few_points",
    "Hole lies outside shell": "hole_outside_shell", "Holes are nested": "nested_holes",
    "Interior is disconnected": "disconnected_interior", "Nested shells": "nested_shells",
    "Duplicate Rings": "duplicate_rings", "Invalid Coordinate": "invalid_coordinate",
    "Ring is not closed": "ring_not_closed", "Repeated Point": "repeated_point",
}
_REASON = re.compile(r"^(?P<reason>[^\[]*)(?P<where>\[.*\])?$")


def _reason(row: int, why: str) -> Message:
    """One row's GEOS reason, named in the catalogue where it is a known one."""
    match = _REASON.match(why)
    reason, where = (match["reason"], match["where"] or "") if match else (why, "")
    key = _REASONS.get(reason)
    return msg("geometry.invalid_row", row=row, reason=msg(f"geometry.reason.{key}")
               if key else reason, where=where)


@dataclass(frozen=True)
class ValidatedGeometries:
    geoms: np.ndarray
    repaired: int
    repaired_rows: list[int]


def polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons inside a geometry (a collection from make_valid may hold lines too)."""
    type_id = shapely.get_type_id(geom)
    if type_id in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON):
        return geom
    if type_id == shapely.GeometryType.GEOMETRYCOLLECTION:
        parts = [polygonal_part(g) for g in shapely.get_parts(geom)]
        polys = [p for part in parts if not _is_empty(part) for p in shapely.get_parts(part)]
        return shapely.multipolygons(polys) if polys else shapely.Polygon()
    return shapely.Polygon()


def _is_empty(geom: shapely.Geometry) -> bool:
    return geom is None or shapely.is_empty(geom)


def validate_polygons(
    geoms: np.ndarray, row_ids: np.ndarray, strict: bool = False
) -> ValidatedGeometries:
    """Check and repair ``geoms`` (aligned with ``row_ids`` for error messages)."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        rows = row_ids[missing][:_MAX_LISTED].tolist()
        raise InvalidGeometry(msg("geometry.missing", count=int(missing.sum()), rows=rows),
                              rows=rows)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    not_finite = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    if len(not_finite):  # GEOS fails on NaN (make_valid raised, a traceback in `gis load`)
        rows = row_ids[not_finite][:_MAX_LISTED].tolist()
        raise InvalidGeometry(msg("security.geometry_not_finite", count=len(not_finite),
                                  rows=rows), rows=rows)
    type_ids = shapely.get_type_id(geoms)
    wrong = ~np.isin(type_ids, list(_POLYGONAL))
    if wrong.any():
        found = sorted({shapely.GeometryType(t).name for t in np.unique(type_ids[wrong])})
        rows = row_ids[wrong][:_MAX_LISTED].tolist()
        raise WrongGeometryType(
            msg("geometry.wrong_type", count=int(wrong.sum()), types=Joined(tuple(found)),
                rows=rows),
            rows=rows, types=found,
        )
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    valid = shapely.is_valid(geoms)
    if valid.all():
        return ValidatedGeometries(geoms, 0, [])
    invalid_idx = np.flatnonzero(~valid)
    if strict:
        reasons = shapely.is_valid_reason(geoms[invalid_idx[:_MAX_LISTED]]).tolist()
        listed = dict(zip(row_ids[invalid_idx[:_MAX_LISTED]].tolist(), reasons, strict=True))
        listing = Joined(tuple(_reason(r, why) for r, why in listed.items()), strong=True)
        raise InvalidGeometry(
            msg("geometry.invalid_strict", count=len(invalid_idx), listing=listing),
            rows=list(listed), reasons=listed,
        )
    repaired = shapely.make_valid(geoms[invalid_idx])
    repaired = np.array([polygonal_part(g) for g in repaired], dtype=object)
    lost = shapely.is_empty(repaired)
    if lost.any():
        rows = row_ids[invalid_idx[lost]][:_MAX_LISTED].tolist()
        raise InvalidGeometry(msg("geometry.beyond_repair", count=int(lost.sum()), rows=rows),
                              rows=rows)
    geoms = geoms.copy()
    geoms[invalid_idx] = repaired
    return ValidatedGeometries(geoms, len(invalid_idx), row_ids[invalid_idx].tolist())
