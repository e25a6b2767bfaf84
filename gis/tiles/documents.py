"""The documents describing a layer's tiles: the WebMercatorQuad TileMatrixSet, TileJSON,
the tile features' attribute schema, the tileset's limits, and the layer extent they state
(read from the database, cached)."""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Any

from psycopg import sql

from gis.layers.catalogue import Layer, TilePolicy
from gis.tiles.grid import (
    CRS_3857,
    HALF_WIDTH,
    TILE_SIZE,
    TMS_ID,
    TMS_MAX_ZOOM,
    TMS_URI,
    tile_policy,
    tile_range,
)

#: Seconds a client (or, for public layers, a shared cache) may reuse a tile unasked; the
#: layer extent is cached as long.
TILE_MAX_AGE = 60

Bounds = tuple[float, float, float, float]

_bounds_cache: dict[tuple[int, str], tuple[float, Bounds | None]] = {}
_bounds_lock = threading.Lock()


def layer_bounds(engine: Any, layer: Layer) -> Bounds | None:
    """Exact lon/lat extent of a layer (None when empty), cached for ``TILE_MAX_AGE`` seconds.

    ``ST_Extent`` reads the whole table (~0.2 s for a million parcels), which is fine for a
    metadata document fetched once per map but not per request; ``ST_EstimatedExtent`` would be
    free but trims outliers from its sample, and bounds that miss a parcel would make clients
    skip the tiles showing it.
    """
    key = (id(engine), layer.id)
    now = time.monotonic()
    with _bounds_lock:
        hit = _bounds_cache.get(key)
    if hit is not None and now - hit[0] < TILE_MAX_AGE:
        return hit[1]
    query = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent({geom}) AS e FROM {table}) AS x").format(
        geom=sql.Identifier("geom"), table=sql.Identifier(layer.table))
    raw = engine.raw_connection()
    try:
        row = raw.driver_connection.execute(query).fetchone()
    finally:
        raw.close()
    bounds: Bounds | None = None
    if row is not None and row[0] is not None:
        bounds = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    with _bounds_lock:
        _bounds_cache[key] = (now, bounds)
    return bounds


@cache
def tile_matrix_set() -> dict[str, Any]:
    """The OGC 2D Tile Matrix Set 2.0 JSON of WebMercatorQuad (tile matrices 0-24)."""
    matrices = []
    for z in range(TMS_MAX_ZOOM + 1):
        cell = 2 * HALF_WIDTH / TILE_SIZE / (1 << z)
        matrices.append({
            "id": str(z),
            "scaleDenominator": cell / 0.00028,
            "cellSize": cell,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-HALF_WIDTH, HALF_WIDTH],
            "tileWidth": TILE_SIZE,
            "tileHeight": TILE_SIZE,
            "matrixWidth": 1 << z,
            "matrixHeight": 1 << z,
        })
    return {
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": CRS_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {"lowerLeft": [-HALF_WIDTH, -HALF_WIDTH],
                        "upperRight": [HALF_WIDTH, HALF_WIDTH], "crs": CRS_3857},
        "tileMatrices": matrices,
    }


_TILEJSON_TYPES = {"text": "String", "date": "String", "int": "Number", "float": "Number",
                   "bool": "Boolean"}
_JSON_SCHEMA_TYPES = {"text": "string", "date": "string", "int": "integer", "float": "number",
                      "bool": "boolean"}


def tile_fields(layer: Layer) -> dict[str, tuple[str, str]]:
    """Attribute name -> (catalogue type, English title) of the features in a tile."""
    out = {f.name: (f.type, f.en) for f in layer.fields}
    out["area_m2"] = ("float", "Ellipsoidal area (CGCS2000), m² (亩 = m² / 666.67)")
    return out


def properties_schema(layer: Layer) -> dict[str, Any]:
    """JSON Schema of the tile features' attributes (OGC tileset ``propertiesSchema``)."""
    return {"type": "object", "properties": {
        name: {"type": _JSON_SCHEMA_TYPES[kind], "title": title}
        for name, (kind, title) in tile_fields(layer).items()}}


def tilejson(layer: Layer, tiles_url: str, bounds: Bounds | None) -> dict[str, Any]:
    """TileJSON 3.0.0 for MapLibre/Leaflet: ``tiles_url`` has ``{z}``, ``{x}``, ``{y}``."""
    policy = tile_policy(layer)
    box = list(bounds) if bounds else [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
    center_zoom = max(policy.minzoom, 12 if bounds else 0)
    return {
        "tilejson": "3.0.0",
        "name": layer.id,
        "description": f"{layer.zh} / {layer.en}",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": policy.minzoom,
        "maxzoom": policy.maxzoom,
        "bounds": box,
        "center": [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, center_zoom],
        "vector_layers": [{
            "id": layer.id,
            "description": f"{layer.zh} / {layer.en}",
            "minzoom": policy.minzoom,
            "maxzoom": policy.maxzoom,
            "fields": {name: _TILEJSON_TYPES[kind] for name, (kind, _) in
                       tile_fields(layer).items()},
        }],
    }


def tileset_limits(bounds: Bounds | None, policy: TilePolicy) -> list[dict[str, Any]]:
    """OGC ``tileMatrixSetLimits``: the tiles holding data, per zoom of the layer's range.
    Empty for an empty layer (no limits can be stated, every tile is empty)."""
    if bounds is None:
        return []
    out = []
    for z in range(policy.minzoom, policy.maxzoom + 1):
        col0, row0, col1, row1 = tile_range(bounds, z)
        out.append({"tileMatrix": str(z), "minTileRow": row0, "maxTileRow": row1,
                    "minTileCol": col0, "maxTileCol": col1})
    return out
