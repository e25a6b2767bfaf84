"""The siting check's overlay: a footprint against each control layer, in PostGIS.

One indexed query per layer (``sql/siting_overlaps.sql``, identifiers from the catalogue)
returns the features hit, their pieces and spheroidal areas; overlaps below the profile's
sliver tolerance are reported as ignored rather than kept. Part of :mod:`gis.analysis.siting`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from psycopg import sql
from sqlalchemy import Engine

from gis.analysis.footprint import Footprint
from gis.analysis.siting_models import AdvisoryModel, FeatureHit, Overlap
from gis.analysis.statements import statement
from gis.layers.catalogue import get_layer
from gis.layers.versions import VersionRecord
from gis.messages import Named, msg
from gis.units import Area


@dataclass(frozen=True)
class _LayerCheck:
    """How to read one control layer's zone, key, name and quality grade."""

    layer_id: str
    key: str
    name: str
    zone: str | None = None
    grade: str | None = None


CHECKED_LAYERS = (
    _LayerCheck("eco_redline", key="redline_code", name="name", zone="zone"),
    _LayerCheck("basic_farmland", key="parcel_code", name="village"),
    _LayerCheck("cultivated_land", key="patch_no", name="village", zone="subclass",
                grade="quality_grade"),
    _LayerCheck("urban_boundary", key="boundary_code", name="name", zone="zone"),
    _LayerCheck("village_plans", key="village_code", name="village_name"),
)


def _column(name: str | None) -> sql.Composable:
    return sql.SQL("t.{}").format(sql.Identifier(name)) if name else sql.NULL


def _query(check: _LayerCheck) -> sql.Composed:
    layer = get_layer(check.layer_id)
    version = sql.SQL("t.version = %(version)s") if layer.versioned else sql.SQL("TRUE")
    return sql.SQL(statement("siting_overlaps.sql")).format(
        table=sql.Identifier(layer.table), key=_column(check.key), name=_column(check.name),
        zone=_column(check.zone), grade=_column(check.grade), version=version,
    )


def overlay(engine: Engine, footprint: Footprint, tolerance_m2: float,
            versions: dict[str, VersionRecord | None], day: dt.date
            ) -> tuple[list[Overlap], list[AdvisoryModel]]:
    """Overlaps of ``footprint`` with every checked layer, grouped by zone, and a warning
    for each group below ``tolerance_m2`` (ignored as a digitizing error). A control line
    is read in its version in force on ``day`` (``versions``); one with none in force then
    is not checked, and a warning says so."""
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    overlaps: list[Overlap] = []
    warnings: list[AdvisoryModel] = []
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        for check in CHECKED_LAYERS:
            layer = get_layer(check.layer_id)
            params: dict[str, object] = {"footprint": ewkb}
            if layer.versioned:
                if layer.id not in versions:
                    continue  # never loaded: nothing to overlay
                version = versions[layer.id]
                if version is None:
                    warnings.append(AdvisoryModel.of("no_version_in_force", msg(
                        "siting.advice.no_version_in_force", layer=Named(layer.zh, layer.en),
                        day=day.isoformat())))
                    continue
                params["version"] = version.version
            cur.execute(_query(check), params)
            groups: dict[str | None, list[tuple]] = {}
            for row in cur.fetchall():
                groups.setdefault(row[3], []).append(row)
            for zone, rows in groups.items():
                area = sum(r[6] for r in rows)
                if area < tolerance_m2:
                    warnings.append(AdvisoryModel.of("sliver_ignored", msg(
                        "siting.advice.sliver_ignored", layer=Named(layer.zh, layer.en),
                        zone=zone or "-", area=area, tolerance=tolerance_m2)))
                    continue
                pieces = shapely.union_all([shapely.from_wkb(bytes(r[5])) for r in rows])
                a = Area(area)
                overlaps.append(Overlap(
                    layer=check.layer_id, layer_zh=layer.zh, zone=zone, **a.as_dict(),
                    share=round(area / footprint.area.m2, 6),
                    features=[FeatureHit(id=r[0], key=r[1], name=r[2], area_m2=round(r[6], 2),
                                         grade=r[4]) for r in rows if r[6] > 0],
                    geometry=shapely.geometry.mapping(pieces),
                ))
    return overlaps, warnings
