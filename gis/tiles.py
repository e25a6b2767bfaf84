"""Mapbox Vector Tiles of the catalogue layers on the OGC WebMercatorQuad tile matrix set.

Everything about a tile that is not HTTP lives here: tile arithmetic (z/x/y -> EPSG:3857
envelope, lon/lat -> tile), validation of tile coordinates, the per-layer tile policy (zoom
range, feature cap), the one SQL statement that renders a tile, the standard TileMatrixSet
document and a TileJSON description. ``api/routers/ogc_tiles.py`` only adds HTTP.

Why the SQL looks the way it does:

- The tables store EPSG:4490 and their GiST index is on that column, so the spatial filter
  transforms the *tile envelope* (one polygon) to 4490, ``geom && ST_Transform(
  ST_TileEnvelope(z, x, y, margin => ...), 4490)``, instead of transforming every row; a
  Web Mercator rectangle maps onto a lon/lat rectangle exactly (meridians and parallels stay
  straight), so nothing on the tile edge is missed. ``&&`` (bounding boxes) rather than
  ``ST_Intersects``: the few extra candidates are clipped away by ``ST_AsMVTGeom`` anyway,
  and an exact test per row would cost more than it saves.
- Simplification follows the zoom. ``ST_AsMVTGeom`` quantizes coordinates to the 4096-unit
  tile grid and drops repeated points, which is all a parcel (a handful of vertices) needs.
  Layers of large detailed polygons (red lines, boundaries, divisions) are in addition
  simplified with ``ST_Simplify`` at half a grid unit *before* the transform: on 2,000-vertex
  red-line polygons that made z6-z10 tiles 3-4x faster and smaller (measured; the dropped
  vertices lie within half a grid unit, 1/32 of a pixel, of the outline kept), while on
  parcels it only added 5-10% of work.
- From the zoom where it is exact to half a grid unit (z12 over Ningxia), rows are not
  transformed at all: the lon/lat geometry is cut against the tile's lon/lat box
  (:func:`tile_query`, :func:`linear_error_units`), which saved a third of the time.
- Identifiers (table, columns) come only from the validated catalogue and are quoted with
  ``psycopg.sql.Identifier``; tile coordinates and limits are bound parameters. The statement
  text is therefore constant per layer, and psycopg prepares it server-side after a few
  executions on a connection.
- A tile never reads unbounded data: each layer has a minimum zoom (parcel layers hold up to
  millions of small polygons, invisible below zoom 12 anyway) and a cap on the features one
  tile may hold; a capped tile says so (``RenderedTile.truncated``).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from gis.db.engine import database_url
from gis.errors import NotFound
from gis.layers.catalogue import Layer, load_catalogue
from gis.layers.schema import STORAGE_SRID
from gis.settings import Settings

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

#: Half the width of the Web Mercator square (metres), as PostGIS's ``ST_TileEnvelope`` uses.
HALF_WIDTH = 20037508.342789244
#: WebMercatorQuad tiles are 256 pixels; the standard defines tile matrices 0..24.
TILE_SIZE = 256
TMS_MAX_ZOOM = 24
#: Deepest zoom served: 4096 units per tile at z22 is ~2 mm, beyond any survey's precision.
MAX_ZOOM = 22
#: MVT grid resolution and the buffer (in grid units) kept around the tile so that polygon
#: outlines do not show seams at tile edges.
MVT_EXTENT = 4096
MVT_BUFFER = 64
#: Seconds a client (or, for public layers, a shared cache) may reuse a tile unasked.
TILE_MAX_AGE = 60

#: Minimum zoom of layers made of many small parcels. At the density of a county survey
#: (~3 ha parcels) a z12 tile holds ~2,500 parcels and renders in tens of milliseconds; a
#: z10 tile would hold ~40,000, each smaller than a pixel. Other layers (divisions, red
#: lines, boundaries, plans) have tens to thousands of features and start at zoom 0.
PARCEL_MIN_ZOOM = 12
PARCEL_LAYERS = frozenset({
    "survey_patches", "cultivated_land", "basic_farmland", "forest_parcels",
    "grassland_parcels", "village_plan_zones",
})
#: Most features one tile may hold. Above the minimum zoom this is reached only by data far
#: denser than a survey (it bounds a tile at well under a second); the tile is then cut at the
#: cap and flagged as truncated instead of taking the server down.
DEFAULT_MAX_FEATURES = 30_000


@dataclass(frozen=True, slots=True)
class TilePolicy:
    """Which tiles of a layer are served, how big one may get, and whether its geometries are
    simplified before they are cut (only worth it for detailed polygons, not parcels)."""

    minzoom: int
    maxzoom: int
    max_features: int
    simplify: bool


def tile_policy(layer: Layer) -> TilePolicy:
    parcels = layer.id in PARCEL_LAYERS
    return TilePolicy(minzoom=PARCEL_MIN_ZOOM if parcels else 0, maxzoom=MAX_ZOOM,
                      max_features=DEFAULT_MAX_FEATURES, simplify=not parcels)


# -- tile arithmetic --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tile:
    """A WebMercatorQuad tile: ``z`` = tileMatrix, ``y`` = tileRow (from the top), ``x`` =
    tileCol (from the left) -- the XYZ scheme, which is the OGC one for this set."""

    z: int
    x: int
    y: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in EPSG:3857 metres, as ``ST_TileEnvelope`` computes it."""
        return tile_bounds(self.z, self.x, self.y)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * HALF_WIDTH / (1 << z)
    xmin = -HALF_WIDTH + x * size
    ymax = HALF_WIDTH - y * size
    return (xmin, ymax - size, xmin + size, ymax)


