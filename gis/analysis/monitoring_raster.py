"""Two classified land-cover rasters opened for comparison: :class:`LandCoverPair`.

Everything that can be wrong with the inputs is refused here, before any pixel is compared:
dates (from the arguments or the rasters' tags) and their order, class tables (``CLASS_n``
tags) against each other and the rule profile, and, through :mod:`gis.analysis.monitoring_grid`,
files, CRSs, grids and extents. Part of :mod:`gis.analysis.monitoring_detect`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from gis.analysis.monitoring_grid import (
    Grid,
    GridWarning,
    WindowReader,
    common_grid,
    on_one_grid,
    open_classified,
    pixel_area_m2,
)
from gis.analysis.monitoring_models import note
from gis.errors import InputError
from gis.messages import Joined, Message, msg
from gis.rules.models import MonitoringParameters

__all__ = ["LandCoverPair"]

_CLASS_TAG = re.compile(r"^CLASS_(-?\d+)$", re.IGNORECASE)
_DATE_TAGS = ("ACQUISITION_DATE", "DATE", "YEAR", "TIFFTAG_DATETIME")
_DATE = re.compile(r"^\s*(\d{4})(?:[-:/.](\d{1,2})(?:[-:/.](\d{1,2}))?)?")


def _date_label(value: str | date | int | None, path: str, which: str) -> tuple[int, ...]:
    """The date parts of ``value`` for raster ``which`` ("a" or "b")."""
    name = msg("monitor.raster_a" if which == "a" else "monitor.raster_b")
    if value is None:
        raise InputError(msg("monitor.date_unknown", which=name, name=Path(path).name,
                             tags=Joined.of(_DATE_TAGS), option=which))
    if isinstance(value, date):
        return (value.year, value.month, value.day)
    match = _DATE.match(str(value))
    if not match:
        raise InputError(msg("monitor.date_unreadable", value=value, which=name))
    parts = tuple(int(p) for p in match.groups() if p is not None)
    try:
        date(*(*parts, 1, 1)[:3])
    except ValueError:
        raise InputError(msg("monitor.date_invalid", value=value, which=name)) from None
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


def _resampled(names: tuple[str, str], other: rasterio.DatasetReader,
               ref: rasterio.DatasetReader) -> Message:
    """The warning that ``names[1]`` (``other``) was resampled onto ``names[0]``'s grid."""
    return msg("monitor.resampled", other=names[1], ref=names[0],
               crs_other=other.crs.to_string(), crs_ref=ref.crs.to_string(),
               pixel_other=abs(other.transform.a), pixel_ref=abs(ref.transform.a))


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
    _readers: tuple[WindowReader, WindowReader] | None = None
    _classifiers: tuple[_Classifier, _Classifier] | None = None

    @classmethod
    def open(cls, path_a: str | Path, path_b: str | Path, params: MonitoringParameters,
             date_a: str | date | None = None, date_b: str | date | None = None
             ) -> LandCoverPair:
        ds_a = open_classified(path_a, msg("monitor.raster_a_earlier"))
        try:
            ds_b = open_classified(path_b, msg("monitor.raster_b_later"))
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
                    msg("monitor.class_tables_differ", value=v, class_a=declared[0][v],
                        name_a=name_a, class_b=declared[1][v], name_b=name_b), values=differ)
        for name, table in zip((name_a, name_b), declared, strict=True):
            if table is None:
                notes.append(note("class_table_assumed",
                                  msg("monitor.class_table_assumed", name=name)))
                continue
            wrong = {v: c for v, c in table.items() if profile_classes.get(v) != c}
            if wrong:
                v, code = next(iter(sorted(wrong.items())))
                table = Joined.of(f"{k}={c}" for k, c in sorted(profile_classes.items()))
                raise InputError(
                    msg("monitor.class_table_mismatch", name=name, value=v, found=code,
                        expected=profile_classes.get(v), table=table),
                    raster=name, mismatched={str(k): c for k, c in wrong.items()})
        parts_a = _date_label(date_a if date_a is not None else _tag_date(ds_a), path_a, "a")
        parts_b = _date_label(date_b if date_b is not None else _tag_date(ds_b), path_b, "b")
        n = min(len(parts_a), len(parts_b))
        if parts_a[:n] >= parts_b[:n]:
            raise InputError(msg("monitor.dates_order", date_a=_format_date(parts_a),
                                 date_b=_format_date(parts_b)))
        aligned = on_one_grid(ds_a, ds_b)
        coarser_b = pixel_area_m2(ds_b) > pixel_area_m2(ds_a) * (1 + 1e-9)
        ref, other = (ds_b, ds_a) if coarser_b and not aligned else (ds_a, ds_b)
        names = (name_b, name_a) if ref is ds_b else (name_a, name_b)
        grid = common_grid(ref, other, names)
        resampled = None
        if not aligned:
            resampled = names[1]
            message = _resampled(names, other, ref)
            warnings.warn(message.render("en"), GridWarning, stacklevel=3)
            notes.append(note("resampled", message))
        nodata = params.nodata
        readers = tuple(
            WindowReader(ds, grid, int(ds.nodata) if ds.nodata is not None else nodata,
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
                raise InputError(msg("monitor.unknown_values", name=Path(path).name,
                                     values=values), values=values)
            out.append(idx)
        return out[0], out[1]
