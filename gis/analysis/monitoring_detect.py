"""Land-cover change detection for red-line monitoring, without a database.

Given two classified land-cover rasters of one area at two dates, find the pixels that became
construction or bare land (the profile's ``monitoring.change_to`` classes) and return them as
polygons clipped to the zones they fall in (red-line zones, permanent basic farmland
parcels). :mod:`gis.analysis.monitoring` feeds it the zones from PostGIS and keeps the work
list; the benchmark feeds it generated zones.

How, and why this way:

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

import math
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
import shapely
from rasterio import features
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from gis.crs import STORAGE_CRS, transformer
from gis.errors import InputError, MissingCRS
from gis.layers.validation import polygonal_part
from gis.progress import NullProgress, Progress
from gis.rules.models import MonitoringParameters
from gis.units import ellipsoidal_areas

__all__ = ["GridWarning", "LandCoverPair", "Piece", "ZoneFeature", "detect_changes"]

#: Default window edge (pixels): a multiple of the usual 512-pixel COG block.
DEFAULT_WINDOW = 2048
_CLASS_TAG = re.compile(r"^CLASS_(-?\d+)$", re.IGNORECASE)
_DATE_TAGS = ("ACQUISITION_DATE", "DATE", "YEAR", "TIFFTAG_DATETIME")
_DATE = re.compile(r"^\s*(\d{4})(?:[-:/.](\d{1,2})(?:[-:/.](\d{1,2}))?)?")


class GridWarning(UserWarning):
    """The two rasters were not on one grid: one was resampled onto the other's."""


@dataclass(frozen=True)
class ZoneFeature:
    """A polygon changes are reported in: a red-line zone or a permanent basic farmland
    parcel (``layer``), in EPSG:4490."""

    layer: str
    key: str
    geometry: shapely.Geometry
    zone: str | None = None
    name: str | None = None
    feature_id: int | None = None
    county_code: str | None = None


@dataclass
class Piece:
    """A suspected change patch inside one zone feature."""

    layer: str
    feature: ZoneFeature
    kind: str
    to_class: str
    geometry: shapely.MultiPolygon
    area_m2: float
    #: Changed pixels of the patch that touch the zone (before clipping to it).
    patch_pixels: int
    #: ``"grassland->construction": pixels`` over the same pixels.
    transitions: dict[str, int]


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


def _date_label(value: str | date | int | None, path: str, which: str) -> tuple[int, ...]:
    if value is None:
        raise InputError(f"the date of {which} ({Path(path).name}) is unknown: its tags carry "
                         f"none of {', '.join(_DATE_TAGS)}; give it explicitly "
                         f"(--date-{which[-1].lower()} 2023 or 2023-06-30)")
    if isinstance(value, date):
        return (value.year, value.month, value.day)
    match = _DATE.match(str(value))
    if not match:
        raise InputError(f"cannot read a date from {value!r} for {which}: use YYYY, YYYY-MM or "
                         "YYYY-MM-DD")
    parts = tuple(int(p) for p in match.groups() if p is not None)
    try:
        date(*(*parts, 1, 1)[:3])
    except ValueError:
        raise InputError(f"{value!r} is not a valid date for {which}") from None
    return parts


def _format_date(parts: tuple[int, ...]) -> str:
    return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])


def _tag_date(ds: rasterio.DatasetReader) -> str | None:
    tags = {k.upper(): v for k, v in {**ds.tags(), **ds.tags(1)}.items()}
    for key in _DATE_TAGS:
        if tags.get(key):
            return tags[key]
    return None


def _declared_classes(ds: rasterio.DatasetReader) -> dict[int, str] | None:
    """The class table a raster carries in its tags (``CLASS_5=construction 建设用地``)."""
    out = {}
    for key, value in {**ds.tags(), **ds.tags(1)}.items():
        match = _CLASS_TAG.match(key)
        if match and value.strip():
            code = value.split()[0].lower()
            if code != "nodata":
                out[int(match.group(1))] = code
    return out or None


def _open(path: str | Path, which: str) -> rasterio.DatasetReader:
    if not Path(path).is_file():
        raise InputError(f"{which}: no such file {str(path)!r}")
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"{which}: {Path(path).name} is not a readable raster ({exc})") from exc
    if ds.crs is None:
        ds.close()
        raise MissingCRS(f"{which}: {Path(path).name} has no CRS; assign one (e.g. "
                         "gdal_edit.py -a_srs EPSG:4544) before comparing")
    if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
        ds.close()
        raise InputError(f"{which}: {Path(path).name} holds {ds.dtypes[0]} values; a classified "
                         "land cover is an integer raster")
    t = ds.transform
    if t.b != 0 or t.d != 0:
        ds.close()
        raise InputError(f"{which}: {Path(path).name} has a rotated grid; warp it to a "
                         "north-up grid first")
    return ds


