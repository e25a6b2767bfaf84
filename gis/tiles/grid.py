"""Tile arithmetic and validation on the served tile matrix sets (:mod:`gis.tiles.matrices`,
morecantile does the matrix maths): tile -> box, lon/lat -> tile, which tiles of a layer's
tileset exist, and how far a Web Mercator tile cut in lon/lat is from the Mercator one.
Pure computation: no database, no HTTP."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from gis.errors import NotFound
from gis.layers.catalogue import MAX_TILE_ZOOM, Layer, TilePolicy
from gis.messages import Joined, msg
from gis.tiles.matrices import MATRIX_SETS, TMS_MAX_LEVEL, WEB_MERCATOR_QUAD, MatrixSet

TMS_ID = WEB_MERCATOR_QUAD
TMS_URI = MATRIX_SETS[WEB_MERCATOR_QUAD].uri
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

#: Half the width of the Web Mercator square (metres), as PostGIS's ``ST_TileEnvelope`` uses.
HALF_WIDTH = 20037508.342789244
#: WebMercatorQuad's registered definition has tile matrices 0..24.
TMS_MAX_ZOOM = TMS_MAX_LEVEL
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


def matrix_set(tms_id: str) -> MatrixSet:
    """A served tile matrix set, else :class:`NotFound` naming those offered."""
    found = MATRIX_SETS.get(tms_id)
    if found is None:
        raise NotFound(msg("tiles.unknown_tms", tms=tms_id, offered=Joined.of(MATRIX_SETS)),
                       tileMatrixSetId=tms_id)
    return found


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile: ``z`` = tileMatrix, ``y`` = tileRow (from the top), ``x`` = tileCol (from the
    left), of the tile matrix set ``tms`` (WebMercatorQuad: the XYZ scheme)."""

    z: int
    x: int
    y: int
    tms: str = TMS_ID

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the set's CRS: EPSG:3857 metres as
        ``ST_TileEnvelope`` computes them, or lon/lat degrees for CGCS2000Quad."""
        return MATRIX_SETS[self.tms].box(self.z, self.x, self.y)

    @property
    def geographic(self) -> bool:
        return MATRIX_SETS[self.tms].geographic


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A WebMercatorQuad tile's box in EPSG:3857 metres."""
    return Tile(z, x, y).bounds


def zoom_range(policy: TilePolicy | None, tms_id: str = TMS_ID) -> tuple[int, int]:
    """The levels of a layer's tileset on a matrix set: the policy's, from the set's first."""
    first = MATRIX_SETS[tms_id].first_level
    lo, hi = (policy.minzoom, policy.maxzoom) if policy else (0, MAX_ZOOM)
    return max(lo, first), hi


def check_tile(z: int, x: int, y: int, policy: TilePolicy | None = None,
               tms_id: str = TMS_ID) -> Tile:
    """The tile if it exists in the tileset, else :class:`NotFound` (HTTP 404).

    OGC API - Tiles (``/req/core/tc-error``) allows 400 or 404 for coordinates outside the
    tile matrix set limits; 404 says what it is: there is no such tile. Zooms outside the
    layer's own range are outside its tileset limits, hence 404 as well (the limits of the
    layer's data are checked by :func:`check_limits`).
    """
    tms = matrix_set(tms_id)
    first = tms.first_level
    lo, hi = zoom_range(policy, tms_id)
    if not first <= z <= MAX_ZOOM:
        raise NotFound(msg("tiles.zoom_not_served", z=z, tms=tms_id, first=first,
                           max=MAX_ZOOM), tileMatrix=z)
    if not lo <= z <= hi:
        raise NotFound(msg("tiles.zoom_outside_layer", z=z, lo=lo, hi=hi), tileMatrix=z,
                       minzoom=lo, maxzoom=hi)
    width, height = tms.size(z)
    if not (0 <= x < width and 0 <= y < height):
        message = (msg("tiles.no_such_tile", z=z, y=y, x=x, last=width - 1)
                   if width == height else
                   msg("tiles.no_such_tile_rect", z=z, y=y, x=x, rows=height - 1,
                       cols=width - 1))
        raise NotFound(message, tileMatrix=z, tileRow=y, tileCol=x)
    return Tile(z, x, y, tms_id)


