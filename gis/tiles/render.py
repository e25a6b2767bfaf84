"""The one SQL statement that renders a Mapbox Vector Tile of a layer, and running it.

Why the SQL looks the way it does:

- The tables store EPSG:4490 and their GiST index is on that column, so the spatial filter
  transforms the *tile envelope* (one polygon) to 4490, ``geom && ST_Transform(
  ST_TileEnvelope(z, x, y, margin => ...), 4490)``, instead of transforming every row; a
  Web Mercator rectangle maps onto a lon/lat rectangle exactly (meridians and parallels stay
  straight), so nothing on the tile edge is missed. ``&&`` (bounding boxes) rather than
  ``ST_Intersects``: the few extra candidates are clipped away by ``ST_AsMVTGeom`` anyway,
  and an exact test per row would cost more than it saves.
- Simplification follows the zoom. ``ST_AsMVTGeom`` quantizes coordinates to the 4096-unit
  tile grid and drops repeated points, which is all a parcel (a handful of vertices) needs.
  Layers of large detailed polygons (red lines, boundaries, divisions) are in addition
  simplified with ``ST_Simplify`` at half a grid unit *before* the transform: on 2,000-vertex
  red-line polygons that made z6-z10 tiles 3-4x faster and smaller (measured; the dropped
  vertices lie within half a grid unit, 1/32 of a pixel, of the outline kept), while on
  parcels it only added 5-10% of work. Which layers is the catalogue's ``tiles.simplify``.
- From the zoom where it is exact to half a grid unit (z12 over Ningxia), rows are not
  transformed at all: the lon/lat geometry is cut against the tile's lon/lat box
  (:func:`tile_query`, :func:`gis.tiles.grid.linear_error_units`), which saved a third of
  the time.
- Identifiers (table, columns) come only from the validated catalogue and are quoted with
  ``psycopg.sql.Identifier``; tile coordinates and limits are bound parameters. The statement
  text is therefore constant per layer, and psycopg prepares it server-side after a few
  executions on a connection.
- A tile never reads unbounded data: each layer has a minimum zoom (parcel layers hold up to
  millions of small polygons, invisible below zoom 12 anyway) and a cap on the features one
  tile may hold (the catalogue's ``tiles``); a capped tile says so
  (``RenderedTile.truncated``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg import sql

from gis.layers.catalogue import Layer, TilePolicy, get_layer
from gis.layers.schema import STORAGE_SRID
from gis.tiles.grid import (
    MVT_BUFFER,
    MVT_EXTENT,
    Tile,
    lonlat_bounds,
    projected,
    simplify_tolerance,
    tile_policy,
)


@cache
def tile_query(layer_id: str, simplify: bool, projected: bool = True,
               geographic: bool = False) -> sql.Composed:
    """The statement rendering one tile of a layer, with bound parameters ``z``, ``x``,
    ``y``, ``margin``, ``max_features``, (if ``simplify``) ``tolerance`` in degrees and (if
    not ``projected``) the tile's lon/lat box ``west``, ``south``, ``east``, ``north``.
    Built once per layer and variant from the catalogue.

    ``projected``: each geometry is transformed to EPSG:3857 and cut against
    ``ST_TileEnvelope``, the textbook way. Otherwise the lon/lat geometry is cut against the
    tile's lon/lat box, i.e. mapped linearly in latitude instead of through the Mercator
    formula (``geographic``: a CGCS2000Quad tile, whose grid *is* linear in lon/lat, and
    whose rows are found by the lon/lat box widened by the buffer);
    :func:`gis.tiles.grid.linear_error_units` bounds the difference, and :func:`tile_params`
    only chooses this where it is under half a grid unit (z >= 12 over Ningxia). It saves
    the per-row ``ST_Transform``, a third of a parcel tile's time (measured on 60 tiles
    z12-15 of the 1M-parcel table: 15.9 -> 10.2 ms; inside the tile no vertex moved by more
    than the one-unit rounding step, only buffer slivers outside it differ).

    A control line (a versioned layer) is drawn in one version: ``version`` if bound, else
    the one in force on ``day`` (both bound, :func:`tile_params`; day NULL: today in China).

    Attributes are the catalogue fields plus ``area_m2``, rounded to 0.01 m² with float
    arithmetic (``numeric`` rounding cost 20% of a z12 tile). 亩 and hectares are left to the
    client (area_m2 / 666.67, / 10,000; the portal does so): an ``area_mu`` attribute made
    tiles 20% bigger and 4% slower. ``id`` becomes the MVT feature id, so a client can ask the
    features API for the same row.
    """
    layer = get_layer(layer_id)
    fields = sql.SQL(", ").join(sql.Identifier(f.name) for f in layer.fields)
    geom = sql.Identifier("geom")
    source: sql.Composable = (
        sql.SQL("ST_Simplify({}, %(tolerance)s::float8, true)").format(geom)
        if simplify else geom)
    if projected:
        mvt_geom = sql.SQL("ST_AsMVTGeom(ST_Transform({source}, 3857), "
                           "ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int), ")
    else:
        mvt_geom = sql.SQL("ST_AsMVTGeom({source}, ST_MakeEnvelope(%(west)s::float8, "
                           "%(south)s::float8, %(east)s::float8, %(north)s::float8, {srid}), ")
    if geographic:
        where = sql.SQL("ST_Expand(ST_MakeEnvelope(%(west)s::float8, %(south)s::float8, "
                        "%(east)s::float8, %(north)s::float8, {srid}), %(margin_deg)s::float8)")
    else:
        where = sql.SQL("ST_Transform(ST_TileEnvelope(%(z)s::int, %(x)s::int, %(y)s::int,"
                        " margin => %(margin)s::float8), {srid})")
    version = sql.SQL(
        " AND version = coalesce(%(version)s::int, "
        "(SELECT control_line_version({layer}, %(day)s::date)))"
    ).format(layer=sql.Literal(layer.id)) if layer.versioned else sql.SQL("")
    return sql.SQL(
        "SELECT ST_AsMVT(t, {name}, {extent}, 'geom', 'id'), count(*) FROM ("
        " SELECT {id}, {fields}, round({area} * 100) / 100 AS area_m2, "
        "{mvt_geom}{extent}, {buffer}, true) AS geom"
        " FROM {table}"
        " WHERE {geom} && {where}{version}"
        " LIMIT %(max_features)s::int"
        ") AS t"
    ).format(version=version,
        where=where.format(srid=sql.Literal(STORAGE_SRID)),
        mvt_geom=mvt_geom.format(source=source, srid=sql.Literal(STORAGE_SRID)),
        name=sql.Literal(layer.id), extent=sql.Literal(MVT_EXTENT),
        buffer=sql.Literal(MVT_BUFFER), srid=sql.Literal(STORAGE_SRID),
        id=sql.Identifier("id"), fields=fields,
        area=sql.Identifier("area_m2"), geom=geom, table=sql.Identifier(layer.table),
    )


def tile_params(tile: Tile, policy: TilePolicy, version: int | None = None,
                day: dt.date | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"z": tile.z, "x": tile.x, "y": tile.y,
                              "margin": MVT_BUFFER / MVT_EXTENT,
                              "max_features": policy.max_features,
                              "version": version, "day": day}
    if policy.simplify:
        params["tolerance"] = simplify_tolerance(tile)
    if not projected(tile):
        box = lonlat_bounds(tile)
        params.update(zip(("west", "south", "east", "north"), box, strict=True))
        if tile.geographic:
            params["margin_deg"] = (box[2] - box[0]) * MVT_BUFFER / MVT_EXTENT
    return params


@dataclass(frozen=True, slots=True)
class RenderedTile:
    data: bytes
    features: int
    truncated: bool

    @property
    def etag(self) -> str:
        """A strong ETag: a hash of the bytes themselves, so it changes exactly when the tile
        does, whatever changed the table (a load, a deletion, a hand-made UPDATE)."""
        return '"' + hashlib.blake2b(self.data, digest_size=16).hexdigest() + '"'


def _rendered(row: Any, policy: TilePolicy) -> RenderedTile:
    data = bytes(row[0]) if row and row[0] is not None else b""
    count = int(row[1]) if row else 0
    return RenderedTile(data, count, count >= policy.max_features)


def render_tile(conn: Any, layer: Layer, tile: Tile, policy: TilePolicy | None = None,
                version: int | None = None, day: dt.date | None = None) -> RenderedTile:
    """Render one tile on a psycopg connection (the caller owns it and its transaction).

    ``features`` counts the rows read for the tile (before ``ST_AsMVTGeom`` drops the ones
    that collapse below a grid unit); ``truncated`` means the cap was reached. A control
    line is drawn in ``version``, else in the one in force on ``day`` (today).
    """
    policy = policy or tile_policy(layer)
    row = conn.execute(tile_query(layer.id, policy.simplify, projected(tile),
                                  tile.geographic),
                       tile_params(tile, policy, version, day)).fetchone()
    return _rendered(row, policy)


async def render_tile_async(conn: Any, layer: Layer, tile: Tile,
                            policy: TilePolicy | None = None, version: int | None = None,
                            day: dt.date | None = None) -> RenderedTile:
    """:func:`render_tile` on a psycopg ``AsyncConnection`` (what the API uses)."""
    policy = policy or tile_policy(layer)
    cursor = await conn.execute(tile_query(layer.id, policy.simplify, projected(tile),
                                           tile.geographic),
                                tile_params(tile, policy, version, day))
    return _rendered(await cursor.fetchone(), policy)
