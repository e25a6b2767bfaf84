"""The monitoring work list: runs and patches listed, one patch with its history and rules,
and the field inspection's decisions and status changes.

Decisions carry the version the decider saw (:func:`gis.analysis.worklist.versioned_update`),
so two concurrent decisions cannot both win; every change appends an event. Part of
:mod:`gis.analysis.monitoring`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, text

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
    EVENT_COLUMNS,
    Event,
    record_event,
    require_decision,
    versioned_update,
)
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.rules import load_profile
from gis.units import Area

#: Statuses a person may set; ``decided`` comes with a decision, ``closed`` with a re-run.
_SETTABLE = {"open", "field_check"}


def record_patch_event(conn: Connection, patch_id: int, actor: Actor, action: str,
                       details: dict[str, Any] | None = None, reason: str | None = None) -> None:
    """Append one event to a patch's history (``monitor_events``)."""
    record_event(conn, "monitor_events", "patch_id", patch_id, actor, action, details, reason)


_RUN_COLUMNS = ("id, profile, profile_version, raster_a, raster_b, date_a, date_b, actor, "
                "on_behalf_of, actor_verified, started_at, summary")


def list_runs(engine: Engine, limit: int = 50, offset: int = 0) -> tuple[int, list[RunInfo]]:
    if not 1 <= limit <= 1000 or offset < 0:
        raise InputError("limit must be 1..1000 and offset >= 0")
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM monitor_runs")).scalar_one()
        rows = conn.execute(text(
            f"SELECT {_RUN_COLUMNS} FROM monitor_runs ORDER BY id DESC LIMIT :l OFFSET :o"),
            {"l": limit, "o": offset}).mappings().all()
    return total, [RunInfo(**r) for r in rows]


def get_run(engine: Engine, run_id: int) -> RunInfo:
    with engine.connect() as conn:
        row = conn.execute(text(
            f"SELECT {_RUN_COLUMNS} FROM monitor_runs WHERE id = :id"), {"id": run_id}
        ).mappings().first()
    if row is None:
        raise NotFound(f"no monitoring run {run_id}")
    return RunInfo(**row)


_COLUMNS = ("id, layer, kind, status, decision, feature_id, feature_key, feature_name, zone, "
            "division, township, village, village_code, village_distance_m, date_a, date_b, "
            "transitions, pixels, area_m2, version, first_run, last_run, created_at, updated_at")


def _patch(row: Any, geometry: dict[str, Any] | None = None) -> Patch:
    data = dict(row._mapping)
    data.pop("geojson", None)
    return Patch(**data, **{k: v for k, v in Area(data["area_m2"]).as_dict().items()
                            if k != "area_m2"}, geometry=geometry)


def _filters(run: int | None, layer: str | None, zone: str | None, kind: str | None,
             status: str | None, division: str | None, township: str | None,
             village: str | None) -> tuple[str, dict[str, Any]]:
    if layer is not None and layer not in LAYERS:
        raise InputError(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
    where = ["TRUE"]
    params: dict[str, Any] = {}
    if run is not None:  # first found or last confirmed by that run
        where.append("(first_run = :run OR last_run = :run)")
        params["run"] = run
    if division is not None:
        where.append("division LIKE :division")
        params["division"] = division + "%"
    for column, value in (("layer", layer), ("zone", zone), ("kind", kind),
                          ("status", status), ("township", township), ("village", village)):
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    return " AND ".join(where), params


def list_patches(engine: Engine, run: int | None = None, layer: str | None = None,
                 zone: str | None = None, kind: str | None = None, status: str | None = None,
                 division: str | None = None, township: str | None = None,
                 village: str | None = None, limit: int = 50, offset: int = 0,
                 with_geometry: bool = False, max_limit: int = 1000
                 ) -> tuple[int, list[Patch]]:
    """Filtered, paged work list and the total number of matches."""
    if not 1 <= limit <= max_limit or offset < 0:
        raise InputError(f"limit must be 1..{max_limit} and offset >= 0")
    clause, params = _filters(run, layer, zone, kind, status, division, township, village)
    params.update(limit=limit, offset=offset)
    geo = ", ST_AsGeoJSON(geom, 8) AS geojson" if with_geometry else ""
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM monitor_patches WHERE {clause}"),
                             params).scalar_one()
        rows = conn.execute(text(
            f"SELECT {_COLUMNS}{geo} FROM monitor_patches WHERE {clause} "
            "ORDER BY id LIMIT :limit OFFSET :offset"), params).all()
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
        row = conn.execute(text(
            f"SELECT {_COLUMNS}, ST_AsGeoJSON(geom, 8) AS geojson FROM monitor_patches "
            "WHERE id = :id"), {"id": patch_id}).first()
        if row is None:
            raise NotFound(f"no monitoring patch {patch_id}")
        events = conn.execute(text(
            f"SELECT {EVENT_COLUMNS} FROM monitor_events "
            "WHERE patch_id = :id ORDER BY id"), {"id": patch_id}).mappings().all()
        profile = conn.execute(text("SELECT profile FROM monitor_runs WHERE id = :r"),
                               {"r": row.first_run}).scalar_one()
    patch = _patch(row, json.loads(row.geojson))
    return patch, [Event(**e) for e in events], rules_for(profile, patch.layer, patch.zone)


def _change(engine: Engine, patch_id: int, expected_version: int, actor: Actor | None,
            reason: str | None, action: str, assignments: str, values: dict[str, Any]
            ) -> Patch:
    actor = resolve(actor)
    with engine.begin() as conn:
        row = versioned_update(conn, "monitor_patches", patch_id, expected_version, assignments,
                               values, ("closed",), _COLUMNS, "monitoring patch")
        record_patch_event(conn, patch_id, actor, action, values, reason)
    return _patch(row)


def decide(engine: Engine, patch_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int) -> Patch:
    """Record the field inspection's decision (status becomes ``decided``); reason required."""
    require_decision(decision, reason, DECISIONS)
    return _change(engine, patch_id, expected_version, actor, reason, "decided",
                   "decision = :decision, status = 'decided'", {"decision": decision})


def set_status(engine: Engine, patch_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Patch:
    """Send a patch to field inspection (``field_check``) or reopen it."""
    if status not in _SETTABLE:
        raise InputError(f"status can be set to {sorted(_SETTABLE)}; 'decided' comes with a "
                         "decision, 'closed' with a re-run of the same period")
    return _change(engine, patch_id, expected_version, actor, reason, "status",
                   "status = :status", {"status": status})