def check_limits(tile: Tile, bounds: tuple[float, float, float, float] | None) -> Tile:
    """The tile if it is inside the tileset's ``tileMatrixSetLimits`` (the tiles covering
    the layer's extent; an empty layer states none), else :class:`NotFound`."""
    if bounds is None:
        return tile
    col0, row0, col1, row1 = tile_range(bounds, tile.z, tile.tms)
    if not (col0 <= tile.x <= col1 and row0 <= tile.y <= row1):
        raise NotFound(msg("tiles.outside_limits", z=tile.z, y=tile.y, x=tile.x,
                           row0=row0, row1=row1, col0=col0, col1=col1),
                       tileMatrix=tile.z, tileRow=tile.y, tileCol=tile.x)
    return tile


def lonlat_to_tile(lon: float, lat: float, z: int, tms_id: str = TMS_ID) -> Tile:
    """The tile containing a lon/lat point (clamped to the set's latitude range)."""
    tms = MATRIX_SETS[tms_id]
    limit = 90.0 if tms.geographic else 85.05112878
    lat = max(min(lat, limit), -limit)
    found = tms.tms.tile(lon, lat, z)
    width, height = tms.size(z)
    return Tile(z, min(max(found.x, 0), width - 1), min(max(found.y, 0), height - 1), tms_id)


@lru_cache(maxsize=4096)
def tile_range(bounds: tuple[float, float, float, float], z: int,
               tms_id: str = TMS_ID) -> tuple[int, int, int, int]:
    """(min col, min row, max col, max row) of the tiles covering a lon/lat box at zoom z.

    Cached: every tile request checks its layer's limits with it, and morecantile hashes
    its CRS (``CRS.to_wkt``) on each call, 5% of a tile's Python time (py-spy, 1M table);
    the arguments are a layer's cached extent, a zoom and a set id."""
    west, south, east, north = bounds
    top_left = lonlat_to_tile(west, north, z, tms_id)
    bottom_right = lonlat_to_tile(east, south, z, tms_id)
    return top_left.x, top_left.y, bottom_right.x, bottom_right.y


def _latitude(y: float) -> float:
    """Web Mercator y (metres) -> latitude (degrees), the inverse PROJ's webmerc uses."""
    return math.degrees(math.atan(math.sinh(y / HALF_WIDTH * math.pi)))


def lonlat_bounds(tile: Tile) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile in degrees."""
    xmin, ymin, xmax, ymax = tile.bounds
    if tile.geographic:
        return xmin, ymin, xmax, ymax
    return (xmin / HALF_WIDTH * 180.0, _latitude(ymin), xmax / HALF_WIDTH * 180.0,
            _latitude(ymax))


def linear_error_units(tile: Tile) -> float:
    """Largest distance, in MVT grid units, between where the Mercator projection puts a
    point of the tile and where a mapping linear in latitude (lon/lat box onto the grid)
    puts it. Longitude maps linearly either way; along the meridian the Mercator y(φ) is
    convex, and a chord deviates from a convex curve by at most Δφ²·y''/8, with
    y'' = sec φ tan φ and Δφ ≈ H·cos φ for a tile of height H: 4096·H·sin φ / 8 units.
    Zero on CGCS2000Quad, whose grid is linear in latitude by definition."""
    if tile.geographic:
        return 0.0
    _, south, _, north = lonlat_bounds(tile)
    height = 2 * math.pi / (1 << tile.z)
    sin_lat = math.sin(math.radians(max(abs(south), abs(north))))
    return MVT_EXTENT * height * sin_lat / 8


def simplify_tolerance(tile: Tile) -> float:
    """Half a grid unit of the tile, in degrees, measured along the meridian at the tile's
    edge farthest from the equator: the smallest such length in the tile, so the
    simplification never moves a vertex by more than half a unit anywhere in it."""
    xmin, ymin, xmax, ymax = tile.bounds
    if tile.geographic:
        return (xmax - xmin) / MVT_EXTENT / 2
    unit = (xmax - xmin) / MVT_EXTENT
    lat = _latitude(max(abs(ymin), abs(ymax)))
    return unit / 2 * math.cos(math.radians(lat)) * 360 / (2 * HALF_WIDTH)


def projected(tile: Tile) -> bool:
    """Whether the tile needs the exact per-row Mercator transform (see
    :func:`gis.tiles.render.tile_query`); never on CGCS2000Quad."""
    return linear_error_units(tile) > LINEAR_MAX_ERROR
