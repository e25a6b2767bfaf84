"""Region-wide three-control-line conflicts on the tiling of the forest/grassland detection.

The overlaps between the red line, permanent basic farmland and the urban development
boundary (:func:`gis.analysis.control_lines.line_conflicts`) are one PostGIS join per pair of
lines; over a whole region that join runs on one database core. Here the same pairs are
found tile by tile on dask.distributed, on the grid and cluster of the tiled detection
(:func:`gis.analysis.tile_scan.grid`, :func:`gis.analysis.tiled_detection.dask_client`:
a LocalCluster by default, any scheduler by ``GIS_DASK_SCHEDULER``).

- The grid covers the features of the division's scoped layers (the a-side of every pair:
  county code under the division, or none), so every overlap's point lies inside it.
- A task reads, in the coordinator's exported snapshot, the features of the three lines in
  their version in force whose boxes meet its tile, whole (an overlap is computed from the
  full geometries, never from clipped ones), with a flag saying whether each is in scope.
- It finds the pairs whose interiors meet (``intersects and not touches``, as the SQL), keeps
  the polygonal part of the intersection (``ST_CollectionExtract(.., 3)``) and returns the
  pieces it owns: those whose representative point lies in its half-open cell. The piece is
  a function of the two geometries alone, so a piece straddling tile borders is computed by
  every tile that reads both features and returned by exactly one.
- The coordinator measures the pieces in PostGIS with the untiled statement's own measure
  and writer (``sql/control_line_tile_pieces.sql``: ellipsoidal geography area, 8-decimal
  GeoJSON, same ordering), and :func:`gis.analysis.control_lines.line_conflicts` applies the
  sliver tolerance and builds ids exactly as for the untiled rows.

Nothing is written to the database, so unlike the tiled detection there is no staging table:
the pieces (a few per conflict) come back as task results. This module does not import
:mod:`gis.analysis.control_lines` (which calls it); the pairs are passed in. Workers import
it to run :func:`conflict_tile`, hence only psycopg, numpy and shapely at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from gis.analysis.statements import statement
from gis.analysis.tile_scan import Tile, grid, snapshot_cursor
from gis.db.metadata import STORAGE_SRID

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gis.analysis.tiled_detection import TileOptions

#: A pair of lines: (layer a, key column a, layer b, key column b); layer a is scoped.
Pair = tuple[str, str, str, str]
#: What a task returns per owned piece: (pair index, key a, key b, WKB of the piece).
PieceRow = tuple[int, str, str, bytes]

#: A layer's features in force whose boxes meet a tile, whole, with the scope flag.
_READ = sql.SQL(
    "SELECT {key}::text, ST_AsBinary(geom), "
    "(coalesce(county_code, '') LIKE %(prefix)s OR county_code IS NULL) FROM {table} "
    "WHERE geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, {srid}) "
    "AND version = (SELECT control_line_version({layer}))")
#: One scoped layer's features in force (the grid's extent is over these).
_SCOPED = sql.SQL(
    "SELECT geom FROM {table} WHERE (coalesce(county_code, '') LIKE %(prefix)s "
    "OR county_code IS NULL) AND version = (SELECT control_line_version({layer}))")
_EXTENT = sql.SQL(
    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), n FROM "
    "(SELECT ST_Extent(geom)::geometry AS e, count(*) AS n FROM ({parts}) AS f) AS x")
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class ConflictContext:
    """What every tile of one run shares (sent to the workers once)."""

    conninfo: str
    #: The division's LIKE prefix (``6402%``), bound as in ``sql/control_line_pairs.sql``.
    prefix: str
    #: The pairs of lines, in the order their rows are returned.
    pairs: tuple[Pair, ...]
    #: The coordinator's exported snapshot (``pg_export_snapshot``).
    snapshot: str | None = None


@dataclass(frozen=True)
class _Features:
    """One line's features read by a tile: keys, prepared geometries, and whether each is in
    the division's scope (only what matters on the a-side of a pair)."""

    keys: np.ndarray
    geoms: np.ndarray
    in_scope: np.ndarray