def _pixel_area_m2(ds: rasterio.DatasetReader) -> float:
    """Approximate ground area of a pixel, only to decide which raster is coarser."""
    crs = pyproj.CRS.from_wkt(ds.crs.to_wkt())
    area = abs(ds.transform.a * ds.transform.e)
    if crs.is_geographic:
        lat = (ds.bounds.top + ds.bounds.bottom) / 2
        return area * 111_320.0**2 * math.cos(math.radians(lat))
    return area * crs.axis_info[0].unit_conversion_factor ** 2


def _aligned(a: rasterio.DatasetReader, b: rasterio.DatasetReader) -> bool:
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


def _common_grid(ref: rasterio.DatasetReader, other: rasterio.DatasetReader,
                 names: tuple[str, str]) -> Grid:
    """The part of ``ref``'s grid that ``other`` also covers."""
    ob = transform_bounds(other.crs, ref.crs, *other.bounds, densify_pts=21)
    rb = ref.bounds
    left, bottom = max(rb.left, ob[0]), max(rb.bottom, ob[1])
    right, top = min(rb.right, ob[2]), min(rb.top, ob[3])
    if left >= right or bottom >= top:
        raise InputError(
            f"the rasters do not overlap: {names[0]} covers {tuple(round(v, 3) for v in rb)} "
            f"and {names[1]} {tuple(round(v, 3) for v in ob)} (in {ref.crs.to_string()})",
            extent_a=list(rb), extent_b=list(ob))
    inv = ~ref.transform
    corners = [inv @ (x, y) for x in (left, right) for y in (bottom, top)]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    col0, col1 = max(_floor(min(cols)), 0), min(_ceil(max(cols)), ref.width)
    row0, row1 = max(_floor(min(rows)), 0), min(_ceil(max(rows)), ref.height)
    if col1 <= col0 or row1 <= row0:
        raise InputError("the rasters overlap by less than one pixel")
    return Grid(ref.crs, ref.transform @ Affine.translation(col0, row0), col1 - col0,
                row1 - row0)


class _Reader:
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


class _Classifier:
    """Raw pixel values -> class index (0..n-1), -1 for nodata, -2 for unknown values."""

    def __init__(self, values: Sequence[int], nodata: int | None, dtype: str) -> None:
        self.values = np.array(sorted(values), dtype=np.int64)
        self.nodata = nodata
        self.lut: np.ndarray | None = None
        self.offset = 0
        kind = np.dtype(dtype)
        if kind.itemsize <= 2:
            info = np.iinfo(kind)
            self.offset = -int(info.min)
            lut = np.full(int(info.max) - int(info.min) + 1, -2, dtype=np.int16)
            for i, v in enumerate(self.values):
                if info.min <= v <= info.max:
                    lut[int(v) + self.offset] = i
            if nodata is not None and info.min <= nodata <= info.max:
                lut[int(nodata) + self.offset] = -1
            self.lut = lut

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        if self.lut is not None:
            return self.lut[arr.astype(np.int64) + self.offset if self.offset else arr]
        flat = arr.astype(np.int64)
        pos = np.minimum(np.searchsorted(self.values, flat), len(self.values) - 1)
        out = np.where(self.values[pos] == flat, pos, -2).astype(np.int16)
        if self.nodata is not None:
            out[flat == self.nodata] = -1
        return out


