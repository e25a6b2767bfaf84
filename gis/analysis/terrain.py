"""Terrain from a DEM: slope and aspect (Horn's method) and their statistics over a footprint.

A DEM may come in any CRS. Slope needs the cell size in metres on the ground, which is where
the naive approach (dividing by the pixel size in CRS units) goes wrong:

* **geographic** DEMs (degrees) get, per row, the east-west cell size ``N(φ)·cos φ·Δλ`` and
  the north-south size ``M(φ)·Δφ`` on the CRS's own ellipsoid (prime-vertical and meridional
  radii of curvature), so a 1" DEM at 39°N has 24 m by 31 m cells, not "1 by 1";
* **projected** DEMs get their linear unit converted to metres and map distances divided by
  the projection's scale factor at the area (for conformal projections such as Gauss-Kruger
  the scale is the same in every direction, so this is exact; for others it is the areal
  mean). In a 3-degree Gauss-Kruger zone the correction is at most ~1.4e-3.

Horn's method (Horn 1981; the one GDAL and ArcGIS use) weighs the 3 x 3 neighbourhood, which
keeps noise in integer DEMs from dominating. Cells next to nodata or the DEM edge get no slope
(NaN) rather than a guessed one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyproj
import rasterio
import shapely
from pydantic import BaseModel
from rasterio import features
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine
from rasterio.windows import Window

from gis.crs import STORAGE_CRS, crs_label, transformer
from gis.errors import InputError, MissingCRS
from gis.messages import Foreign, msg
from gis.rules.models import Citation, TerrainParameters
from gis.units import Area, geodesic_area

#: Refuse footprints whose DEM window exceeds this many cells (memory, not policy).
MAX_CELLS = 50_000_000


class TerrainStats(BaseModel):
    dem: str
    dem_crs: str
    #: east-west and north-south ground size of a cell at the footprint, metres
    cell_size_m: tuple[float, float]
    #: ``centres``: cells whose centre is in the footprint; ``touched``: the footprint is
    #: smaller than a cell, so every cell it touches
    sampling: Literal["centres", "touched"]
    pixels: int
    pixels_without_data: int
    slope_mean_deg: float
    slope_max_deg: float
    aspect_mean_deg: float | None
    elevation_min_m: float
    elevation_mean_m: float
    elevation_max_m: float
    steep_threshold_deg: float
    steep_share: float
    steep_area_m2: float
    steep_area_mu: float
    threshold_citation: Citation | None
    threshold_note: str


def _open_dem(path: str | Path) -> rasterio.DatasetReader:
    name = Path(path).name
    if not Path(path).is_file():
        raise InputError(msg("terrain.dem_missing", path=str(path)))
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        reason = Foreign(str(exc), msg("terrain.dem_unreadable_account"))
        raise InputError(msg("terrain.dem_unreadable", name=name, reason=reason)) from exc
    if ds.crs is None:
        ds.close()
        raise MissingCRS(msg("terrain.dem_no_crs", name=name))
    if ds.transform.b != 0 or ds.transform.d != 0:
        ds.close()
        raise InputError(msg("terrain.dem_rotated", name=name))
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.number):
        ds.close()
        raise InputError(msg("terrain.dem_not_heights", name=name, dtype=ds.dtypes[0]))
    return ds


def cell_sizes(crs: pyproj.CRS, transform: Affine, row_y: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Signed ground size (m) of a cell eastwards per column and northwards per row, for rows
    whose centre has CRS y-coordinate ``row_y`` (one value per row)."""
    if transform.b != 0 or transform.d != 0:
        raise InputError(msg("terrain.rotated_grid"))
    if crs.is_geographic:
        to_rad = crs.axis_info[0].unit_conversion_factor  # radians per unit (degree)
        ellipsoid = crs.ellipsoid
        a = ellipsoid.semi_major_metre
        f = 1 / ellipsoid.inverse_flattening if ellipsoid.inverse_flattening else 0.0
        e2 = f * (2 - f)
        phi = np.asarray(row_y, dtype=float) * to_rad
        w = 1 - e2 * np.sin(phi) ** 2
        n = a / np.sqrt(w)
        m = a * (1 - e2) / w**1.5
        return transform.a * to_rad * n * np.cos(phi), transform.e * to_rad * m
    if not crs.is_projected:
        raise InputError(msg("terrain.crs_unusable", name=crs.name))
    unit = crs.axis_info[0].unit_conversion_factor
    k = _scale_factor(crs, transform, row_y)
    rows = np.ones(len(row_y))
    return rows * transform.a * unit / k, rows * transform.e * unit / k


