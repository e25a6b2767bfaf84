"""Reconciliation detection in PostGIS: the scan of one division into ``recon_scan``.

One statement, composed with ``psycopg.sql`` from ``sql/forest_grass_scan.sql`` (numbering,
sliver classification) and ``sql/forest_grass_detect.sql`` (the single-parcel checks, areas
and townships) around the pairs of ``sql/forest_grass_pairs.sql`` (the five spatial joins);
its ``{key:table:alias}`` and ``{parcel:table:alias}`` placeholders become a parcel's key
and its ``{layer, key, attributes}`` jsonb object (the layer's catalogue columns). A tiled
run (:mod:`gis.analysis.tiled_detection`) composes the same statement with
``sql/forest_grass_tile_pairs.sql`` instead, which reads the pairs its workers found and the
parcel objects built once per parcel (``sql/forest_grass_tile_parcels.sql``). An
incremental re-detection (:mod:`gis.analysis.forest_grass_changes`) composes it with
``sql/forest_grass_changed_pairs.sql`` and keeps only the single-parcel checks of changed
parcels, so only the findings involving a changed parcel are computed. Part of
:mod:`gis.analysis.forest_grass`, which matches the scan to the work list.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import Connection

from gis.analysis.statements import statement
from gis.layers.catalogue import load_catalogue
from gis.rules.models import Profile
from gis.units import M2_PER_MU

_OVERLAP_KINDS = {"forest_grass_overlap", "class_mismatch", "ownership_overlap"}
#: The transaction's temporary table :func:`scan` writes (the columns the matching uses).
SCAN_TABLE = sa.table("recon_scan", sa.column("sid"), sa.column("kind"),
                      sa.column("parcel_keys"), sa.column("geom"), sa.column("match_id"))

#: Placeholders of the detection texts: a parcel's key and its object {layer, key,
#: attributes}, the pairs CTE's body, the tiled run's staging table and parcel tables, the
#: filter on changed parcels. Cut out rather than formatted, so nothing else is interpreted.
_PLACEHOLDER = re.compile(
    r"\{(key:\w+:\w+|parcel:\w+:\w+|changed:\w+:\w+|parcels:\w+|pairs|tiles)\}")
#: A parcel's key on the work list, per layer (``{}``: the table's alias): the county and
#: the forest management unit for forest, the parcel number for grassland, the county and
#: the patch number for the survey.
_KEYS = {
    "forest_parcels": "concat_ws('/', {0}.county_code, {0}.lin_ban, {0}.xiao_ban)",
    "grassland_parcels": "{0}.parcel_no",
    "survey_patches": "concat_ws('/', {0}.county_code, {0}.patch_no)",
}
#: The pairs found by five joins in PostGIS, or read back from a tiled run's staging table,
#: or only those involving a changed parcel (an incremental re-detection).
PAIRS_POSTGIS = "forest_grass_pairs.sql"
PAIRS_TILED = "forest_grass_tile_pairs.sql"
PAIRS_CHANGED = "forest_grass_changed_pairs.sql"


def _attributes(table: str, alias: str) -> sql.Composed:
    """``jsonb_build_object('id', alias.id, ...)`` over the layer's catalogue columns.
    ``to_jsonb(row) - 'geom'`` was the obvious spelling, but it serialises every geometry to
    text first and took longer than the intersections themselves."""
    layer = next(layer for layer in load_catalogue() if layer.table == table)
    names = ["id", *layer.field_names, "area_m2", "updated_at"]
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(name),
                                                        sql.Identifier(alias, name))
                               for name in names)
    return sql.SQL("jsonb_build_object({})").format(pairs)


def _key(table: str, alias: str) -> sql.Composed:
    """The parcel's key expression (:data:`_KEYS`) for ``alias``."""
    return sql.SQL(_KEYS[table]).format(sql.Identifier(alias))


def _parcel(table: str, alias: str) -> sql.Composed:
    """The object a finding's ``parcels`` array holds for one parcel: ``{"layer": table,
    "key": ..., "attributes": {...}}``."""
    return sql.SQL("jsonb_build_object('layer', {}, 'key', {}, 'attributes', {})").format(
        sql.Literal(table), _key(table, alias), _attributes(table, alias))


def parcel_tables(tiles: str) -> dict[str, str]:
    """The names of a tiled run's parcel tables (``forest_grass_tile_parcels.sql``), per
    layer, derived from its staging table's name."""
    return {table: f"{tiles}_{table}" for table in _KEYS}


def _changed(table: str, alias: str, incremental: bool) -> sql.Composable:
    """TRUE in a full scan; in an incremental one, "the parcel is listed in the transaction's
    ``recon_changed``"."""
    if not incremental:
        return sql.SQL("TRUE")
    return sql.SQL("{} IN (SELECT id FROM recon_changed WHERE layer = {})").format(
        sql.Identifier(alias, "id"), sql.Literal(table))


