"""Coordinate reference systems: parsing what users type, and getting data into EPSG:4490.

Users name CRSs in many ways (``CRS84``, ``EPSG:4490``, ``4490``, an OGC URI, ``CGCS2000``,
``GCJ02``); this module turns each into a pyproj CRS plus a flag for GCJ-02, which is not a
real CRS but an obfuscated offset of WGS84 used by AMap/Tencent maps.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from gis import gcj02
from gis.errors import CoordinatesOutOfRange, CRSMismatch, MissingCRS
from gis.messages import msg

STORAGE_CRS = pyproj.CRS.from_epsg(4490)
CRS84 = pyproj.CRS.from_user_input("OGC:CRS84")
_GCJ_NAMES = {"gcj02", "gcj-02", "gcj_02", "mars"}
_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([A-Za-z0-9]+)$")


@dataclass(frozen=True)
class SourceCRS:
    """A CRS as given by a user or a file; ``gcj02`` means lon/lat in the GCJ-02 offset."""

    crs: pyproj.CRS
    gcj02: bool = False

    @property
    def label(self) -> str:
        if self.gcj02:
            return "GCJ-02"
        return crs_label(self.crs)


def crs_label(crs: pyproj.CRS) -> str:
    auth = crs.to_authority()
    if auth:
        return f"{auth[0]}:{auth[1]}"
    return crs.name


_local = threading.local()


def transformer(source: pyproj.CRS | int | str, target: pyproj.CRS | int | str
                ) -> pyproj.Transformer:
    """A cached always-xy transformer. Building one costs up to ~0.4 s (PROJ searches its
    database for operations), which would dominate a 20 ms siting check; transformers are
    cached per thread because PROJ contexts are not shared across threads."""
    cache: dict = getattr(_local, "transformers", None) or {}
    _local.transformers = cache
    key = (str(source), str(target))
    if key not in cache:
        cache[key] = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return cache[key]


def parse_crs(text: str) -> SourceCRS:
    """Parse a user-supplied CRS name; raise :class:`MissingCRS` with the accepted forms."""
    raw = text.strip()
    lowered = raw.lower()
    if lowered in _GCJ_NAMES:
        return SourceCRS(pyproj.CRS.from_epsg(4326), gcj02=True)
    if lowered in {"crs84", "ogc:crs84"}:
        return SourceCRS(CRS84)
    if lowered in {"cgcs2000", "cgcs 2000"}:
        return SourceCRS(STORAGE_CRS)
    if lowered in {"wgs84", "wgs 84"}:
        return SourceCRS(pyproj.CRS.from_epsg(4326))
    if match := _URI.match(raw):
        authority, code = match.groups()
        raw = f"{authority}:{code}"
    elif raw.isdigit():
        raw = f"EPSG:{raw}"
    try:
        return SourceCRS(pyproj.CRS.from_user_input(raw))
    except pyproj.exceptions.CRSError as exc:
        raise MissingCRS(msg("crs.unrecognised", text=text)) from exc


def resolve_source_crs(
    file_crs: str | None, given: str | None, from_gcj02: bool = False
) -> SourceCRS:
    """Decide the CRS of a source file.

    The file's own CRS wins; ``given`` fills in when the file has none. A ``given`` that
    contradicts the file is refused rather than silently preferred: the wrong ``.prj`` or the
    wrong flag, either way a person must look.
    """
    parsed_given = parse_crs(given) if given else None
    if file_crs:
        source = SourceCRS(pyproj.CRS.from_user_input(file_crs))
        if parsed_given and not parsed_given.gcj02 and not parsed_given.crs.equals(
            source.crs, ignore_axis_order=True
        ):
            raise CRSMismatch(
                msg("crs.mismatch", file_crs=source.label, given=parsed_given.label),
                file_crs=source.label, given=parsed_given.label,
            )
    elif parsed_given:
        source = parsed_given
    else:
        raise MissingCRS(msg("crs.missing"))
    if from_gcj02 or (parsed_given is not None and parsed_given.gcj02):
        if not source.crs.is_geographic:
            raise CRSMismatch(msg("crs.gcj02_projected", crs=source.label))
        return SourceCRS(source.crs, gcj02=True)
    return source


def check_lonlat_range(geoms: np.ndarray, row_ids: np.ndarray) -> None:
    """Refuse geographic coordinates outside ±180/±90: usually projected metres in a file
    that claims to be lon/lat."""
    bounds = shapely.bounds(geoms)
    bad = (
        (bounds[:, 0] < -180) | (bounds[:, 2] > 180) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)
    )
    if bad.any():
        rows = row_ids[bad][:20].tolist()
        raise CoordinatesOutOfRange(msg("crs.lonlat_range", count=int(bad.sum()), rows=rows),
                                    rows=rows)


def to_storage(
    geoms: np.ndarray,
    source: SourceCRS,
    row_ids: np.ndarray,
    extent: tuple[float, float, float, float],
) -> np.ndarray:
    """Transform geometries to EPSG:4490 and check they land inside ``extent``."""
    if source.crs.is_geographic:
        check_lonlat_range(geoms, row_ids)
    if source.gcj02:
        geoms = gcj02.gcj02_to_wgs84_array(geoms)
    if not source.crs.equals(STORAGE_CRS, ignore_axis_order=True):
        to_4490 = transformer(source.crs, STORAGE_CRS)
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(to_4490.transform(xy[:, 0], xy[:, 1]))
        )
    bounds = shapely.bounds(geoms)
    minx, miny, maxx, maxy = extent
    finite = np.isfinite(bounds).all(axis=1)
    outside = ~finite | (bounds[:, 0] < minx) | (bounds[:, 2] > maxx) | (
        bounds[:, 1] < miny) | (bounds[:, 3] > maxy)
    if outside.any():
        rows = row_ids[outside][:20].tolist()
        raise CoordinatesOutOfRange(
            msg("crs.outside_extent", count=int(outside.sum()), extent=extent,
                crs=source.label, rows=rows),
            rows=rows,
        )
    return geoms


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Kruger zone (CM form, no zone prefix) whose
    central meridian is nearest ``lon``: EPSG:4534 (CM 75E) .. EPSG:4554 (CM 135E).

    Ningxia (104-107.7E) falls in CM 105E, EPSG:4544. (DOMAIN.md names EPSG:4543 for it, but
    4543 is CM 102E; the registry is what PROJ uses.)
    """
    central = 3 * round(lon / 3)
    if not 75 <= central <= 135:
        raise CoordinatesOutOfRange(msg("crs.outside_gauss_kruger", lon=lon))
    return 4534 + (central - 75) // 3
