"""What changed between two versions of a control line: per zone and per feature.

Per zone (the red line's core/general, the boundary's zones; permanent basic farmland is one
zone): the area before and after, what the later version adds and removes (the union of each
version's features differenced both ways, ``sql/line_version_zones.sql``), and the net
change, in m², 亩 and ha. Per feature (by natural key): added, removed, or changed (geometry
or attributes). The added and removed pieces are also a GeoJSON FeatureCollection, the diff
map layer (API ``?f=geojson``, ``gis lines diff -o``).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from psycopg import sql
from pydantic import BaseModel
from sqlalchemy import Engine

from gis.analysis.statements import statement
from gis.layers.catalogue import Layer
from gis.layers.versions import ControlLineVersion, get_version, versioned_layer
from gis.units import Area

Change = Literal["added", "removed", "changed"]


class ZoneChange(BaseModel):
    zone: str | None
    zone_zh: str | None
    before_m2: float
    after_m2: float
    added_m2: float
    added_mu: float
    added_ha: float
    removed_m2: float
    removed_mu: float
    removed_ha: float
    #: after - before (signed), m², 亩, ha.
    net_m2: float
    net_mu: float
    net_ha: float


class FeatureChange(BaseModel):
    key: str
    change: Change
    before_m2: float | None
    after_m2: float | None


class VersionDiff(BaseModel):
    layer: str
    layer_zh: str
    before: ControlLineVersion
    after: ControlLineVersion
    zones: list[ZoneChange]
    #: The zones together.
    total: ZoneChange
    features: list[FeatureChange]
    #: The added and removed pieces (``change``, ``zone``, areas) as GeoJSON features.
    pieces: list[dict[str, Any]]

    def feature_collection(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": self.pieces}


def _zone_column(layer: Layer) -> str | None:
    return "zone" if "zone" in layer.field_names else None


def _zone_zh(layer: Layer, zone: str | None) -> str | None:
    if zone is None:
        return None
    values = layer.field("zone").values or {}
    return values.get(zone, [zone])[0]


def _changes(m2_before: float, m2_after: float, added: float, removed: float,
             zone: str | None, zone_zh: str | None) -> ZoneChange:
    plus, minus, net = Area(added), Area(removed), Area(m2_after - m2_before)
    return ZoneChange(
        zone=zone, zone_zh=zone_zh, before_m2=round(m2_before, 2), after_m2=round(m2_after, 2),
        added_m2=round(plus.m2, 2), added_mu=round(plus.mu, 2), added_ha=round(plus.ha, 4),
        removed_m2=round(minus.m2, 2), removed_mu=round(minus.mu, 2),
        removed_ha=round(minus.ha, 4), net_m2=round(net.m2, 2), net_mu=round(net.mu, 2),
        net_ha=round(net.ha, 4))


def _feature_sql(layer: Layer) -> sql.Composed:
    table = sql.Identifier(layer.table)
    keys = sql.SQL(" AND ").join(sql.SQL("a.{0} = b.{0}").format(sql.Identifier(k))
                                 for k in layer.natural_key)
    key = sql.SQL(" || '/' || ").join(
        sql.SQL("coalesce(a.{0}, b.{0})::text").format(sql.Identifier(k))
        for k in layer.natural_key)
    content = [*layer.field_names, "geom"]
    old = sql.SQL(", ").join(sql.SQL("a.{}").format(sql.Identifier(c)) for c in content)
    new = sql.SQL(", ").join(sql.SQL("b.{}").format(sql.Identifier(c)) for c in content)
    return sql.SQL(
        "SELECT {key} AS key, CASE WHEN a.id IS NULL THEN 'added' WHEN b.id IS NULL "
        "THEN 'removed' ELSE 'changed' END AS change, a.area_m2, b.area_m2 "
        "FROM (SELECT * FROM {table} WHERE version = %(a)s) AS a "
        "FULL JOIN (SELECT * FROM {table} WHERE version = %(b)s) AS b ON {keys} "
        "WHERE a.id IS NULL OR b.id IS NULL OR ({old}) IS DISTINCT FROM ({new}) ORDER BY 1"
    ).format(key=key, table=table, keys=keys, old=old, new=new)


def diff_versions(engine: Engine, layer_id: str, before: int, after: int) -> VersionDiff:
    """Compare version ``before`` of a control line with version ``after`` (404 for a
    version the layer does not have)."""
    layer = versioned_layer(layer_id)
    zone = _zone_column(layer)
    zones_sql = sql.SQL(statement("line_version_zones.sql")).format(
        table=sql.Identifier(layer.table),
        zone=sql.Identifier(zone) if zone else sql.SQL("NULL::text"))
    params = {"a": before, "b": after}
    with engine.connect() as conn:
        first, second = get_version(conn, layer.id, before), get_version(conn, layer.id, after)
        cur = conn.connection.driver_connection.cursor()
        cur.execute(zones_sql, params)
        zone_rows = cur.fetchall()
        cur.execute(_feature_sql(layer), params)
        feature_rows = cur.fetchall()
    zones, pieces = [], []
    for name, m2_before, m2_after, added, removed, added_json, removed_json in zone_rows:
        code = name or None
        zh = _zone_zh(layer, code)
        zones.append(_changes(m2_before, m2_after, added, removed, code, zh))
        for change, geojson, m2 in (("added", added_json, added), ("removed", removed_json,
                                                                    removed)):
            if geojson is None or m2 <= 0:
                continue
            pieces.append({"type": "Feature", "geometry": json.loads(geojson), "properties": {
                "change": change, "zone": code, "zone_zh": zh, **Area(m2).as_dict()}})
    total = _changes(*(sum(getattr(z, f) for z in zones) for f in
                       ("before_m2", "after_m2", "added_m2", "removed_m2")),
                     zone=None, zone_zh=None)
    features = [FeatureChange(key=key, change=change, before_m2=a, after_m2=b)
                for key, change, a, b in feature_rows]
    return VersionDiff(layer=layer.id, layer_zh=layer.zh, before=first.brief(),
                       after=second.brief(), zones=zones, total=total, features=features,
                       pieces=pieces)
