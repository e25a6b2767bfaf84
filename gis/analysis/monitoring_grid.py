"""The common pixel grid of two land-cover rasters, and reading windows of it.

Rasters on the same grid (same CRS and pixel size, origins a whole number of pixels apart) are
read as they are. Otherwise the finer one is resampled (nearest neighbour: classes must not be
averaged) onto the coarser one's grid, with a :class:`GridWarning`: resampling invents or
loses detail and a person should know. Part of :mod:`gis.analysis.monitoring_detect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from gis.errors import InputError, MissingCRS
from gis.messages import Foreign, Message, msg

__all__ = ["Grid", "GridWarning", "WindowReader", "common_grid", "on_one_grid", "open_classified",
           "pixel_area_m2"]


class GridWarning(UserWarning):
    """The two rasters were not on one grid: one was resampled onto the other's."""


@dataclass(frozen=True)
class Grid:
    """The common pixel grid both rasters are compared on."""

    crs: rasterio.crs.CRS
    transform: Affine
    width: int
    height: int

    def window_transform(self, window: Window) -> Affine:
        return self.transform @ Affine.translation(window.col_off, window.row_off)

    def describe(self) -> dict[str, Any]:
        return {"crs": self.crs.to_string(), "transform": list(self.transform)[:6],
                "width": self.width, "height": self.height}


def open_classified(path: str | Path, which: str | Message) -> rasterio.DatasetReader:
    """Open a raster that can be a classified land cover (integer, north-up, with a CRS);
    ``which`` names it in the errors, so a user knows which of the two files is wrong."""
    name = Path(path).name
    if not Path(path).is_file():
        raise InputError(msg("monitor.raster_missing", which=which, path=str(path)))
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        reason = Foreign(str(exc), msg("monitor.raster_unreadable_account"))
        raise InputError(msg("monitor.raster_unreadable", which=which, name=name,
                             reason=reason)) from exc
    if ds.crs is None:
        ds.close()
        raise MissingCRS(msg("monitor.raster_no_crs", which=which, name=name))
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
        ds.close()
        raise InputError(msg("monitor.raster_not_integer", which=which, name=name,
                             dtype=ds.dtypes[0]))
    t = ds.transform
    if t.b != 0 or t.d != 0:
        ds.close()
        raise InputError(msg("monitor.raster_rotated", which=which, name=name))
    return ds


def pixel_area_m2(ds: rasterio.DatasetReader) -> float:
    """Approximate ground area of a pixel, only to decide which raster is coarser."""
    crs = pyproj.CRS.from_wkt(ds.crs.to_wkt())
    area = abs(ds.transform.a * ds.transform.e)
    if crs.is_geographic:
        lat = (ds.bounds.top + ds.bounds.bottom) / 2
        return area * 111_320.0**2 * math.cos(math.radians(lat))
    return area * crs.axis_info[0].unit_conversion_factor ** 2


def on_one_grid(a: rasterio.DatasetReader, b: rasterio.DatasetReader) -> bool:
    """Same CRS and pixel size, origins a whole number of pixels apart: read as they are."""
    ta, tb = a.transform, b.transform
    if a.crs != b.crs or not (math.isclose(ta.a, tb.a, rel_tol=1e-9)
                              and math.isclose(ta.e, tb.e, rel_tol=1e-9)):
        return False
    col, row = ~ta @ (tb.c, tb.f)
    return abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6


def _floor(v: float) -> int:
    return math.floor(v + 1e-6)


def _ceil(v: float) -> int:
    return math.ceil(v - 1e-6)


def common_grid(ref: rasterio.DatasetReader, other: rasterio.DatasetReader,
                names: tuple[str, str]) -> Grid:
    """The part of ``ref``'s grid that ``other`` also covers."""
    ob = transform_bounds(other.crs, ref.crs, *other.bounds, densify_pts=21)
    rb = ref.bounds
    left, bottom = max(rb.left, ob[0]), max(rb.bottom, ob[1])
    right, top = min(rb.right, ob[2]), min(rb.top, ob[3])
    if left >= right or bottom >= top:
        raise InputError(
            msg("monitor.no_overlap", name_a=names[0], extent_a=tuple(round(v, 3) for v in rb),
                name_b=names[1], extent_b=tuple(round(v, 3) for v in ob),
                crs=ref.crs.to_string()),
            extent_a=list(rb), extent_b=list(ob))
    inv = ~ref.transform
    corners = [inv @ (x, y) for x in (left, right) for y in (bottom, top)]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    col0, col1 = max(_floor(min(cols)), 0), min(_ceil(max(cols)), ref.width)
    row0, row1 = max(_floor(min(rows)), 0), min(_ceil(max(rows)), ref.height)
    if col1 <= col0 or row1 <= row0:
        raise InputError(msg("monitor.overlap_below_pixel"))
    return Grid(ref.crs, ref.transform @ Affine.translation(col0, row0), col1 - col0,
                row1 - row0)


class WindowReader:
    """Reads windows of the common grid from one raster: directly (aligned) or resampled."""

    def __init__(self, ds: rasterio.DatasetReader, grid: Grid, nodata: int,
                 resample: bool) -> None:
        self.ds = ds
        self.nodata = nodata
        self.vrt: WarpedVRT | None = None
        if resample:
            self.vrt = WarpedVRT(ds, crs=grid.crs, transform=grid.transform, width=grid.width,
                                 height=grid.height, resampling=Resampling.nearest,
                                 nodata=nodata)
            self.offset = (0, 0)
        else:
            col, row = ~ds.transform @ (grid.transform.c, grid.transform.f)
            self.offset = (round(row), round(col))

    def read(self, window: Window) -> np.ndarray:
        if self.vrt is not None:
            return self.vrt.read(1, window=window)
        row0 = window.row_off + self.offset[0]
        col0 = window.col_off + self.offset[1]
        h, w = window.height, window.width
        r0, c0 = max(row0, 0), max(col0, 0)
        r1, c1 = min(row0 + h, self.ds.height), min(col0 + w, self.ds.width)
        if r0 == row0 and c0 == col0 and r1 == row0 + h and c1 == col0 + w:
            return self.ds.read(1, window=Window(col0, row0, w, h))
        out = np.full((h, w), self.nodata, dtype=self.ds.dtypes[0])
        if r1 > r0 and c1 > c0:
            out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = self.ds.read(
                1, window=Window(c0, r0, c1 - c0, r1 - r0))
        return out

    def close(self) -> None:
        if self.vrt is not None:
            self.vrt.close()
        self.ds.close()
