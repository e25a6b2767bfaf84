"""``POST /api/v1/footprints/parse``: read an uploaded footprint file into GeoJSON (CRS84).

The siting page lets planners upload what they have: GeoJSON, a zipped Shapefile (often GBK
without a ``.cpg``), KML from Google Earth/Ovi, the boundary-point coordinate files of land
applications (``.txt``, Gauss-Kruger X/Y; the zone from the file or ``?zone=``) and WKT
(``.wkt``; see :mod:`gis.layers.coordinates`). Parsing goes through the same reader as the
importer (pyogrio with encoding detection, CRS from the file) rather than a browser library,
so a footprint reads here exactly as it would with ``gis load``. The body is the raw file; the
name (``?filename=``) says the format. Nothing is stored.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyogrio
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from gis.analysis.footprint import check_coordinates
from gis.crs import CRS84, check_lonlat_range, parse_crs, transformer
from gis.errors import EmptySource, InputError, MissingCRS, UnsupportedFormat
from gis.layers.coordinates import TEXT_SUFFIXES, ZONES, read_text_footprints
from gis.layers.sources import read_source
from gis.messages import Foreign, msg
from gis.ogc.geometry import rfc7946
from gis.rules import load_profile

router = APIRouter(prefix="/footprints", tags=["footprints"])

SUFFIXES = (".geojson", ".json", ".zip", ".kml", ".gpkg", *TEXT_SUFFIXES)
MAX_FEATURES = 1000


def _read_kml(path: Path, filename: str) -> tuple[Any, str]:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(msg("upload.kml_unreadable", filename=filename, reason=Foreign(
            str(exc).replace(str(path), filename), msg("upload.kml_unreadable_account")))) from exc
    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for layer in layers:
            frame = pyogrio.read_dataframe(path, layer=layer)
            if len(frame):
                frames.append(frame)
    if not frames:
        raise EmptySource(msg("upload.no_features", filename=filename))
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    return frame, "OGC:CRS84"  # KML is always WGS84 lon/lat


def parse_footprint(data: bytes, filename: str, crs: str | None,
                    extent: tuple[float, float, float, float],
                    zone: int | None = None) -> dict[str, Any]:
    """GeoJSON FeatureCollection (CRS84) of the polygons and lines in an uploaded file."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedFormat(msg("upload.unsupported_format", filename=filename))
    if not data:
        raise EmptySource(msg("upload.empty", filename=filename))
    with tempfile.TemporaryDirectory() as folder:
        # under the user's own file name, so a reader's message names the file they chose
        path = Path(folder) / (Path(filename).name or f"footprint{suffix}")
        path.write_bytes(data)
        if suffix == ".kml":
            frame, file_crs = _read_kml(path, filename)
        elif suffix in TEXT_SUFFIXES:
            frame, file_crs = read_text_footprints(data, filename, suffix, crs, zone)
        else:
            source = read_source(path)
            frame, file_crs = source.frame, source.crs
    if crs:
        source_crs = parse_crs(crs)
        if source_crs.gcj02:
            raise InputError(msg("upload.gcj02"))
    elif file_crs:
        source_crs = parse_crs(file_crs)
    else:
        raise MissingCRS(msg("upload.missing_crs", filename=filename))
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = np.array([g is not None and not g.is_empty and g.geom_type in (
        "Polygon", "MultiPolygon", "LineString", "MultiLineString") for g in geoms], dtype=bool)
    if not keep.any():
        raise EmptySource(msg("upload.no_polygon", filename=filename))
    if keep.sum() > MAX_FEATURES:
        raise InputError(msg("upload.too_many", filename=filename, count=int(keep.sum()),
                             limit=MAX_FEATURES))
    geoms = shapely.force_2d(geoms[keep])
    # finite and at most the siting check's vertex cap (the region profile's), before any
    # transform or answer is built
    check_coordinates(geoms, filename, load_profile("ningxia").siting.max_vertices)
    row_ids = np.flatnonzero(keep)
    if source_crs.crs.is_geographic:
        check_lonlat_range(geoms, row_ids)
    if not source_crs.crs.equals(CRS84, ignore_axis_order=True):
        to84 = transformer(source_crs.crs, CRS84)
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(to84.transform(xy[:, 0], xy[:, 1])))
    minx, miny, maxx, maxy = extent
    bounds = shapely.bounds(geoms)
    if ((bounds[:, 0] < minx) | (bounds[:, 2] > maxx) | (bounds[:, 1] < miny)
            | (bounds[:, 3] > maxy)).any():
        raise InputError(msg("upload.outside_extent", filename=filename, extent=extent))
    columns = [c for c in frame.columns if c != "geometry"]
    kept = frame[keep].reset_index(drop=True)
    features = []
    for i, geom in enumerate(geoms):
        props = {}
        for c in columns:
            value = kept.at[i, c]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            props[str(c)] = value if isinstance(value, (bool, int, float, str)) else str(value)
        features.append({"type": "Feature", "geometry": rfc7946(geom),  # RFC 7946 rings
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}


@router.post("/parse", summary="Read an uploaded footprint file (GeoJSON, zipped Shapefile, "
             "KML, GeoPackage) into GeoJSON")
async def parse(
    request: Request,
    filename: Annotated[str, Query(min_length=1, max_length=255,
                                   description="Name of the uploaded file; its extension "
                                   "says the format")],
    crs: Annotated[str | None, Query(description="CRS when the file has none")] = None,
    zone: Annotated[int | None, Query(
        ge=ZONES[6][0], le=ZONES[3][1], description="Gauss-Kruger zone of a coordinate "
        "file (.txt) that names none: 25-45 (3-degree), 13-23 (6-degree)")] = None,
) -> dict[str, Any]:
    data = await request.body()
    return await run_in_threadpool(parse_footprint, data, filename, crs,
                                   request.app.state.settings.data.extent, zone)
