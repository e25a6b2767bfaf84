"""Project footprints as planners hand them in: GeoJSON or WKT, in whatever CRS they use.

Everything that can be wrong with a footprint is refused here, before any overlay, with a
message that says what to fix: empty, not polygonal (a line is accepted only with a width to
buffer it by), invalid beyond repair, too large or with too many vertices for a project, or
in an unknown CRS. GCJ-02 (AMap-digitized) footprints are converted first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import shape

from gis.crs import STORAGE_CRS, gauss_kruger_epsg, parse_crs, to_storage, transformer
from gis.errors import InputError, InvalidGeometry, WrongGeometryType
from gis.layers.validation import polygonal_part
from gis.messages import Foreign, Label, msg
from gis.rules.models import SitingParameters
from gis.units import Area, geodesic_area

_LINEAR = {"LineString", "MultiLineString"}


@dataclass(frozen=True)
class Footprint:
    """A validated footprint in EPSG:4490 with the facts the checks need."""

    geometry: shapely.MultiPolygon
    area: Area
    vertices: int
    source_crs: str
    repaired: bool
    buffered_from_line: bool
    #: Length over width of the footprint read as a corridor (perimeter² / 4 area: about
    #: 4 for a square, length/width for a long strip, bends and all).
    elongation: float
    #: Its mean width as a corridor (2 area / perimeter), m.
    mean_width_m: float


def _geometry_from_geojson(data: dict[str, Any]) -> shapely.Geometry:
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features") or []
        if not features:
            raise InputError(msg("footprint.collection_empty"))
        return shapely.union_all([_geometry_from_geojson(f) for f in features])
    if kind == "Feature":
        if not data.get("geometry"):
            raise InputError(msg("footprint.feature_without_geometry"))
        return _geometry_from_geojson(data["geometry"])
    try:
        return shape(data)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError,
            shapely.errors.ShapelyError) as exc:  # e.g. an unknown type "Polygon\x00"
        reason = Foreign(str(exc), msg("footprint.bad_geojson_account"))
        raise InputError(msg("footprint.bad_geojson", reason=reason)) from exc


def read_geometry(value: str | dict[str, Any]) -> shapely.Geometry:
    """GeoJSON (geometry, Feature, FeatureCollection; dict or text) or WKT."""
    if isinstance(value, dict):
        return _geometry_from_geojson(value)
    text = value.strip()
    if not text:
        raise InputError(msg("footprint.empty"))
    if text.startswith("{"):
        try:
            return _geometry_from_geojson(json.loads(text))
        except json.JSONDecodeError as exc:
            reason = Foreign(exc.msg, msg("footprint.bad_json_account"))
            raise InputError(msg("footprint.bad_json", reason=reason)) from exc
    try:
        return shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        reason = Foreign(str(exc), msg("footprint.bad_wkt_account"))
        raise InputError(msg("footprint.bad_wkt", reason=reason)) from exc


def check_coordinates(geoms: np.ndarray, filename: str, max_vertices: int) -> None:
    """Uploaded footprint geometries: every coordinate finite (a NaN reached the JSON
    answer, a 500) and at most ``max_vertices`` in all (a million were accepted, +350 MB)."""
    coords = shapely.get_coordinates(geoms)
    if len(coords) > max_vertices:
        raise InputError(msg("security.too_many_vertices", filename=filename,
                             vertices=len(coords), limit=max_vertices))
    if not np.isfinite(coords).all():
        raise InvalidGeometry(msg("security.not_finite", filename=filename))


def _gk(lon: float) -> pyproj.Transformer:
    return transformer(STORAGE_CRS, gauss_kruger_epsg(lon))


def _project(geom: shapely.Geometry, transformer: pyproj.Transformer) -> shapely.Geometry:
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def prepare_footprint(
    value: str | dict[str, Any],
    crs: str,
    params: SitingParameters,
    line_width_m: float | None = None,
    extent: tuple[float, float, float, float] = (73.0, 3.0, 136.0, 54.0),
) -> Footprint:
    """Parse, transform to EPSG:4490, validate and measure a footprint."""
    geom = read_geometry(value)
    if geom is None or geom.is_empty:
        raise InvalidGeometry(msg("footprint.empty_geometry"))
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise InvalidGeometry(msg("footprint.not_finite"))
    source = parse_crs(crs)
    geom = to_storage(np.array([shapely.force_2d(geom)], dtype=object), source,
                      np.array([1]), extent)[0]
    buffered = False
    if geom.geom_type in _LINEAR:
        if not line_width_m or line_width_m <= 0:
            raise WrongGeometryType(msg("footprint.line_without_width"))
        centroid = geom.centroid
        to_gk = _gk(centroid.x)
        corridor = _project(geom, to_gk).buffer(line_width_m / 2, cap_style="flat")
        back = transformer(gauss_kruger_epsg(centroid.x), STORAGE_CRS)
        geom = _project(corridor, back)
        buffered = True
    elif geom.geom_type not in {"Polygon", "MultiPolygon", "GeometryCollection"}:
        raise WrongGeometryType(msg("footprint.not_polygon",
                                    geometry_type=Label("geometry_type", geom.geom_type)))
    repaired = not geom.is_valid
    geom = polygonal_part(shapely.make_valid(geom) if repaired else geom)
    if geom.is_empty:
        raise InvalidGeometry(msg("footprint.no_area"))
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > params.max_vertices:
        raise InputError(msg("footprint.too_many_vertices", vertices=vertices,
                             limit=params.max_vertices))
    area = geodesic_area(geom)
    if area.m2 > params.max_footprint_m2:
        raise InputError(msg("footprint.too_large", area_km2=area.m2 / 1e6,
                             limit_km2=params.max_footprint_m2 / 1e6))
    multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
    elongation, width = _shape_of(multi)
    return Footprint(multi, area, vertices, source.label, repaired, buffered, elongation, width)


def _shape_of(geom: shapely.MultiPolygon) -> tuple[float, float]:
    """The footprint read as a corridor in its GK zone: elongation (perimeter² / 4 area) and
    mean width (2 area / perimeter, m). Unlike a bounding rectangle, these follow a road or
    pipeline around its bends (a bent road's rectangle is as wide as the bend)."""
    projected = _project(geom, _gk(geom.centroid.x))
    area, perimeter = projected.area, projected.length
    if area <= 0 or perimeter <= 0:
        return 1.0, 0.0
    return perimeter ** 2 / (4 * area), 2 * area / perimeter