def _compose(name: str, pairs: str, tiles: str | None) -> sql.Composed:
    """The text of ``sql/<name>`` with each placeholder replaced: ``{key:table:alias}`` by
    :func:`_key`, ``{parcel:table:alias}`` by :func:`_parcel`, ``{pairs}`` by the composed
    ``pairs`` file, ``{tiles}`` by the staging table's identifier, ``{parcels:table}`` by
    that of the run's parcel table of the layer (:func:`parcel_tables`),
    ``{changed:table:alias}`` by :func:`_changed` (incremental when the pairs are
    :data:`PAIRS_CHANGED`)."""
    pieces = _PLACEHOLDER.split(statement(name))
    parts: list[sql.Composable] = [sql.SQL(pieces[0])]
    for placeholder, rest in zip(pieces[1::2], pieces[2::2], strict=True):
        kind, _, arguments = placeholder.partition(":")
        if kind in ("tiles", "parcels") and tiles is None:
            raise ValueError(f"{name} reads a staging table and none was given")
        if kind == "pairs":
            parts.append(_compose(pairs, pairs, tiles))
        elif kind == "tiles":
            parts.append(sql.Identifier(tiles))
        elif kind == "parcels":
            parts.append(sql.Identifier(parcel_tables(tiles)[arguments]))
        else:
            table, alias = arguments.split(":")
            if kind == "changed":
                parts.append(_changed(table, alias, pairs == PAIRS_CHANGED))
            elif kind == "key":
                parts.append(_key(table, alias))
            else:
                parts.append(_parcel(table, alias))
        parts.append(sql.SQL(rest))
    return sql.Composed(parts)


def _scan_sql(pairs: str = PAIRS_POSTGIS, tiles: str | None = None) -> sql.Composed:
    """The scan statement: ``forest_grass_detect.sql`` with the ``pairs`` file as its pairs
    (and the placeholders filled in), inside ``forest_grass_scan.sql``."""
    detection = _compose("forest_grass_detect.sql", pairs, tiles)
    return sql.SQL(statement("forest_grass_scan.sql")).format(detection=detection)


@cache
def _scan_query(pairs: str = PAIRS_POSTGIS) -> bytes:
    """:func:`_scan_sql` rendered once per process (psycopg's default adaptation: the only
    literals are ASCII column names): rendering its ~300 parts took ~1 ms every run."""
    return _scan_sql(pairs).as_bytes(None)


def scan_fingerprint() -> str:
    """A digest of the full and the incremental scan statements (with the catalogue's
    attribute columns in them): findings carried over from a detection made by other
    statements could differ from what these would find, so a change here forces a full
    re-detection."""
    return hashlib.sha256(_scan_query() + _scan_query(PAIRS_CHANGED)).hexdigest()


def scope_ewkb(conn: Connection, division: str) -> bytes:
    """The division's outline as EWKB. It goes into the scan as a bound value rather than a
    CTE: a CTE scan is parallel-restricted and kept every join in one process."""
    cur = conn.connection.driver_connection.cursor()
    cur.execute("SELECT ST_AsEWKB(ST_Union(geom)) FROM admin_divisions WHERE code = %s",
                (division,))
    return cur.fetchone()[0]


def _create_parcel_tables(cur: psycopg.Cursor, tiles: str) -> None:
    """The tiled run's parcel tables (``sql/forest_grass_tile_parcels.sql``), in the
    detection's transaction: each parcel of the staged pairs once, with its key and object.
    The scan then joins them instead of building both parcels' attribute objects for every
    finding, which was half of the collecting statement's work (docs/benchmarks.md)."""
    text = _compose("forest_grass_tile_parcels.sql", PAIRS_TILED, tiles).as_bytes(None)
    for create in text.split(b"\n;\n"):
        cur.execute(create)
    for table in parcel_tables(tiles).values():
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def scan(conn: Connection, division: str, profile: Profile, tiles: str | None = None,
         changed: bool = False) -> None:
    """Run detection into the transaction's temporary table ``recon_scan`` (sid, kind,
    parcels, parcel_keys, geom, area_m2, township, village, match_id). Everything stays in
    PostgreSQL: a county-wide run has hundreds of thousands of findings, and shipping each
    geometry to Python and back cost more than detecting it. With ``tiles`` (a tiled run's
    staging table, see :mod:`gis.analysis.tiled_detection`) the pairs are the ones its
    workers found and wrote there; the rest of the statement is the same. With ``changed``
    only the findings involving a parcel listed in the transaction's ``recon_changed`` are
    computed (:mod:`gis.analysis.forest_grass_changes`)."""
    params = profile.reconciliation
    classes = params.land_use_classes
    scope = scope_ewkb(conn, division)
    cur = conn.connection.driver_connection.cursor()
    # The geography areas and the joins give the plan a cost far above jit_above_cost, and
    # PostgreSQL spent longer JIT-compiling it (7 of 10 s at 10,000 parcels a layer, summed
    # over the parallel workers) than running it. The numbering's sort of the findings spilled
    # to disk with the default work_mem (37 MB at 10,000 parcels). 128 MB, not more: it holds
    # for the rest of the transaction and for each sort and hash of the leader and its
    # parallel workers; at 1,000,000 parcels a layer PostgreSQL peaked at 2.8 GB (PSS) with
    # it against 3.0 GB with 256 MB, in the same time (docs/benchmarks.md).
    cur.execute("SET LOCAL jit = off")
    cur.execute("SET LOCAL work_mem = '128MB'")
    if tiles is not None:
        _create_parcel_tables(cur, tiles)
        query = _scan_sql(PAIRS_TILED, tiles).as_bytes(None)
    else:
        query = _scan_query(PAIRS_CHANGED if changed else PAIRS_POSTGIS)
    cur.execute(
        query,
        {"scope": scope, "forest": classes["forest"], "grass": classes["grassland"],
         "cultivated": classes["cultivated"], "construction": classes["construction"],
         "cert_tol": params.certificate_tolerance, "m2_per_mu": M2_PER_MU,
         "overlap_kinds": sorted(_OVERLAP_KINDS), "min_m2": params.min_mapping_m2,
         "sliver_w": params.sliver_max_width_m})
    if tiles is not None:
        for table in parcel_tables(tiles).values():
            cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    cur.execute("CREATE INDEX ON recon_scan (sid)")
    cur.execute("ANALYZE recon_scan")
