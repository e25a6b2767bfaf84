"""One tile of the tiled forest/grassland detection, as it runs in a dask worker.

A task reads its tile's parcels from PostGIS (the coordinator's snapshot, so every tile sees
the same data), finds the pairs whose interiors meet with shapely/GEOS (the five joins of
``sql/forest_grass_pairs.sql``: forest x grassland, forest and grassland against the survey
classes they contradict, ownership overlaps inside each layer) and writes the pieces it owns
to the run's staging table by binary COPY. Keys, attributes, areas, slivers and townships are
added afterwards in PostGIS by the same statement as the untiled scan
(:mod:`gis.analysis.forest_grass_scan`), so both give the same findings.

Ownership: a piece belongs to the tile whose half-open cell ``[x0, x1) x [y0, y1)`` holds its
representative point (``point_on_surface``); the outer cells reach to infinity. Every point
lies in exactly one cell and the point is a function of the piece alone, so a piece that
straddles tile borders is computed by each tile that reads both parcels but written by one.
A tile reads every parcel whose box meets its closed cell: both parcels of a pair contain the
piece's point, so the owning tile always has them.

This module is imported by the workers: it needs psycopg, numpy and shapely, nothing of the
API or the job machinery.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psycopg
import shapely
from psycopg import sql

from gis.db.metadata import STORAGE_SRID

#: The five joins in the order of ``sql/forest_grass_pairs.sql``: (branch, layer a, layer b);
#: a layer against itself also needs different owners. ``not_*_survey`` are the survey
#: patches of the classes that contradict layer a. The staging table keeps the branch number.
BRANCHES: tuple[tuple[int, str, str], ...] = (
    (0, "forest_parcels", "grassland_parcels"),
    (1, "forest_parcels", "not_forest_survey"),
    (2, "grassland_parcels", "not_grass_survey"),
    (3, "forest_parcels", "forest_parcels"),
    (4, "grassland_parcels", "grassland_parcels"),
)
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_COLLECTION = shapely.GeometryType.GEOMETRYCOLLECTION
STAGING_COLUMNS = ("tile", "branch", "id_a", "id_b", "geom")
_COPY_TYPES = ("int4", "int2", "int8", "int8", "bytea")


@dataclass(frozen=True)
class Tile:
    """A cell of the grid: ``cell`` owns points (half-open, outer sides infinite), ``box`` is
    the finite closed box whose parcels the tile reads."""

    index: int
    cell: tuple[float, float, float, float]
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class ScanContext:
    """What every tile of one run shares (sent to the workers once)."""

    conninfo: str
    staging: str
    scope_wkb: bytes
    #: Survey first-level classes a forest (grassland) parcel must not lie on.
    not_forest: tuple[str, ...]
    not_grass: tuple[str, ...]
    #: The coordinator's exported snapshot (``pg_export_snapshot``), or None.
    snapshot: str | None = None


@dataclass
class _Parcels:
    ids: np.ndarray
    geoms: np.ndarray
    #: Owner ('' for none) for forest and grassland, first-level class for the survey.
    tag: np.ndarray

    @property
    def bounds(self) -> np.ndarray:
        return shapely.bounds(self.geoms)


_READ = {
    "forest_parcels": ("forest_parcels", "owner"),
    "grassland_parcels": ("grassland_parcels", "owner"),
    "survey_patches": ("survey_patches", "land_use_code"),
}


def _read(cur: psycopg.Cursor, layer: str, box: tuple[float, ...]) -> _Parcels:
    table, tag = _READ[layer]
    query = sql.SQL(
        "SELECT id, ST_AsBinary(geom), coalesce({tag}, '') FROM {table} "
        "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, {srid})").format(
        tag=sql.Identifier(tag), table=sql.Identifier(table), srid=sql.Literal(STORAGE_SRID))
    rows = cur.execute(query, box, binary=True).fetchall()
    if not rows:
        return _Parcels(np.empty(0, np.int64), np.empty(0, object), np.empty(0, object))
    ids, wkb, tags = zip(*rows, strict=True)
    geoms = shapely.from_wkb(list(wkb))
    shapely.prepare(geoms)
    return _Parcels(np.asarray(ids, np.int64), geoms, np.asarray(tags, object))


def _subset(parcels: _Parcels, keep: np.ndarray) -> _Parcels:
    return _Parcels(parcels.ids[keep], parcels.geoms[keep], parcels.tag[keep])


def _polygonal(pieces: np.ndarray) -> np.ndarray:
    """The polygonal part of each piece, as ``ST_CollectionExtract(.., 3)`` (None when none)."""
    out = pieces.copy()
    types = shapely.get_type_id(pieces)
    out[~np.isin(types, _POLYGONAL) & (types != _COLLECTION)] = None
    for k in np.flatnonzero(types == _COLLECTION):
        polygons = [p for part in shapely.get_parts(pieces[k])
                    if shapely.get_type_id(part) in _POLYGONAL
                    for p in shapely.get_parts(part)]
        out[k] = shapely.multipolygons(polygons) if polygons else None
    return out


def _pairs(a: _Parcels, b: _Parcels, same_layer: bool, in_scope: np.ndarray,
           cell: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parcel ids and pieces of the pairs whose interiors meet and whose piece this tile
    owns. Cheap tests first: the scope, ids and owners, then whether the pair's common box can
    hold a point of the cell at all, then ``touches`` (neighbours sharing an edge, nearly
    every candidate within a layer) before the costly intersection."""
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, object))
    if not len(a.ids) or not len(b.ids):
        return empty
    ai, bi = shapely.STRtree(b.geoms).query(a.geoms, predicate="intersects")
    keep = in_scope[ai]
    if same_layer:
        keep &= (b.ids[bi] > a.ids[ai]) & (a.tag[ai] != b.tag[bi])
    ai, bi = ai[keep], bi[keep]
    ab, bb = a.bounds[ai], b.bounds[bi]
    x0, y0, x1, y1 = cell
    keep = ((np.minimum(ab[:, 2], bb[:, 2]) >= x0) & (np.maximum(ab[:, 0], bb[:, 0]) < x1)
            & (np.minimum(ab[:, 3], bb[:, 3]) >= y0) & (np.maximum(ab[:, 1], bb[:, 1]) < y1))
    ai, bi = ai[keep], bi[keep]
    inner = ~shapely.touches(a.geoms[ai], b.geoms[bi])
    ai, bi = ai[inner], bi[inner]
    pieces = _polygonal(shapely.intersection(a.geoms[ai], b.geoms[bi]))
    keep = ~shapely.is_missing(pieces)
    keep[keep] = ~shapely.is_empty(pieces[keep])
    ai, bi, pieces = ai[keep], bi[keep], pieces[keep]
    points = shapely.point_on_surface(pieces)
    x, y = shapely.get_x(points), shapely.get_y(points)
    owned = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    return a.ids[ai[owned]], b.ids[bi[owned]], pieces[owned]