def check_tile(z: int, x: int, y: int, policy: TilePolicy | None = None) -> Tile:
    """The tile if it exists in the tileset, else :class:`NotFound` (HTTP 404).

    OGC API - Tiles (``/req/core/tc-error``) allows 400 or 404 for coordinates outside the
    tile matrix set limits; 404 says what it is: there is no such tile. Zooms outside the
    layer's own range are outside its tileset limits, hence 404 as well.
    """
    lo, hi = (policy.minzoom, policy.maxzoom) if policy else (0, MAX_ZOOM)
    if not 0 <= z <= MAX_ZOOM:
        raise NotFound(f"tileMatrix {z} is not served: WebMercatorQuad tiles are served at "
                       f"zoom 0-{MAX_ZOOM}", tileMatrix=z)
    if not lo <= z <= hi:
        raise NotFound(f"tileMatrix {z} is outside this layer's tileset (zoom {lo}-{hi}); "
                       f"zoom in to see it", tileMatrix=z, minzoom=lo, maxzoom=hi)
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise NotFound(f"tile {z}/{y}/{x} does not exist: at tileMatrix {z} tileRow and "
                       f"tileCol run from 0 to {n - 1}", tileMatrix=z, tileRow=y, tileCol=x)
    return Tile(z, x, y)


def lonlat_to_tile(lon: float, lat: float, z: int) -> Tile:
    """The tile containing a lon/lat point (clamped to the Web Mercator latitude range)."""
    lat = max(min(lat, 85.05112878), -85.05112878)
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return Tile(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """(min col, min row, max col, max row) of the tiles covering a lon/lat box at zoom z."""
    west, south, east, north = bounds
    top_left, bottom_right = lonlat_to_tile(west, north, z), lonlat_to_tile(east, south, z)
    return top_left.x, top_left.y, bottom_right.x, bottom_right.y


# -- SQL --------------------------------------------------------------------------------------


@cache
def tile_query(layer_id: str, simplify: bool, projected: bool = True) -> sql.Composed:
    """The statement rendering one tile of a layer, with bound parameters ``z``, ``x``,
    ``y``, ``margin``, ``max_features``, (if ``simplify``) ``tolerance`` in degrees and (if
    not ``projected``) the tile's lon/lat box ``west``, ``south``, ``east``, ``north``.
    Built once per layer and variant from the catalogue.

    ``projected``: each geometry is transformed to EPSG:3857 and cut against
    ``ST_TileEnvelope``, the textbook way. Otherwise the lon/lat geometry is cut against the
    tile's lon/lat box, i.e. mapped linearly in latitude instead of through the Mercator
    formula; :func:`linear_error_units` bounds the difference, and :func:`tile_params` only
    chooses this where it is under half a grid unit (z >= 12 over Ningxia). It saves the
    per-row ``ST_Transform``, a third of a parcel tile's time (measured on 60 tiles z12-15 of
    the 1M-parcel table: 15.9 -> 10.2 ms; inside the tile no vertex moved by more than the
    one-unit rounding step, only buffer slivers outside it differ).

    Attributes are the catalogue fields plus ``area_m2``, rounded to 0.01 m² with float
    arithmetic (``numeric`` rounding cost 20% of a z12 tile). 亩 and hectares are left to the
    client (area_m2 / 666.67, / 10,000; the portal does so): an ``area_mu`` attribute made
    tiles 20% bigger and 4% slower. ``id`` becomes the MVT feature id, so a client can ask the
    features API for the same row.
    """
    layer = next(lyr for lyr in load_catalogue() if lyr.id == layer_id)
    fields = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    geom = sql.Identifier("geom")
    source: sql.Composable = (
        sql.SQL("ST_Simplify({}, %(tolerance)s::float8, true)").format(geom)
        if simplify else geom)
    if projected:
        mvt_geom = sql.SQL("ST_AsMVTGeom(ST_Transform({source}, 3857), "
                           "ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int), ")
    else:
        mvt_geom = sql.SQL("ST_AsMVTGeom({source}, ST_MakeEnvelope(%(west)s::float8, "
                           "%(south)s::float8, %(east)s::float8, %(north)s::float8, {srid}), ")
    return sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom', 'id'), count(*) FROM ("
        " SELECT {id}, {fields}, round({area} * 100) / 100 AS area_m2, "
        "{mvt_geom}{extent}, {buffer}, true) AS geom"
        " FROM {table}"
        " WHERE {geom} && ST_Transform(ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int,"
        " margin => %(margin)s::float8), {srid})"
        " LIMIT %(max_features)s::int"
        ") AS t"
    ).format(
        mvt_geom=mvt_geom.format(source=source, srid=sql.Literal(STORAGE_SRID)),
        name=sql.Literal(layer.id), extent=sql.Literal(MVT_EXTENT),
        buffer=sql.Literal(MVT_BUFFER), srid=sql.Literal(STORAGE_SRID),
        id=sql.Identifier("id"), fields=fields,
        area=sql.Identifier("area_m2"), geom=geom, table=sql.Identifier(layer.table),
    )