def _read(cur: psycopg.Cursor, table: str, key: str, prefix: str,
          box: tuple[float, float, float, float]) -> _Features:
    query = _READ.format(key=sql.Identifier(key), table=sql.Identifier(table),
                         srid=sql.Literal(STORAGE_SRID), layer=sql.Literal(table))
    x0, y0, x1, y1 = box
    rows = cur.execute(query, {"prefix": prefix, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
                       binary=True).fetchall()
    keys, wkb, scoped = (list(column) for column in zip(*rows, strict=True)) if rows \
        else ([], [], [])
    geoms = shapely.from_wkb(wkb) if wkb else np.empty(0, object)
    shapely.prepare(geoms)
    return _Features(np.asarray(keys, object), np.asarray(geoms, object),
                     np.asarray(scoped, bool))


def polygonal_part(pieces: np.ndarray) -> np.ndarray:
    """``ST_CollectionExtract(piece, 3)`` of each piece: polygons as they are, a collection's
    polygons as one MultiPolygon (empty when it has none), anything else empty."""
    types = shapely.get_type_id(pieces)
    out = np.where(np.isin(types, _POLYGONAL), pieces, shapely.from_wkt("POLYGON EMPTY"))
    mixed = np.flatnonzero(types == shapely.GeometryType.GEOMETRYCOLLECTION)
    if len(mixed):
        # Two levels of parts: a collection's MultiPolygon member yields its polygons.
        parts, owner = shapely.get_parts(pieces[mixed], return_index=True)
        parts, inner = shapely.get_parts(parts, return_index=True)
        polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        rebuilt = np.full(len(mixed), shapely.from_wkt("MULTIPOLYGON EMPTY"), object)
        shapely.multipolygons(parts[polygon], indices=owner[inner][polygon], out=rebuilt)
        out[mixed] = rebuilt
    return out


def owned_pieces(a: _Features, b: _Features,
                 cell: tuple[float, float, float, float]) -> tuple[np.ndarray, ...]:
    """Keys and pieces of the pairs (a in scope, b) whose interiors meet and whose piece's
    representative point lies in ``cell``. Before the costly intersection: the pair's common
    box must reach into the cell (the piece lies in it), then ``touches`` is ruled out."""
    if not len(a.keys) or not len(b.keys):
        return np.empty(0, object), np.empty(0, object), np.empty(0, object)
    ai, bi = shapely.STRtree(b.geoms).query(a.geoms, predicate="intersects")
    ai, bi = ai[a.in_scope[ai]], bi[a.in_scope[ai]]
    box_a, box_b = shapely.bounds(a.geoms[ai]), shapely.bounds(b.geoms[bi])
    low, high = np.maximum(box_a[:, :2], box_b[:, :2]), np.minimum(box_a[:, 2:], box_b[:, 2:])
    x0, y0, x1, y1 = cell
    reach = (high[:, 0] >= x0) & (low[:, 0] < x1) & (high[:, 1] >= y0) & (low[:, 1] < y1)
    ai, bi = ai[reach], bi[reach]
    interior = ~shapely.touches(a.geoms[ai], b.geoms[bi])
    ai, bi = ai[interior], bi[interior]
    pieces = polygonal_part(shapely.intersection(a.geoms[ai], b.geoms[bi]))
    found = ~shapely.is_empty(pieces)
    ai, bi, pieces = ai[found], bi[found], pieces[found]
    point = shapely.point_on_surface(pieces)
    x, y = shapely.get_x(point), shapely.get_y(point)
    mine = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    return a.keys[ai[mine]], b.keys[bi[mine]], pieces[mine]


def conflict_tile(tile: Tile, context: ConflictContext) -> list[PieceRow]:
    """Read one tile's features (in the run's snapshot) and return the pieces it owns."""
    with snapshot_cursor(context.conninfo, context.snapshot) as cur:
        layers: dict[str, _Features] = {}
        for table_a, key_a, table_b, key_b in context.pairs:
            for table, key in ((table_a, key_a), (table_b, key_b)):
                if table not in layers:
                    layers[table] = _read(cur, table, key, context.prefix, tile.box)
    out: list[PieceRow] = []
    for index, (table_a, _, table_b, _) in enumerate(context.pairs):
        keys_a, keys_b, pieces = owned_pieces(layers[table_a], layers[table_b], tile.cell)
        wkb = shapely.to_wkb(pieces) if len(pieces) else []
        out += zip([index] * len(wkb), keys_a.tolist(), keys_b.tolist(), list(wkb),
                   strict=True)
    return out


def _run(client: Any, tiles: list[Tile], context: ConflictContext) -> list[PieceRow]:
    from distributed import as_completed

    shared = client.scatter(context, broadcast=True)
    futures = client.map(conflict_tile, tiles, context=shared, pure=False)
    rows: list[PieceRow] = []
    try:
        for future in as_completed(futures):
            rows += future.result()  # a failed tile raises its error here
    finally:
        client.cancel(futures)
    return rows


def pair_rows(engine: Engine, prefix: str, pairs: Sequence[Pair],
              options: TileOptions) -> list[list[dict[str, Any]]]:
    """For each pair, the rows ``sql/control_line_pairs.sql`` gives (``key_a``, ``key_b``,
    ``geometry`` as GeoJSON, ``area_m2``; ordered by keys), computed on the tiles."""
    from gis.analysis.tiled_detection import conninfo, dask_client, tile_count

    out: list[list[dict[str, Any]]] = [[] for _ in pairs]
    scoped = sorted({table for table, _, _, _ in pairs})
    extent = _EXTENT.format(parts=sql.SQL(" UNION ALL ").join(
        _SCOPED.format(table=sql.Identifier(t), layer=sql.Literal(t)) for t in scoped))
    with engine.connect() as conn:
        # One snapshot for the extent and every tile (the workers import it).
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        cur = conn.connection.driver_connection.cursor()
        cur.execute(extent, {"prefix": prefix})
        x0, y0, x1, y1, count = cur.fetchone()
        if x0 is None:
            return out
        cur.execute("SELECT pg_export_snapshot()")
        context = ConflictContext(
            conninfo=conninfo(engine),
            prefix=prefix, pairs=tuple(pairs), snapshot=cur.fetchone()[0])
        with dask_client(options) as client:
            workers = max(1, sum(client.nthreads().values()))
            tiles = grid((x0, y0, x1, y1), tile_count(count, workers, options))
            rows = _run(client, tiles, context)
        if rows:
            index, keys_a, keys_b, wkb = (list(column) for column in zip(*rows, strict=True))
            cur = conn.connection.driver_connection.cursor(row_factory=dict_row)
            cur.execute(statement("control_line_tile_pieces.sql"),
                        {"pair": index, "key_a": keys_a, "key_b": keys_b, "wkb": wkb})
            for row in cur.fetchall():
                out[row.pop("pair")].append(row)
    return out
