"""Reconciliation detection in PostGIS: the scan of one division into ``recon_scan``.

One statement, composed with ``psycopg.sql`` from ``sql/forest_grass_scan.sql`` (numbering,
sliver classification) and ``sql/forest_grass_detect.sql`` (the five spatial joins and the
single-parcel checks), whose ``{attrs:table:alias}`` placeholders become jsonb objects of the
layer's catalogue columns. Part of :mod:`gis.analysis.forest_grass`, which matches the scan
to the work list.
"""

from __future__ import annotations

import re
from functools import cache

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

_ATTRS = re.compile(r"\{attrs:(\w+):(\w+)\}")


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


def _scan_sql() -> sql.Composed:
    """The scan statement: ``forest_grass_detect.sql`` with each ``{attrs:table:alias}``
    replaced by :func:`_attributes`, inside ``forest_grass_scan.sql``. The detection text is
    cut at its placeholders rather than formatted, so nothing else in it is interpreted."""
    pieces = _ATTRS.split(statement("forest_grass_detect.sql"))
    parts: list[sql.Composable] = [sql.SQL(pieces[0])]
    for table, alias, rest in zip(pieces[1::3], pieces[2::3], pieces[3::3], strict=True):
        parts += [_attributes(table, alias), sql.SQL(rest)]
    return sql.SQL(statement("forest_grass_scan.sql")).format(detection=sql.Composed(parts))


@cache
def _scan_query() -> bytes:
    """:func:`_scan_sql` rendered once per process (psycopg's default adaptation: the only
    literals are ASCII column names): rendering its ~300 parts took ~1 ms every run."""
    return _scan_sql().as_bytes(None)


def scan(conn: Connection, division: str, profile: Profile) -> None:
    """Run detection into the transaction's temporary table ``recon_scan`` (sid, kind,
    parcels, parcel_keys, geom, area_m2, township, village, match_id). Everything stays in
    PostgreSQL: a county-wide run has hundreds of thousands of findings, and shipping each
    geometry to Python and back cost more than detecting it."""
    params = profile.reconciliation
    classes = params.land_use_classes
    cur = conn.connection.driver_connection.cursor()
    # The outline goes in as a bound value rather than a CTE: a CTE scan is parallel-restricted
    # and kept every join in one process.
    cur.execute("SELECT ST_AsEWKB(ST_Union(geom)) FROM admin_divisions WHERE code = %s",
                (division,))
    scope = cur.fetchone()[0]
    cur.execute(
        _scan_query(),
        {"scope": scope, "forest": classes["forest"], "grass": classes["grassland"],
         "cultivated": classes["cultivated"], "construction": classes["construction"],
         "cert_tol": params.certificate_tolerance, "m2_per_mu": M2_PER_MU,
         "overlap_kinds": sorted(_OVERLAP_KINDS), "min_m2": params.min_mapping_m2,
         "sliver_w": params.sliver_max_width_m})
    cur.execute("CREATE INDEX ON recon_scan (sid)")
    cur.execute("ANALYZE recon_scan")
