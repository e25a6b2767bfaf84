"""The documents describing a layer's tiles: the TileMatrixSets, TileJSON,
the tile features' attribute schema, the tileset's limits, and the layer extent they state
(read from the database, cached)."""

from __future__ import annotations

import threading
import time
from typing import Any

from psycopg import sql

from gis.layers.catalogue import Layer, TilePolicy
from gis.tiles.grid import TMS_ID, matrix_set, tile_policy, tile_range, zoom_range

#: Seconds a client (or, for public layers, a shared cache) may reuse a tile unasked; the
#: layer extent is cached as long.
TILE_MAX_AGE = 60

Bounds = tuple[float, float, float, float]

_bounds_cache: dict[tuple[int, str], tuple[float, Bounds | None]] = {}
_bounds_lock = threading.Lock()
#: Extents being read again (see claim_bounds_refresh).
_refreshing: set[tuple[int, str]] = set()


def cached_layer_bounds(engine: Any, layer: Layer) -> tuple[Bounds | None, bool] | None:
    """``(extent, fresh)`` from the cache of :func:`layer_bounds`, or None if it was never
    read. No I/O, so an async caller (every tile request) can take it without a hop through
    the thread pool, which cost 8% of a tile's Python time under load (py-spy, 1M table)."""
    with _bounds_lock:
        hit = _bounds_cache.get((id(engine), layer.id))
    if hit is None:
        return None
    return hit[1], time.monotonic() - hit[0] < TILE_MAX_AGE


def claim_bounds_refresh(engine: Any, layer: Layer) -> bool:
    """True for exactly one caller at a time: the one that reads a stale extent again (with
    :func:`refresh_layer_bounds`) while the others go on with the stale one. When every tile
    request read it again on expiry, ``ST_Extent`` over a million parcels ran eight times at
    once and the tiles of the next seconds came at a third of the usual rate."""
    key = (id(engine), layer.id)
    with _bounds_lock:
        if key in _refreshing:
            return False
        _refreshing.add(key)
        return True


def refresh_layer_bounds(engine: Any, layer: Layer) -> None:
    """Read the extent again, after :func:`claim_bounds_refresh` said so."""
    try:
        _read_bounds(engine, layer)
    finally:
        with _bounds_lock:
            _refreshing.discard((id(engine), layer.id))


def layer_bounds(engine: Any, layer: Layer) -> Bounds | None:
    """Exact lon/lat extent of a layer (None when empty), cached for ``TILE_MAX_AGE`` seconds.

    ``ST_Extent`` reads the whole table (~0.2 s for a million parcels), which is fine for a
    metadata document fetched once per map but not per request; ``ST_EstimatedExtent`` would be
    free but trims outliers from its sample, and bounds that miss a parcel would make clients
    skip the tiles showing it.
    """
    hit = cached_layer_bounds(engine, layer)
    if hit is not None and hit[1]:
        return hit[0]
    return _read_bounds(engine, layer)


def _read_bounds(engine: Any, layer: Layer) -> Bounds | None:
    key = (id(engine), layer.id)
    now = time.monotonic()
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


def tile_matrix_set(tms_id: str = TMS_ID) -> dict[str, Any]:
    """The OGC 2D Tile Matrix Set 2.0 JSON of a served set (morecantile writes it)."""
    return matrix_set(tms_id).document()


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


def tileset_limits(bounds: Bounds | None, policy: TilePolicy,
                   tms_id: str = TMS_ID) -> list[dict[str, Any]]:
    """OGC ``tileMatrixSetLimits``: per level of the layer's range, the tiles covering its
    data (a tile outside them is a 404); for an empty layer the whole matrices (every tile
    exists and is empty)."""
    tms = matrix_set(tms_id)
    lo, hi = zoom_range(policy, tms_id)
    out = []
    for z in range(lo, hi + 1):
        if bounds is None:
            width, height = tms.size(z)
            col0, row0, col1, row1 = 0, 0, width - 1, height - 1
        else:
            col0, row0, col1, row1 = tile_range(bounds, z, tms_id)
        out.append({"tileMatrix": str(z), "minTileRow": row0, "maxTileRow": row1,
                    "minTileCol": col0, "maxTileCol": col1})
    return out
