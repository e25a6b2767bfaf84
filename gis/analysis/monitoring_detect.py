"""Land-cover change detection for red-line monitoring, without a database.

Given two classified land-cover rasters of one area at two dates, find the pixels that became
construction or bare land (the profile's ``monitoring.change_to`` classes) and return them as
polygons clipped to the zones they fall in (red-line zones, permanent basic farmland
parcels). :mod:`gis.analysis.monitoring` feeds it the zones from PostGIS and keeps the work
list; the benchmark feeds it generated zones.

How, and why this way (the parts are in modules of their own: rasters and their validation in
:mod:`gis.analysis.monitoring_raster`, the common grid and window reads in
:mod:`gis.analysis.monitoring_grid`, patch building in :mod:`gis.analysis.monitoring_patches`;
their public names are importable from here too):

* **Windows.** Both rasters are read window by window over one common grid, so a raster larger
  than memory works; memory is bounded by the window and by the changed pixels' polygons, not
  by the raster. Windows that no zone touches are not read at all.
* **One grid.** Rasters on the same grid (same CRS and pixel size, origins a whole number of
  pixels apart) are read as they are. Otherwise the finer one is resampled (nearest neighbour:
  classes must not be averaged) onto the coarser one's grid, with a :class:`GridWarning`:
  resampling invents or loses detail and a person should know.
* **Exact zones.** Pixels are first narrowed to those *touching* a zone (rasterized with
  ``all_touched``), polygonized in pixel coordinates (integers, so patches cut by window edges
  merge exactly), and only then clipped to the zone polygons in EPSG:4490. A pixel half in the
  red line therefore counts with the half inside, and nothing outside the line is reported
  as inside it.
* **Areas** are ellipsoidal (:func:`gis.units.ellipsoidal_areas`) of the clipped pieces; pieces
  below ``min_patch_m2`` are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyproj
import rasterio
import shapely
from rasterio import features
from rasterio.transform import Affine

from gis.analysis.monitoring_grid import Grid, GridWarning
from gis.analysis.monitoring_patches import Piece, ZoneFeature, build_pieces
from gis.analysis.monitoring_raster import LandCoverPair
from gis.crs import STORAGE_CRS, transformer
from gis.errors import InputError
from gis.messages import msg
from gis.progress import NullProgress, Progress

__all__ = ["DEFAULT_WINDOW", "Grid", "GridWarning", "LandCoverPair", "Piece", "ZoneFeature",
           "detect_changes"]

#: Default window edge (pixels): a multiple of the usual 512-pixel COG block.
DEFAULT_WINDOW = 2048


def _to_grid_crs(zones: Sequence[ZoneFeature], crs: rasterio.crs.CRS) -> np.ndarray:
    """Zone polygons in the raster CRS (densified first so edges stay where they were)."""
    geoms = np.array([z.geometry for z in zones], dtype=object)
    target = pyproj.CRS.from_wkt(crs.to_wkt())
    if target.equals(STORAGE_CRS, ignore_axis_order=True):
        return geoms
    to_grid = transformer(STORAGE_CRS, target)
    dense = shapely.segmentize(geoms, 0.001)
    return shapely.transform(
        dense, lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))


def detect_changes(pair: LandCoverPair, zones: Sequence[ZoneFeature],
                   window: int | None = DEFAULT_WINDOW,
                   progress: Progress | None = None) -> list[Piece]:
    """Suspected new construction / bare land inside ``zones``, one piece per zone feature.

    ``window`` is the edge of the square windows read at a time (None reads the whole grid at
    once); the result does not depend on it.
    """
    progress = progress or NullProgress()
    params = pair.params
    if window is not None and window < 16:
        raise InputError(msg("monitor.window_too_small", min=16))
    codes = [c.code for c in sorted(params.classes, key=lambda c: c.value)]
    n = len(codes)
    target = np.zeros(n + 2, dtype=bool)  # indexed by class index + 2 (-2, -1 are not)
    for i, code in enumerate(codes):
        target[i + 2] = code in params.change_to
    zones = list(zones)
    if not zones:
        return []
    zones_grid = _to_grid_crs(zones, pair.grid.crs)
    zone_tree = shapely.STRtree(zones_grid)
    frags: list[shapely.Geometry] = []
    frag_codes: list[int] = []
    windows = list(pair.windows(window))
    progress.stage(msg("monitor.stage.comparing"), len(windows))
    for win in windows:
        wt = pair.grid.window_transform(win)
        x0, y0 = wt @ (0, 0)
        x1, y1 = wt @ (win.width, win.height)
        hits = zone_tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if len(hits) == 0:
            progress.advance()
            continue
        before, after = pair.classes(win)
        changed = target[after + 2] & ~target[before + 2] & (before >= 0)
        if changed.any():
            touched = features.rasterize(
                ((zones_grid[i], 1) for i in hits), out_shape=(win.height, win.width),
                transform=wt, all_touched=True, fill=0, dtype="uint8").astype(bool)
            mask = changed & touched
            if mask.any():
                code = np.where(mask, before.astype(np.int32) * n + after + 1, 0)
                for geom, value in features.shapes(
                        code.astype(np.int32), mask=mask, connectivity=4,
                        transform=Affine.translation(win.col_off, win.row_off)):
                    frags.append(shapely.geometry.shape(geom))
                    frag_codes.append(int(value))
        progress.advance()
    if not frags:
        return []
    return build_pieces(np.array(frags, dtype=object), np.array(frag_codes), codes, pair.grid,
                        zones, params.min_patch_m2, progress)
