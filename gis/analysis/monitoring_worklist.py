"""The monitoring work list: runs and patches listed, one patch with its history and rules,
and the field inspection's decisions and status changes.

Decisions carry the version the decider saw (:func:`gis.analysis.worklist.versioned_update`),
so two concurrent decisions cannot both win; every change appends an event. Statements are
SQLAlchemy Core over ``gis.db.records`` (filters are bound values). Part of
:mod:`gis.analysis.monitoring`.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from gis.analysis.monitoring_models import (
    DECISIONS,
    LAYERS,
    STATUSES,
    CitedRule,
    Patch,
    RunInfo,
    zone_label,
)
from gis.analysis.worklist import (
    Event,
    read_events,
    record_event,
    require_decision,
    require_known,
    require_page,
    versioned_update,
)
from gis.db.records import monitor_events, monitor_patches, monitor_runs
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.messages import Codes, msg
from gis.rules import load_profile
from gis.units import Area

#: Statuses a person may set; ``decided`` comes with a decision, ``closed`` with a re-run.
_SETTABLE = {"open", "field_check"}
#: What a patch is called in messages.
_NOUN = msg("worklist.noun.patch")


def record_patch_event(conn: Connection, patch_id: int, actor: Actor, action: str,
                       details: dict[str, Any] | None = None, reason: str | None = None) -> None:
    """Append one event to a patch's history (``monitor_events``)."""
    record_event(conn, monitor_events, monitor_events.c.patch_id, patch_id, actor, action,
                 details, reason)


#: The columns of a run read back (``RunInfo``).
_RUN_FIELDS = ("id", "profile", "profile_version", "raster_a", "raster_b", "date_a", "date_b",
               "actor", "on_behalf_of", "actor_verified", "started_at", "summary")


def _runs() -> sa.Select:
    return sa.select(*(monitor_runs.c[name] for name in _RUN_FIELDS))


def list_runs(engine: Engine, limit: int = 50, offset: int = 0) -> tuple[int, list[RunInfo]]:
    require_page(limit, offset)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(monitor_runs)
                             ).scalar_one()
        rows = conn.execute(_runs().order_by(monitor_runs.c.id.desc()).limit(limit)
                            .offset(offset)).mappings().all()
    return total, [RunInfo(**r) for r in rows]


def get_run(engine: Engine, run_id: int) -> RunInfo:
    with engine.connect() as conn:
        row = conn.execute(_runs().where(monitor_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFound(msg("monitor.no_run", id=run_id))
    return RunInfo(**row)


#: The columns of a patch read back (``Patch`` adds the areas and the geometry).
_FIELDS = ("id", "layer", "kind", "status", "decision", "feature_id", "feature_key",
           "feature_name", "zone", "division", "township", "village", "village_code",
           "village_distance_m", "date_a", "date_b", "transitions", "pixels", "area_m2",
           "version", "first_run", "last_run", "created_at", "updated_at")


def _columns(with_geojson: bool) -> list[sa.ColumnElement[Any]]:
    """A patch's columns, and its geometry as GeoJSON text (``geojson``) when asked."""
    columns: list[sa.ColumnElement[Any]] = [monitor_patches.c[name] for name in _FIELDS]
    if with_geojson:
        columns.append(sa.func.ST_AsGeoJSON(monitor_patches.c.geom, 8).label("geojson"))
    return columns


def _patch(row: Any, geometry: dict[str, Any] | None = None) -> Patch:
    data = dict(row._mapping)
    data.pop("geojson", None)
    return Patch(**data, **{k: v for k, v in Area(data["area_m2"]).as_dict().items()
                            if k != "area_m2"}, geometry=geometry)


def _filters(run: int | None, layer: str | None, zone: str | None, kind: str | None,
             status: str | None, division: str | None, township: str | None,
             village: str | None) -> list[sa.ColumnElement[bool]]:
    """The conditions of the given filters (none: every patch), values bound."""
    require_known(layer, LAYERS, "monitored_layer", "monitor.unknown_layer", "layer", "layers")
    require_known(status, STATUSES, "patch_status", "worklist.unknown_status", "status",
                  "statuses")
    t = monitor_patches
    where: list[sa.ColumnElement[bool]] = []
    if run is not None:  # first found or last confirmed by that run
        where.append(sa.or_(t.c.first_run == run, t.c.last_run == run))
    if division is not None:  # a division code prefix
        where.append(t.c.division.like(division + "%"))
    for column, value in (("layer", layer), ("zone", zone), ("kind", kind),
                          ("status", status), ("township", township), ("village", village)):
        if value is not None:
            where.append(t.c[column] == value)
    return where


def list_patches(engine: Engine, run: int | None = None, layer: str | None = None,
                 zone: str | None = None, kind: str | None = None, status: str | None = None,
                 division: str | None = None, township: str | None = None,
                 village: str | None = None, limit: int = 50, offset: int = 0,
                 with_geometry: bool = False, max_limit: int = 1000
                 ) -> tuple[int, list[Patch]]:
    """Filtered, paged work list and the total number of matches."""
    require_page(limit, offset, max_limit)
    where = _filters(run, layer, zone, kind, status, division, township, village)
    t = monitor_patches
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)
                             ).scalar_one()
        rows = conn.execute(sa.select(*_columns(with_geometry)).where(*where)
                            .order_by(t.c.id).limit(limit).offset(offset)).all()
    return total, [_patch(r, json.loads(r.geojson) if with_geometry else None) for r in rows]