@dataclass
class LandCoverPair:
    """Two opened, validated land-cover rasters on a common grid; use as a context manager.

    Everything that can be wrong with the inputs is refused here, before any pixel is
    compared: a missing file or CRS, a non-integer or rotated raster, class tables that
    disagree with each other or with the profile, dates in the wrong order, extents that do
    not overlap.
    """

    path_a: str
    path_b: str
    date_a: str
    date_b: str
    grid: Grid
    params: MonitoringParameters
    resampled: str | None
    warnings: list[dict[str, str]] = field(default_factory=list)
    _readers: tuple[_Reader, _Reader] | None = None
    _classifiers: tuple[_Classifier, _Classifier] | None = None

    @classmethod
    def open(cls, path_a: str | Path, path_b: str | Path, params: MonitoringParameters,
             date_a: str | date | None = None, date_b: str | date | None = None
             ) -> LandCoverPair:
        ds_a = _open(path_a, "raster A (earlier)")
        try:
            ds_b = _open(path_b, "raster B (later)")
        except Exception:
            ds_a.close()
            raise
        try:
            return cls._build(ds_a, ds_b, str(path_a), str(path_b), params, date_a, date_b)
        except Exception:
            ds_a.close()
            ds_b.close()
            raise

    @classmethod
    def _build(cls, ds_a: rasterio.DatasetReader, ds_b: rasterio.DatasetReader, path_a: str,
               path_b: str, params: MonitoringParameters, date_a: str | date | None,
               date_b: str | date | None) -> LandCoverPair:
        name_a, name_b = Path(path_a).name, Path(path_b).name
        notes: list[dict[str, str]] = []
        profile_classes = params.class_codes()
        declared = (_declared_classes(ds_a), _declared_classes(ds_b))
        if declared[0] and declared[1]:
            differ = sorted(v for v in set(declared[0]) & set(declared[1])
                            if declared[0][v] != declared[1][v])
            if differ:
                v = differ[0]
                raise InputError(
                    f"the class tables differ: value {v} is {declared[0][v]!r} in {name_a} "
                    f"and {declared[1][v]!r} in {name_b}; the two dates must use one "
                    "classification", values=differ)
        for name, table in zip((name_a, name_b), declared, strict=True):
            if table is None:
                notes.append({"code": "class_table_assumed",
                              "message": f"{name} declares no class table (CLASS_n tags); the "
                                         "profile's is assumed"})
                continue
            wrong = {v: c for v, c in table.items() if profile_classes.get(v) != c}
            if wrong:
                v, code = next(iter(sorted(wrong.items())))
                raise InputError(
                    f"the class table of {name} does not match the rule profile: value {v} is "
                    f"{code!r} in the raster and {profile_classes.get(v)!r} in the profile "
                    f"({', '.join(f'{k}={c}' for k, c in sorted(profile_classes.items()))})",
                    raster=name, mismatched={str(k): c for k, c in wrong.items()})
        parts_a = _date_label(date_a if date_a is not None else _tag_date(ds_a), path_a,
                              "raster A")
        parts_b = _date_label(date_b if date_b is not None else _tag_date(ds_b), path_b,
                              "raster B")
        n = min(len(parts_a), len(parts_b))
        if parts_a[:n] >= parts_b[:n]:
            raise InputError(f"raster A must be the earlier date: A is {_format_date(parts_a)}"
                             f", B is {_format_date(parts_b)}")
        aligned = _aligned(ds_a, ds_b)
        coarser_b = _pixel_area_m2(ds_b) > _pixel_area_m2(ds_a) * (1 + 1e-9)
        ref, other = (ds_b, ds_a) if coarser_b and not aligned else (ds_a, ds_b)
        names = (name_b, name_a) if ref is ds_b else (name_a, name_b)
        grid = _common_grid(ref, other, names)
        resampled = None
        if not aligned:
            resampled = names[1]
            message = (f"{names[1]} is not on the grid of {names[0]} (CRS "
                       f"{other.crs.to_string()} vs {ref.crs.to_string()}, pixel "
                       f"{abs(other.transform.a):g} vs {abs(ref.transform.a):g}); it was "
                       f"resampled (nearest neighbour) onto the grid of {names[0]}")
            warnings.warn(message, GridWarning, stacklevel=3)
            notes.append({"code": "resampled", "message": message})
        nodata = params.nodata
        readers = tuple(
            _Reader(ds, grid, int(ds.nodata) if ds.nodata is not None else nodata,
                    resample=not aligned and ds is other)
            for ds in (ds_a, ds_b))
        classifiers = tuple(
            _Classifier(list(profile_classes), int(ds.nodata) if ds.nodata is not None
                        else nodata, ds.dtypes[0])
            for ds in (ds_a, ds_b))
        return cls(path_a, path_b, _format_date(parts_a), _format_date(parts_b), grid, params,
                   resampled, notes, readers, classifiers)  # type: ignore[arg-type]

    def __enter__(self) -> LandCoverPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._readers is not None:
            for reader in self._readers:
                reader.close()
            self._readers = None

    def windows(self, size: int | None) -> Iterator[Window]:
        """Row-major windows of at most ``size`` pixels a side (None: the whole grid)."""
        h, w = self.grid.height, self.grid.width
        step_r, step_c = (h, w) if size is None else (size, size)
        for row in range(0, h, step_r):
            for col in range(0, w, step_c):
                yield Window(col, row, min(step_c, w - col), min(step_r, h - row))

    def classes(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """Class indices of both dates in ``window`` (-1 nodata); unknown values raise."""
        assert self._readers is not None and self._classifiers is not None, "pair is closed"
        out = []
        for reader, classify, path in zip(self._readers, self._classifiers,
                                          (self.path_a, self.path_b), strict=True):
            raw = reader.read(window)
            idx = classify(raw)
            unknown = idx == -2
            if unknown.any():
                values = sorted({int(v) for v in np.unique(raw[unknown])[:10]})
                raise InputError(
                    f"{Path(path).name} holds values {values} that are neither a class of the "
                    f"rule profile nor nodata; check the class table", values=values)
            out.append(idx)
        return out[0], out[1]


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


def _pixels_to_storage(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Pixel-coordinate polygons -> raster CRS (affine) -> EPSG:4490."""
    t = grid.transform
    # Collinear vertices (left where window edges cut a patch) removed first, so a patch has
    # the same vertices however it was read; then long straight runs get vertices every 16
    # pixels, since they bend once reprojected.
    dense = shapely.segmentize(shapely.normalize(shapely.simplify(geoms, 0)), 16.0)
    in_grid = shapely.transform(dense, lambda xy: np.column_stack(
        (t.a * xy[:, 0] + t.b * xy[:, 1] + t.c, t.d * xy[:, 0] + t.e * xy[:, 1] + t.f)))
    source = pyproj.CRS.from_wkt(grid.crs.to_wkt())
    if source.equals(STORAGE_CRS, ignore_axis_order=True):
        return in_grid
    to_4490 = transformer(source, STORAGE_CRS)
    return shapely.transform(
        in_grid, lambda xy: np.column_stack(to_4490.transform(xy[:, 0], xy[:, 1])))


def _components(geoms: np.ndarray) -> list[np.ndarray]:
    """Groups of polygons connected through a shared edge (4-connectivity: a shared corner
    alone does not connect), by union-find over the touching pairs."""
    n = len(geoms)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n > 1:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        if len(left):
            shared = shapely.length(shapely.intersection(geoms[left], geoms[right])) > 0
            for i, j in zip(left[shared], right[shared], strict=True):
                ri, rj = find(int(i)), find(int(j))
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(n)])
    order = np.argsort(roots, kind="stable")
    splits = np.flatnonzero(np.diff(roots[order])) + 1
    return np.split(order, splits)


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
        raise InputError("the window must be at least 16 pixels")
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
    progress.stage("comparing land cover", len(windows))
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
    return _pieces(np.array(frags, dtype=object), np.array(frag_codes), codes, pair.grid,
                   zones, params.min_patch_m2, progress)


def _pieces(frags: np.ndarray, frag_codes: np.ndarray, codes: list[str], grid: Grid,
            zones: list[ZoneFeature], min_area: float, progress: Progress) -> list[Piece]:
    n = len(codes)
    from_idx, to_idx = (frag_codes - 1) // n, (frag_codes - 1) % n
    pixels = np.rint(shapely.area(frags)).astype(np.int64)  # pixel units: exact
    patches, patch_to, patch_pixels, patch_transitions = [], [], [], []
    progress.stage("merging patches across windows")
    for to in np.unique(to_idx):
        members = np.flatnonzero(to_idx == to)
        for group in _components(frags[members]):
            idx = members[group]
            geom = frags[idx[0]] if len(idx) == 1 else shapely.union_all(frags[idx])
            transitions: dict[str, int] = {}
            for f, p in zip(from_idx[idx], pixels[idx], strict=True):
                key = f"{codes[f]}->{codes[to]}"
                transitions[key] = transitions.get(key, 0) + int(p)
            patches.append(geom)
            patch_to.append(int(to))
            patch_pixels.append(int(pixels[idx].sum()))
            patch_transitions.append(transitions)
    storage = _pixels_to_storage(np.array(patches, dtype=object), grid)
    zone_geoms = np.array([z.geometry for z in zones], dtype=object)
    shapely.prepare(zone_geoms)
    p_idx, z_idx = shapely.STRtree(zone_geoms).query(storage, predicate="intersects")
    progress.stage("clipping patches to the zones", len(p_idx))
    clipped = []
    for p, z in zip(p_idx, z_idx, strict=True):
        if shapely.contains_properly(zone_geoms[z], storage[p]):
            clipped.append(storage[p])
        else:
            clipped.append(polygonal_part(shapely.intersection(storage[p], zone_geoms[z])))
        progress.advance()
    if not clipped:
        return []
    areas = ellipsoidal_areas(np.array(clipped, dtype=object))
    out = []
    for p, z, geom, area in zip(p_idx, z_idx, clipped, areas, strict=True):
        if not area >= min_area:
            continue
        multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
        to_class = codes[patch_to[p]]
        out.append(Piece(layer=zones[z].layer, feature=zones[z], kind=f"new_{to_class}",
                         to_class=to_class, geometry=shapely.normalize(multi),
                         area_m2=float(area), patch_pixels=patch_pixels[p],
                         transitions=patch_transitions[p]))
    out.sort(key=lambda q: (q.layer, q.feature.key, q.kind, -q.geometry.centroid.y,
                            q.geometry.centroid.x))
    return out
