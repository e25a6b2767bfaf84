"""Loading a control line as a new version (called by :func:`gis.layers.load.write`).

The file's rows are staged first; then, in the load's transaction (the layer table is
locked), they are compared with the latest version by natural key. Identical content (and
no new basis stated) changes nothing, so re-loading a file stays a no-op; anything else
becomes version n+1: its record in ``control_line_versions`` and a copy of every row with
the new number. Earlier versions are never touched: a check made under one can always be
shown again, and the diff between any two is a query.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import Cursor, sql

from gis.identity import Actor, resolve
from gis.layers.catalogue import Layer
from gis.layers.versions import VersionSpec


@dataclass(frozen=True)
class VersionCounts:
    """How the file compares with the version before (all of its rows are the new one)."""

    version: int
    created: bool
    added: int
    changed: int
    same: int
    removed: int


def _latest(cur: Cursor, layer: Layer) -> tuple[int, tuple | None]:
    cur.execute(
        "SELECT version, basis, document_no, approved_by, effective_date "
        "FROM control_line_versions WHERE layer = %s ORDER BY version DESC LIMIT 1",
        (layer.id,))
    row = cur.fetchone()
    return (row[0], row[1:]) if row else (0, None)


def _compare(cur: Cursor, layer: Layer, stage: sql.Identifier, version: int
             ) -> tuple[int, int, int, int]:
    """(added, changed, same, removed) of the staged rows against ``version``."""
    table = sql.Identifier(layer.table)
    keys = sql.SQL(" AND ").join(
        sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in layer.natural_key)
    content = [*layer.field_names, "geom"]
    old = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in content)
    new = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in content)
    cur.execute(sql.SQL(
        "SELECT count(*) FILTER (WHERE t.id IS NULL), "
        "count(*) FILTER (WHERE t.id IS NOT NULL AND ({old}) IS DISTINCT FROM ({new})), "
        "count(*) FILTER (WHERE t.id IS NOT NULL AND ({old}) IS NOT DISTINCT FROM ({new})) "
        "FROM {stage} AS s LEFT JOIN {table} AS t ON t.version = %(v)s AND {keys}"
    ).format(old=old, new=new, stage=stage, table=table, keys=keys), {"v": version})
    added, changed, same = cur.fetchone()
    cur.execute(sql.SQL(
        "SELECT count(*) FROM {table} AS t WHERE t.version = %(v)s "
        "AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {keys})"
    ).format(table=table, stage=stage, keys=keys), {"v": version})
    return added, changed, same, cur.fetchone()[0]


def record_version(cur: Cursor, layer: Layer, stage: sql.Identifier, spec: VersionSpec | None,
                   source: str, features: int, actor: Actor | None) -> VersionCounts:
    """Make the staged rows the next version of ``layer`` unless they equal the latest."""
    latest, meta = _latest(cur, layer)
    stated = spec is not None and spec.basis != "unrecorded"
    checked = (spec or VersionSpec()).checked(layer)
    if latest:
        added, changed, same, removed = _compare(cur, layer, stage, latest)
        unchanged_data = added == changed == removed == 0
        same_meta = meta == (checked.basis, checked.document_no, checked.approved_by,
                             checked.effective_date)
        if unchanged_data and (not stated or same_meta):
            return VersionCounts(latest, False, 0, 0, same, 0)
    else:
        added, changed, same, removed = features, 0, 0, 0
    version = latest + 1
    cur.execute(
        "INSERT INTO control_line_versions (layer, version, basis, document_no, approved_by, "
        "effective_date, note, source, features, loaded_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (layer.id, version, checked.basis, checked.document_no, checked.approved_by,
         checked.effective_date, checked.note, source, features, resolve(actor).name))
    cols = sql.SQL(", ").join(map(sql.Identifier, layer.field_names))
    cur.execute(sql.SQL(
        "INSERT INTO {table} (version, {cols}, geom, area_m2) "
        "SELECT %(v)s, {cols}, geom, area_m2 FROM {stage}"
    ).format(table=sql.Identifier(layer.table), cols=cols, stage=stage), {"v": version})
    return VersionCounts(version, True, added, changed, same, removed)