def patches_geojson(engine: Engine, limit: int = 10_000, offset: int = 0,
                    **filters: Any) -> dict[str, Any]:
    """The work list as a GeoJSON FeatureCollection (EPSG:4490 lon/lat) for map viewers."""
    total, rows = list_patches(engine, **filters, limit=limit, offset=offset,
                               with_geometry=True, max_limit=10_000)
    features = []
    for p in rows:
        props = p.model_dump(mode="json", exclude={"geometry"})
        features.append({"type": "Feature", "id": p.id, "geometry": p.geometry,
                         "properties": props})
    return {"type": "FeatureCollection", "numberMatched": total,
            "numberReturned": len(features), "features": features}


def rules_for(profile: str, layer: str, zone: str | None) -> list[CitedRule]:
    """The profile's rules a patch in this zone falls under, with their citations."""
    rules = load_profile(profile)
    ids = rules.monitoring.zone_rules.get(zone_label(layer, zone),
                                          rules.monitoring.zone_rules.get(layer, []))
    return [CitedRule(rule_id=r, text_zh=rules.rules[r].text_zh,
                      summary_en=rules.rules[r].summary_en, citation=rules.rules[r].citation)
            for r in ids]


def get_patch(engine: Engine, patch_id: int) -> tuple[Patch, list[Event], list[CitedRule]]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(*_columns(with_geojson=True))
                           .where(monitor_patches.c.id == patch_id)).first()
        if row is None:
            raise NotFound(msg("worklist.not_found", noun=_NOUN, id=patch_id))
        events = read_events(conn, monitor_events, monitor_events.c.patch_id, patch_id)
        profile = conn.execute(sa.select(monitor_runs.c.profile)
                               .where(monitor_runs.c.id == row.first_run)).scalar_one()
    patch = _patch(row, json.loads(row.geojson))
    return patch, events, rules_for(profile, patch.layer, patch.zone)


def _change(engine: Engine, patch_id: int, expected_version: int, actor: Actor | None,
            reason: str | None, action: str, assignments: dict[sa.Column, Any],
            details: dict[str, Any]) -> Patch:
    """Apply ``assignments`` on the version the caller saw and record ``details`` as the
    event's details."""
    actor = resolve(actor)
    with engine.begin() as conn:
        row = versioned_update(conn, monitor_patches, patch_id, expected_version, assignments,
                               ("closed",), _columns(with_geojson=False), _NOUN,
                               "patch_status")
        record_patch_event(conn, patch_id, actor, action, details, reason)
    return _patch(row)


def decide(engine: Engine, patch_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int) -> Patch:
    """Record the field inspection's decision (status becomes ``decided``); reason required."""
    require_decision(decision, reason, DECISIONS, "patch_decision")
    t = monitor_patches
    return _change(engine, patch_id, expected_version, actor, reason, "decided",
                   {t.c.decision: decision, t.c.status: "decided"}, {"decision": decision})


def set_status(engine: Engine, patch_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Patch:
    """Send a patch to field inspection (``field_check``) or reopen it."""
    if status not in _SETTABLE:
        raise InputError(msg("monitor.status_not_settable", allowed=Codes.of(
            "patch_status", sorted(_SETTABLE), english=str(sorted(_SETTABLE)), sep="或")))
    return _change(engine, patch_id, expected_version, actor, reason, "status",
                   {monitor_patches.c.status: status}, {"status": status})
