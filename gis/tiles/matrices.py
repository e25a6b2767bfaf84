"""The tile matrix sets tiles are served on, as morecantile ``TileMatrixSet`` objects.

- ``WebMercatorQuad`` (OGC registered, EPSG:3857): OpenStreetMap, MapLibre, Tianditu ``_w``.
- ``CGCS2000Quad``: CGCS2000 geographic (EPSG:4490, latitude/longitude axes) quad tree, the
  grid of Tianditu's ``_c`` services (``vec_c``, ``img_c``, ``ter_c`` ...), so vector tiles
  overlay Chinese base maps in CGCS2000 without reprojection. Level ``n`` has 2^n × 2^(n-1)
  tiles of 256 px, 180° / 2^(n-1) wide, origin at 90°N 180°W: Tianditu's level ``n`` (the
  matrix ids are Tianditu's numbering, from 1) and WorldCRS84Quad's level ``n - 1``. A
  pixel at level ``n`` is as wide as WebMercatorQuad's at zoom ``n`` on the equator, so one
  layer's zoom policy (``catalogue.yaml``, ``tiles``) applies to both. Scale denominators
  use the standard 0.28 mm pixel and the CGCS2000 semi-major axis (that of WGS 84).

Both are registered with morecantile (:data:`REGISTRY`), which does the tile arithmetic
(tile of a position, bounds of a tile, matrix sizes) and writes the OGC 2D TMS 2.0 JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import morecantile
from morecantile import TileMatrixSet

WEB_MERCATOR_QUAD = "WebMercatorQuad"
CGCS2000_QUAD = "CGCS2000Quad"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
TILE_SIZE = 256
#: Deepest level either set defines (WebMercatorQuad's registered definition has 0-24).
TMS_MAX_LEVEL = 24
_SCREEN_PIXEL_M = 0.00028
_SEMI_MAJOR_AXIS_M = 6378137.0  # CGCS2000 (GRS 80) = WGS 84


def _cgcs2000_quad() -> TileMatrixSet:
    metres_per_degree = 2 * math.pi * _SEMI_MAJOR_AXIS_M / 360
    matrices = []
    for level in range(1, TMS_MAX_LEVEL + 1):
        cell = 180.0 / TILE_SIZE / 2 ** (level - 1)
        matrices.append({
            "id": str(level), "scaleDenominator": cell * metres_per_degree / _SCREEN_PIXEL_M,
            "cellSize": cell, "cornerOfOrigin": "topLeft", "pointOfOrigin": [90.0, -180.0],
            "tileWidth": TILE_SIZE, "tileHeight": TILE_SIZE,
            "matrixWidth": 2 ** level, "matrixHeight": 2 ** (level - 1)})
    return TileMatrixSet.model_validate({
        "id": CGCS2000_QUAD,
        "title": "CGCS2000 geographic quad tree (Tianditu _c tile grid)",
        "description": "EPSG:4490 latitude/longitude; level n = Tianditu level n = "
                       "WorldCRS84Quad level n-1",
        "crs": EPSG.format(4490),
        "orderedAxes": ["Lat", "Lon"],
        "boundingBox": {"lowerLeft": [-90.0, -180.0], "upperRight": [90.0, 180.0],
                        "crs": EPSG.format(4490), "orderedAxes": ["Lat", "Lon"]},
        "tileMatrices": matrices,
    })


#: morecantile's registry with CGCS2000Quad added (morecantile's default one plus ours).
REGISTRY = morecantile.tms.register({CGCS2000_QUAD: _cgcs2000_quad()})


@dataclass(frozen=True)
class MatrixSet:
    """A tile matrix set as served: its morecantile definition and how tiles are cut."""

    id: str
    #: The OGC registry URI (None for ours, which is described by its own document).
    uri: str | None
    #: True: tiles are cut in the storage CRS's lon/lat (CGCS2000Quad); False: Web Mercator.
    geographic: bool

    @property
    def tms(self) -> TileMatrixSet:
        return _tms(self.id)

    @property
    def crs(self) -> str:
        return EPSG.format(4490 if self.geographic else 3857)

    @property
    def first_level(self) -> int:
        return self.tms.minzoom

    def size(self, level: int) -> tuple[int, int]:
        """(matrix width, matrix height) at ``level``."""
        matrix = self.tms.matrix(level)
        return matrix.matrixWidth, matrix.matrixHeight

    def box(self, level: int, col: int, row: int) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of a tile in the set's CRS, x east: metres for Web
        Mercator, degrees (lon, lat) for CGCS2000Quad."""
        b = self.tms.xy_bounds(col, row, level)
        return (b.left, b.bottom, b.right, b.top)

    def document(self) -> dict[str, Any]:
        """The OGC 2D Tile Matrix Set 2.0 JSON."""
        return _document(self.id)


@cache
def _tms(tms_id: str) -> TileMatrixSet:
    return REGISTRY.get(tms_id)


@cache
def _document(tms_id: str) -> dict[str, Any]:
    return _tms(tms_id).model_dump(mode="json", exclude_none=True)


MATRIX_SETS: dict[str, MatrixSet] = {
    WEB_MERCATOR_QUAD: MatrixSet(
        WEB_MERCATOR_QUAD,
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad", False),
    CGCS2000_QUAD: MatrixSet(CGCS2000_QUAD, None, True),
}
