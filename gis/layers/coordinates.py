"""Footprints as land applications carry them: boundary-point coordinate files (界址点坐标,
the text exchange format of 建设用地报批 and 勘测定界 submissions) and WKT.

A coordinate file has a header of ``key=value`` lines (``坐标系=2000国家大地坐标系``,
``几度分带=3``, ``带号=35``, ``投影类型=高斯克吕格``), then per parcel a line ending in ``@``
(``点数,面积,地块编号,地块名称,图形属性,图幅号,地块用途,地类编码,@``) and its points as
``J1,1,X,Y``: point number, ring number (圈号), then X the northing and Y the easting, in
metres, as surveyors write them. Y may carry the zone number in front (``35500000.0`` is
zone 35, easting 500000.0). The zone comes from the header, else from that prefix, else from
the caller (the portal's zone picker); two that disagree are refused, since one of them is
wrong and a footprint put in the wrong zone lands 300 km away. Only CGCS2000 coordinates are
read: a 西安80 or 北京54 file must be converted first (the datum shift is not a formula).

WKT files hold one geometry, or one per line; ``SRID=4490;`` (EWKT) names the CRS, else the
caller does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import shapely

from gis.crs import parse_crs
from gis.errors import EmptySource, InputError, InvalidGeometry, MissingCRS
from gis.messages import Foreign, msg

#: The upload suffixes read here: coordinate files and WKT.
TEXT_SUFFIXES = (".txt", ".wkt")
#: CGCS2000 Gauss-Kruger zones by width: (first zone, last zone) as numbered in China.
ZONES = {3: (25, 45), 6: (13, 23)}
_HEADER = re.compile(r"^\s*([^=\[\],]+?)\s*=\s*(.*?)\s*$")
_EWKT = re.compile(r"^\s*SRID\s*=\s*(\d+)\s*;\s*(.*)$", re.I | re.S)


@dataclass
class ParsedFootprints:
    """Geometries in their source CRS (``crs``, None when the file does not say), with the
    properties each parcel or line carried."""

    geometries: list[shapely.Geometry]
    properties: list[dict[str, Any]] = field(default_factory=list)
    crs: str | None = None


def decode(data: bytes) -> str:
    """Survey software writes UTF-8 or GBK; a BOM is dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def zone_epsg(zone: int, width: int | None = None) -> tuple[int, int]:
    """(EPSG code of the zone's central-meridian CRS, the zone width) of a CGCS2000
    Gauss-Kruger zone; the width follows from the number when not given (13-23 are 6-degree
    zones, 25-45 3-degree ones)."""
    if width is None:
        width = 6 if ZONES[6][0] <= zone <= ZONES[6][1] else 3
    low, high = ZONES[width]
    if not low <= zone <= high:
        raise InputError(msg("coordinates.zone_range", zone=zone, width=width, low=low,
                             high=high))
    if width == 3:
        return 4534 + (3 * zone - 75) // 3, width
    return 4502 + (6 * zone - 3 - 75) // 6, width


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _ring(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return points if points[0] == points[-1] else [*points, points[0]]


def _parcel(filename: str, name: str, rings: dict[int, list[tuple[float, float]]]
            ) -> shapely.Geometry:
    """A parcel's polygon: ring 1 the outline, a later ring inside it a hole, one outside
    it another part."""
    polygons: list[list[list[tuple[float, float]]]] = []
    for number, points in rings.items():
        if len(set(points)) < 3:
            raise InvalidGeometry(msg("coordinates.too_few_points", filename=filename,
                                      parcel=name, ring=number, count=len(set(points))))
        ring = _ring(points)
        inside = next((p for p in polygons if shapely.Polygon(p[0]).contains(
            shapely.Polygon(ring))), None)
        if inside is not None:
            inside.append(ring)
        else:
            polygons.append([ring])
    parts = [shapely.Polygon(p[0], p[1:]) for p in polygons]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def read_coordinate_file(data: bytes, filename: str, zone: int | None = None,
                         given_crs: str | None = None) -> ParsedFootprints:
    """The parcels of a boundary-point coordinate file, in the zone's CGCS2000
    Gauss-Kruger CRS (easting, northing)."""
    header: dict[str, str] = {}
    parcels: list[tuple[dict[str, Any], dict[int, list[tuple[float, float]]]]] = []
    prefixes: set[int] = set()
    for number, raw in enumerate(decode(data).splitlines(), start=1):
        line = raw.replace("，", ",").strip()
        if not line or line.startswith(("[", "#")):
            continue
        if (match := _HEADER.match(line)) and not parcels:
            header[match.group(1)] = match.group(2)
            continue
        cells = [c.strip() for c in line.split(",")] if "," in line else line.split()
        if cells[-1] == "@":
            parcels.append((_parcel_properties(cells, len(parcels) + 1), {}))
            continue
        point = _point(cells)
        if point is None:
            raise InputError(msg("coordinates.bad_line", filename=filename, line=number,
                                 content=raw.strip()[:80]))
        ring, x, y = point
        if not parcels:
            parcels.append(({"parcel_no": "1"}, {}))
        if y >= 1e7:  # the zone number written in front of the easting
            prefixes.add(int(y // 1e6))
            y -= int(y // 1e6) * 1e6
        parcels[-1][1].setdefault(ring, []).append((y, x))
    parcels = [p for p in parcels if p[1]]
    if not parcels:
        raise EmptySource(msg("coordinates.no_points", filename=filename))
    _check_datum(header, filename)
    epsg = _zone_crs(header, prefixes, zone, filename)
    if given_crs and not parse_crs(given_crs).crs.equals(parse_crs(epsg).crs):
        raise InputError(msg("coordinates.crs_conflict", filename=filename, found=epsg,
                             given=given_crs))
    geometries = [_parcel(filename, str(props.get("parcel_no")), rings)
                  for props, rings in parcels]
    return ParsedFootprints(geometries, [props for props, _ in parcels], epsg)


def _point(cells: list[str]) -> tuple[int, float, float] | None:
    """(ring, X, Y) of a point line ``J1,1,X,Y`` (point number, ring, northing, easting);
    None if it is not one."""
    if len(cells) < 4 or not cells[1].isdigit():
        return None
    x, y = _number(cells[2]), _number(cells[3])
    if x is None or y is None:
        return None
    return int(cells[1]), x, y


def _parcel_properties(cells: list[str], number: int) -> dict[str, Any]:
    """The parcel line's fields: points, area, number, name, kind, sheet, use, class, @."""
    def cell(i: int) -> str | None:
        return cells[i] if len(cells) > i + 1 and cells[i] else None

    props: dict[str, Any] = {"parcel_no": cell(2) or str(number)}
    for key, i in (("name", 3), ("use", 6), ("land_class", 7)):
        if cell(i):
            props[key] = cell(i)
    if cell(1) and (area := _number(cell(1) or "")) is not None:
        props["declared_area"] = area
    return props


def _check_datum(header: dict[str, str], filename: str) -> None:
    datum = header.get("坐标系", "")
    if datum and not re.search(r"2000|CGCS", datum, re.I):
        raise InputError(msg("coordinates.datum", filename=filename, datum=datum))


def _zone_crs(header: dict[str, str], prefixes: set[int], chosen: int | None,
              filename: str) -> str:
    width_text = header.get("几度分带", "").strip()
    width = int(width_text) if width_text.isdigit() else None
    if width is not None and width not in ZONES:
        raise InputError(msg("coordinates.width", filename=filename, width=width))
    named = header.get("带号", "").strip()
    found = {int(named)} if named.isdigit() else set()
    found |= prefixes
    if len(found) > 1:
        a, b = sorted(found)[:2]
        raise InputError(msg("coordinates.zone_conflict", filename=filename, found=a,
                             chosen=b))
    if found and chosen is not None and chosen not in found:
        raise InputError(msg("coordinates.zone_conflict", filename=filename,
                             found=next(iter(found)), chosen=chosen))
    zone = next(iter(found)) if found else chosen
    if zone is None:
        raise MissingCRS(msg("coordinates.zone_unknown", filename=filename))
    return f"EPSG:{zone_epsg(zone, width)[0]}"


def read_wkt_file(data: bytes, filename: str, given_crs: str | None = None
                  ) -> ParsedFootprints:
    """The geometries of a WKT/EWKT file: the whole text as one geometry, else one per
    non-empty line."""
    body = decode(data).strip()
    if not body:
        raise EmptySource(msg("wkt.empty", filename=filename))
    try:
        chunks = [(1, _one_wkt(body))]
    except (shapely.errors.GEOSException, ValueError):
        chunks = []
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    chunks.append((number, _one_wkt(line)))
                except (shapely.errors.GEOSException, ValueError) as exc:
                    reason = Foreign(str(exc), msg("wkt.bad_account"))
                    raise InputError(msg("wkt.bad", filename=filename, line=number,
                                         reason=reason)) from exc
    srids = {srid for _, (srid, _) in chunks if srid}
    crs = f"EPSG:{sorted(srids)[0]}" if srids else None
    if len(srids) > 1 or (crs and given_crs and not parse_crs(given_crs).crs.equals(
            parse_crs(crs).crs)):
        raise InputError(msg("wkt.srid_conflict", filename=filename,
                             srid=",".join(map(str, sorted(srids))), given=given_crs or "-"))
    return ParsedFootprints([g for _, (_, g) in chunks],
                            [{"line": number} for number, _ in chunks], crs or given_crs)


def _one_wkt(text: str) -> tuple[int | None, shapely.Geometry]:
    srid = None
    if match := _EWKT.match(text):
        srid, text = int(match.group(1)), match.group(2)
    geom = shapely.from_wkt(text.strip())
    if geom is None or geom.is_empty:
        raise ValueError("empty geometry")
    return srid, geom


def read_text_footprints(data: bytes, filename: str, suffix: str, crs: str | None,
                         zone: int | None) -> tuple[Any, str | None]:
    """A ``.txt`` coordinate file or ``.wkt`` file as a GeoDataFrame and its CRS, for the
    footprint upload (``api/routers/footprints.py``)."""
    import geopandas as gpd

    parsed = (read_wkt_file(data, filename, crs) if suffix == ".wkt"
              else read_coordinate_file(data, filename, zone, crs))
    frame = gpd.GeoDataFrame(parsed.properties, geometry=parsed.geometries)
    return frame, parsed.crs