def find_pieces(context: ScanContext, tile: Tile,
                layers: dict[str, _Parcels]) -> list[tuple[int, np.ndarray, np.ndarray,
                                                            np.ndarray]]:
    """The pieces ``tile`` owns, per branch: (branch, ids a, ids b, pieces)."""
    survey = layers["survey_patches"]
    first_level = np.asarray([code[:2] for code in survey.tag], object)
    sets = {
        "not_forest_survey": _subset(survey, np.isin(first_level, context.not_forest)),
        "not_grass_survey": _subset(survey, np.isin(first_level, context.not_grass)),
    }
    scope = shapely.from_wkb(context.scope_wkb)
    shapely.prepare(scope)
    in_scope = {name: shapely.intersects(scope, layers[name].geoms)
                for name in ("forest_parcels", "grassland_parcels")}
    out = []
    for branch, name_a, name_b in BRANCHES:
        b = sets[name_b] if name_b in sets else layers[name_b]
        ids_a, ids_b, pieces = _pairs(layers[name_a], b, name_a == name_b, in_scope[name_a],
                                      tile.cell)
        out.append((branch, ids_a, ids_b, pieces))
    return out


_EWKB_HEADER = struct.pack("<BII", 1, 6 | 0x20000000, STORAGE_SRID)  # MultiPolygon + SRID


def _ewkb_multipolygons(pieces: np.ndarray) -> list[bytes]:
    """EWKB MultiPolygons with the storage SRID for the binary COPY, as
    :func:`gis.layers.load.ewkb_multipolygons` builds them (a Polygon's WKB prefixed with a
    one-member MultiPolygon header). Not imported from there: the loader pulls in pandas and
    pyogrio, seconds of start-up in every worker process for nothing."""
    if not len(pieces):
        return []
    wkb = shapely.to_wkb(pieces, byte_order=1, include_srid=False)
    is_polygon = shapely.get_type_id(pieces) == shapely.GeometryType.POLYGON
    single = _EWKB_HEADER + struct.pack("<I", 1)
    return [single + w if p else _EWKB_HEADER + w[5:]
            for w, p in zip(wkb.tolist(), is_polygon.tolist(), strict=True)]


@contextmanager
def snapshot_cursor(conninfo: str, snapshot: str | None) -> Iterator[psycopg.Cursor]:
    """A worker's cursor in one transaction that sees the coordinator's exported
    ``snapshot`` (when given), so every tile reads the same state of the data; committed on
    leaving, rolled back on an error."""
    with psycopg.connect(conninfo) as conn:
        if snapshot is not None:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.cursor() as cur:
            if snapshot is not None:
                cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(
                    sql.Literal(snapshot)))
            yield cur


def scan_tile(tile: Tile, context: ScanContext) -> int:
    """Read, detect and write one tile (one transaction); the number of pieces written."""
    with snapshot_cursor(context.conninfo, context.snapshot) as cur:
        layers = {name: _read(cur, name, tile.box) for name in _READ}
        found = find_pieces(context, tile, layers)
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(context.staging),
            sql.SQL(", ").join(map(sql.Identifier, STAGING_COLUMNS)))
        written = 0
        with cur.copy(copy_sql) as copy:
            copy.set_types(list(_COPY_TYPES))
            for branch, ids_a, ids_b, pieces in found:
                wkb = _ewkb_multipolygons(pieces)
                for id_a, id_b, geom in zip(ids_a.tolist(), ids_b.tolist(), wkb,
                                            strict=True):
                    copy.write_row((tile.index, branch, id_a, id_b, geom))
                written += len(wkb)
    return written


def grid(extent: tuple[float, float, float, float], tiles: int) -> list[Tile]:
    """About ``tiles`` cells over ``extent``, as square as the extent allows (in degrees);
    the outer cells own everything beyond the extent too."""
    x0, y0, x1, y1 = extent
    width, height = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    cols = max(1, round(math.sqrt(tiles * width / height)))
    rows = max(1, math.ceil(tiles / cols))
    xs = [x0 + width * i / cols for i in range(cols + 1)]
    ys = [y0 + height * j / rows for j in range(rows + 1)]
    out = []
    for j in range(rows):
        for i in range(cols):
            cell = (-math.inf if i == 0 else xs[i], -math.inf if j == 0 else ys[j],
                    math.inf if i == cols - 1 else xs[i + 1],
                    math.inf if j == rows - 1 else ys[j + 1])
            out.append(Tile(len(out), cell, (xs[i], ys[j], xs[i + 1], ys[j + 1])))
    return out
