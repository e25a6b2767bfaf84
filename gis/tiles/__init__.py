"""Mapbox Vector Tiles of the catalogue layers on OGC tile matrix sets.

Everything about a tile that is not HTTP lives in this package, one job per module:

- ``matrices``: the tile matrix sets served (WebMercatorQuad, CGCS2000Quad for Tianditu's
  ``_c`` base maps), registered with morecantile;
- ``grid``: tile arithmetic (z/x/y -> boxes, lon/lat -> tile), validation of tile
  coordinates against a layer's tileset and its limits, the lon/lat-cut error bound;
- ``render``: the one SQL statement that renders a tile, and running it;
- ``pool``: the tile service's own async connection pool;
- ``documents``: the TileMatrixSet, TileJSON and tileset documents and the layer extent.

A layer's tile policy (zoom range, feature cap, simplification, tiles or GeoJSON in the
portal) is the catalogue's (``catalogue.yaml``, ``tiles``). ``api/routers/ogc_tiles.py`` only
adds HTTP. The names below are the package's public API, re-exported from those modules.
"""

from gis.layers.catalogue import TilePolicy
from gis.tiles.documents import (
    TILE_MAX_AGE,
    cached_layer_bounds,
    claim_bounds_refresh,
    layer_bounds,
    properties_schema,
    refresh_layer_bounds,
    tile_fields,
    tile_matrix_set,
    tilejson,
    tileset_limits,
)
from gis.tiles.grid import (
    CRS84,
    CRS_3857,
    HALF_WIDTH,
    LINEAR_MAX_ERROR,
    MAX_ZOOM,
    MVT_BUFFER,
    MVT_EXTENT,
    MVT_MEDIA_TYPE,
    TMS_ID,
    TMS_MAX_ZOOM,
    TMS_URI,
    Tile,
    check_limits,
    check_tile,
    linear_error_units,
    lonlat_bounds,
    lonlat_to_tile,
    matrix_set,
    projected,
    simplify_tolerance,
    tile_bounds,
    tile_policy,
    tile_range,
    zoom_range,
)
from gis.tiles.matrices import (
    CGCS2000_QUAD,
    MATRIX_SETS,
    REGISTRY,
    TILE_SIZE,
    WEB_MERCATOR_QUAD,
    MatrixSet,
)
from gis.tiles.pool import TILE_STATEMENT_TIMEOUT_MS, render_with_retry, tile_pool
from gis.tiles.render import (
    RenderedTile,
    render_tile,
    render_tile_async,
    tile_params,
    tile_query,
)

__all__ = [
    "CGCS2000_QUAD", "CRS84", "CRS_3857", "HALF_WIDTH", "LINEAR_MAX_ERROR", "MATRIX_SETS",
    "MAX_ZOOM", "MVT_BUFFER", "MVT_EXTENT", "MVT_MEDIA_TYPE", "REGISTRY", "TILE_MAX_AGE",
    "TILE_SIZE", "TILE_STATEMENT_TIMEOUT_MS", "TMS_ID", "TMS_MAX_ZOOM", "TMS_URI",
    "WEB_MERCATOR_QUAD", "MatrixSet", "RenderedTile", "Tile", "TilePolicy", "cached_layer_bounds",
    "check_limits", "check_tile", "claim_bounds_refresh", "layer_bounds", "linear_error_units",
    "lonlat_bounds", "lonlat_to_tile", "matrix_set", "projected", "properties_schema",
    "refresh_layer_bounds", "render_tile", "render_tile_async", "render_with_retry",
    "simplify_tolerance", "tile_bounds", "tile_fields", "tile_matrix_set", "tile_params",
    "tile_policy", "tile_pool", "tile_query", "tile_range", "tilejson", "tileset_limits",
    "zoom_range",
]