def _latitude(y: float) -> float:
    """Web Mercator y (metres) -> latitude (degrees), the inverse PROJ's webmerc uses."""
    return math.degrees(math.atan(math.sinh(y / HALF_WIDTH * math.pi)))


def lonlat_bounds(tile: Tile) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile in degrees."""
    xmin, ymin, xmax, ymax = tile.bounds
    return (xmin / HALF_WIDTH * 180.0, _latitude(ymin), xmax / HALF_WIDTH * 180.0,
            _latitude(ymax))


def linear_error_units(tile: Tile) -> float:
    """Largest distance, in MVT grid units, between where the Mercator projection puts a
    point of the tile and where a mapping linear in latitude (lon/lat box onto the grid)
    puts it. Longitude maps linearly either way; along the meridian the Mercator y(φ) is
    convex, and a chord deviates from a convex curve by at most Δφ²·y''/8, with
    y'' = sec φ tan φ and Δφ ≈ H·cos φ for a tile of height H: 4096·H·sin φ / 8 units."""
    _, south, _, north = lonlat_bounds(tile)
    height = 2 * math.pi / (1 << tile.z)
    sin_lat = math.sin(math.radians(max(abs(south), abs(north))))
    return MVT_EXTENT * height * sin_lat / 8


#: A tile is cut in lon/lat when that moves no point by more than this many grid units
#: (1/16 of a pixel of a 256-pixel tile each): below the grid's own rounding step.
LINEAR_MAX_ERROR = 0.5


def simplify_tolerance(tile: Tile) -> float:
    """Half a grid unit of the tile, in degrees, measured along the meridian at the tile's
    edge farthest from the equator: the smallest such length in the tile, so the
    simplification never moves a vertex by more than half a unit anywhere in it."""
    xmin, ymin, xmax, ymax = tile.bounds
    unit = (xmax - xmin) / MVT_EXTENT
    lat = _latitude(max(abs(ymin), abs(ymax)))
    return unit / 2 * math.cos(math.radians(lat)) * 360 / (2 * HALF_WIDTH)


def projected(tile: Tile) -> bool:
    """Whether the tile needs the exact per-row Mercator transform (see :func:`tile_query`)."""
    return linear_error_units(tile) > LINEAR_MAX_ERROR


def tile_params(tile: Tile, policy: TilePolicy) -> dict[str, Any]:
    params: dict[str, Any] = {"z": tile.z, "x": tile.x, "y": tile.y,
                              "margin": MVT_BUFFER / MVT_EXTENT,
                              "max_features": policy.max_features}
    if policy.simplify:
        params["tolerance"] = simplify_tolerance(tile)
    if not projected(tile):
        params.update(zip(("west", "south", "east", "north"), lonlat_bounds(tile),
                          strict=True))
    return params


@dataclass(frozen=True, slots=True)
class RenderedTile:
    data: bytes
    features: int
    truncated: bool

    @property
    def etag(self) -> str:
        """A strong ETag: a hash of the bytes themselves, so it changes exactly when the tile
        does, whatever changed the table (a load, a deletion, a hand-made UPDATE)."""
        return '"' + hashlib.blake2b(self.data, digest_size=16).hexdigest() + '"'


def _rendered(row: Any, policy: TilePolicy) -> RenderedTile:
    data = bytes(row[0]) if row and row[0] is not None else b""
    count = int(row[1]) if row else 0
    return RenderedTile(data, count, count >= policy.max_features)


def render_tile(conn: Any, layer: Layer, tile: Tile, policy: TilePolicy | None = None
                ) -> RenderedTile:
    """Render one tile on a psycopg connection (the caller owns it and its transaction).

    ``features`` counts the rows read for the tile (before ``ST_AsMVTGeom`` drops the ones
    that collapse below a grid unit); ``truncated`` means the cap was reached.
    """
    policy = policy or tile_policy(layer)
    row = conn.execute(tile_query(layer.id, policy.simplify, projected(tile)),
                       tile_params(tile, policy)).fetchone()
    return _rendered(row, policy)


async def render_tile_async(conn: Any, layer: Layer, tile: Tile,
                            policy: TilePolicy | None = None) -> RenderedTile:
    """:func:`render_tile` on a psycopg ``AsyncConnection`` (what the API uses)."""
    policy = policy or tile_policy(layer)
    cursor = await conn.execute(tile_query(layer.id, policy.simplify, projected(tile)),
                                tile_params(tile, policy))
    return _rendered(await cursor.fetchone(), policy)


#: A tile query that runs longer than this is cancelled: the last guard after the minimum
#: zoom and the feature cap.
TILE_STATEMENT_TIMEOUT_MS = 30_000
_WARM_UP = "SELECT ST_Transform(ST_SetSRID(ST_MakePoint(106, 38), 4490), 3857)"


async def _warm_up(conn: Any) -> None:
    """Load PROJ in a new server process before it serves a tile: the first ``ST_Transform``
    of a backend costs ~150 ms (PROJ database and pipeline set-up), every later one ~0.1 ms."""
    await conn.execute(_WARM_UP)


def tile_pool(settings: Settings, min_size: int = 2, max_size: int = 12) -> AsyncConnectionPool:
    """An (unopened) async psycopg pool for tiles: autocommit (one read-only statement needs
    no BEGIN/ROLLBACK round trips), warmed-up connections, a statement timeout.

    Why a pool of its own rather than the app's SQLAlchemy engine: that engine pings each
    connection on checkout and rolls back on return, runs blocking calls in the thread pool,
    and closes overflow connections on return, so under load new backends kept paying the
    PROJ start-up above (p95 800 ms in the first benchmark run, see docs/benchmarks.md).
    """
    url = database_url(settings).replace("postgresql+psycopg://", "postgresql://", 1)
    return AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, configure=_warm_up,
        kwargs={"autocommit": True,
                "options": f"-c statement_timeout={TILE_STATEMENT_TIMEOUT_MS}"},
        name="tiles",
    )


# -- layer extent (for TileJSON bounds and tileset limits) ------------------------------------

_BOUNDS_TTL = float(TILE_MAX_AGE)
_bounds_cache: dict[tuple[int, str], tuple[float, tuple[float, float, float, float] | None]] = {}
_bounds_lock = threading.Lock()


def layer_bounds(engine: Any, layer: Layer) -> tuple[float, float, float, float] | None:
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
    if hit is not None and now - hit[0] < _BOUNDS_TTL:
        return hit[1]
    query = sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent({geom}) AS e FROM {table}) AS x").format(
        geom=sql.Identifier("geom"), table=sql.Identifier(layer.table))
    raw = engine.raw_connection()
    try:
        row = raw.driver_connection.execute(query).fetchone()
    finally:
        raw.close()
    bounds = None if row is None or row[0] is None else tuple(float(v) for v in row)
    with _bounds_lock:
        _bounds_cache[key] = (now, bounds)  # type: ignore[assignment]
    return bounds  # type: ignore[return-value]


# -- documents --------------------------------------------------------------------------------


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


def tilejson(layer: Layer, tiles_url: str,
             bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
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


def tileset_limits(bounds: tuple[float, float, float, float] | None,
                   policy: TilePolicy) -> list[dict[str, Any]]:
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