def _scale_factor(crs: pyproj.CRS, transform: Affine, row_y: np.ndarray) -> float:
    """The projection's linear scale at the middle of the rows (1.0 if PROJ cannot say)."""
    try:
        y = float(np.mean(row_y))
        x = transform.c + transform.a * 0.5
        lon, lat = transformer(crs, crs.geodetic_crs).transform(x, y)
        factors = pyproj.Proj(crs).get_factors(lon, lat)
        k = math.sqrt(factors.areal_scale)
    except Exception:  # a projection PROJ has no factors for: map metres are ground metres
        return 1.0
    return k if math.isfinite(k) and k > 0 else 1.0


def slope_aspect(z: np.ndarray, dx: np.ndarray, dy: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Slope (degrees) and aspect (degrees clockwise from north, the way the slope faces) of
    heights ``z`` (NaN for nodata) by Horn's method; ``dx``/``dy`` per row from
    :func:`cell_sizes`. Border cells and cells next to NaN are NaN; flat cells have no
    aspect (NaN)."""
    p = np.pad(np.asarray(z, dtype=float), 1, constant_values=np.nan)
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    per_col = ((c + 2 * f + i) - (a + 2 * d + g)) / 8.0
    per_row = ((g + 2 * h + i) - (a + 2 * b + c)) / 8.0
    east = per_col / np.asarray(dx, dtype=float)[:, None]
    north = per_row / np.asarray(dy, dtype=float)[:, None]
    slope = np.degrees(np.arctan(np.hypot(east, north)))
    with np.errstate(invalid="ignore"):
        aspect = np.degrees(np.arctan2(-east, -north)) % 360.0
    aspect[(east == 0) & (north == 0)] = np.nan
    return slope, aspect


def _read(ds: rasterio.DatasetReader, row0: int, col0: int, h: int, w: int) -> np.ndarray:
    """Heights of a window that may reach beyond the DEM (NaN there and at nodata)."""
    out = np.full((h, w), np.nan)
    r0, c0 = max(row0, 0), max(col0, 0)
    r1, c1 = min(row0 + h, ds.height), min(col0 + w, ds.width)
    if r1 > r0 and c1 > c0:
        block = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(float)
        if ds.nodata is not None:
            block[block == ds.nodata] = np.nan
        out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = block
    return out


def footprint_stats(dem: str | Path, geometry: shapely.Geometry,
                    params: TerrainParameters) -> TerrainStats:
    """Slope and elevation statistics of the DEM under ``geometry`` (EPSG:4490)."""
    with _open_dem(dem) as ds:
        crs = pyproj.CRS.from_wkt(ds.crs.to_wkt())
        if crs.equals(STORAGE_CRS, ignore_axis_order=True):
            local = geometry
        else:
            to_dem = transformer(STORAGE_CRS, crs)
            local = shapely.transform(shapely.segmentize(geometry, 0.0005), lambda xy: (
                np.column_stack(to_dem.transform(xy[:, 0], xy[:, 1]))))
        left, bottom, right, top = ds.bounds
        if not local.intersects(shapely.box(left, bottom, right, top)):
            raise InputError(msg("terrain.outside_dem", name=Path(dem).name))
        inv = ~ds.transform
        minx, miny, maxx, maxy = local.bounds
        corners = [inv @ (x, y) for x in (minx, maxx) for y in (miny, maxy)]
        col0 = math.floor(min(c for c, _ in corners)) - 1
        col1 = math.ceil(max(c for c, _ in corners)) + 1
        row0 = math.floor(min(r for _, r in corners)) - 1
        row1 = math.ceil(max(r for _, r in corners)) + 1
        h, w = row1 - row0, col1 - col0
        if h * w > MAX_CELLS:
            raise InputError(msg("terrain.too_many_cells", cells=h * w, limit=MAX_CELLS))
        z = _read(ds, row0, col0, h, w)
        window_transform = ds.transform @ Affine.translation(col0, row0)
    row_y = window_transform.f + window_transform.e * (np.arange(h) + 0.5)
    dx, dy = cell_sizes(crs, window_transform, row_y)
    slope, aspect = slope_aspect(z, dx, dy)
    sampling: Literal["centres", "touched"] = "centres"
    inside = features.rasterize([(local, 1)], out_shape=(h, w), transform=window_transform,
                                fill=0, dtype="uint8").astype(bool)
    if not inside.any():
        sampling = "touched"
        inside = features.rasterize([(local, 1)], out_shape=(h, w),
                                    transform=window_transform, fill=0, dtype="uint8",
                                    all_touched=True).astype(bool)
    valid = inside & np.isfinite(slope)
    if not valid.any():
        raise InputError(msg("terrain.no_data", name=Path(dem).name))
    weight = np.broadcast_to(np.abs(dx * dy)[:, None], (h, w))[valid]
    values = slope[valid]
    share = float(weight[values > params.steep_slope_deg].sum() / weight.sum())
    heights = z[inside & np.isfinite(z)]
    faces = aspect[valid]
    faces = faces[np.isfinite(faces)]
    aspect_mean = None
    if len(faces):
        sin, cos = np.sin(np.radians(faces)).mean(), np.cos(np.radians(faces)).mean()
        if math.hypot(sin, cos) > 1e-9:
            aspect_mean = round(math.degrees(math.atan2(sin, cos)) % 360.0, 1)
    middle = h // 2
    steep = Area(geodesic_area(geometry).m2 * share)
    return TerrainStats(
        dem=Path(dem).name, dem_crs=crs_label(crs),  # its name: no server path in answers
        cell_size_m=(round(abs(float(dx[middle])), 3), round(abs(float(dy[middle])), 3)),
        sampling=sampling, pixels=int(valid.sum()),
        pixels_without_data=int(inside.sum() - valid.sum()),
        slope_mean_deg=round(float(np.average(values, weights=weight)), 2),
        slope_max_deg=round(float(values.max()), 2), aspect_mean_deg=aspect_mean,
        elevation_min_m=round(float(heights.min()), 1),
        elevation_mean_m=round(float(heights.mean()), 1),
        elevation_max_m=round(float(heights.max()), 1),
        steep_threshold_deg=params.steep_slope_deg, steep_share=round(share, 4),
        steep_area_m2=round(steep.m2, 2), steep_area_mu=round(steep.mu, 2),
        threshold_citation=params.citation, threshold_note=params.note)


def footprint_terrain(dem: str | Path, footprint: str | dict[str, Any], crs: str = "CRS84",
                      profile: str = "ningxia", line_width_m: float | None = None
                      ) -> TerrainStats:
    """:func:`footprint_stats` for a footprint as planners hand it in (GeoJSON/WKT, any CRS),
    validated like the siting check's."""
    from gis.analysis.footprint import prepare_footprint
    from gis.rules import load_profile

    rules = load_profile(profile)
    fp = prepare_footprint(footprint, crs, rules.siting, line_width_m)
    return footprint_stats(dem, fp.geometry, rules.terrain)
