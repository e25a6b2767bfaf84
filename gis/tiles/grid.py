"""WebMercatorQuad tile arithmetic and validation: z/x/y -> EPSG:3857 and lon/lat boxes,
lon/lat -> tile, which tiles of a layer's tileset exist, and how far a cut in lon/lat is from
the Mercator one. Pure computation: no database, no HTTP."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gis.errors import NotFound
from gis.layers.catalogue import MAX_TILE_ZOOM, Layer, TilePolicy
from gis.messages import msg

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
#: Deepest zoom served (the catalogue's bound on every layer's tile policy).
MAX_ZOOM = MAX_TILE_ZOOM
#: MVT grid resolution and the buffer (in grid units) kept around the tile so that polygon
#: outlines do not show seams at tile edges.
MVT_EXTENT = 4096
MVT_BUFFER = 64
#: A tile is cut in lon/lat when that moves no point by more than this many grid units
#: (1/16 of a pixel of a 256-pixel tile each): below the grid's own rounding step.
LINEAR_MAX_ERROR = 0.5


def tile_policy(layer: Layer) -> TilePolicy:
    """The layer's tile policy: zoom range, feature cap, simplification (``catalogue.yaml``)."""
    return layer.tiles


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
        raise NotFound(msg("tiles.zoom_not_served", z=z, max=MAX_ZOOM), tileMatrix=z)
    if not lo <= z <= hi:
        raise NotFound(msg("tiles.zoom_outside_layer", z=z, lo=lo, hi=hi), tileMatrix=z,
                       minzoom=lo, maxzoom=hi)
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise NotFound(msg("tiles.no_such_tile", z=z, y=y, x=x, last=n - 1), tileMatrix=z,
                       tileRow=y, tileCol=x)
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


def simplify_tolerance(tile: Tile) -> float:
    """Half a grid unit of the tile, in degrees, measured along the meridian at the tile's
    edge farthest from the equator: the smallest such length in the tile, so the
    simplification never moves a vertex by more than half a unit anywhere in it."""
    xmin, ymin, xmax, ymax = tile.bounds
    unit = (xmax - xmin) / MVT_EXTENT
    lat = _latitude(max(abs(ymin), abs(ymax)))
    return unit / 2 * math.cos(math.radians(lat)) * 360 / (2 * HALF_WIDTH)


def projected(tile: Tile) -> bool:
    """Whether the tile needs the exact per-row Mercator transform (see
    :func:`gis.tiles.render.tile_query`)."""
    return linear_error_units(tile) > LINEAR_MAX_ERROR
