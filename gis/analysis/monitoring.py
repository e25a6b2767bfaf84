"""Red-line human-activity monitoring (生态保护红线人为活动监测): runs and the work list.

``run`` compares two classified land-cover rasters (:mod:`gis.analysis.monitoring_detect`
does the pixels) inside the red line and, separately, inside permanent basic farmland, and
keeps the suspected patches as a field-inspection work list: each with its area, zone, the
red-line feature or farmland parcel, township and nearest village, the two dates and a
status. The monitoring duty is 003:251 (red line) and 003:195 (the plan's rigid controls).

The work list follows the reconciliation's pattern (:mod:`gis.analysis.forest_grass`):
re-running the same period over the same extent keeps decisions attached to the same ground
(a patch is matched to an active one of the same feature and kind by IoU above the profile's
``rematch_min_iou``) and closes patches no longer found; other periods add to the list, since
a change between 2020 and 2023 is still to be inspected when 2023-2024 is compared. Every
change appends an event; decisions carry the version the decider saw, so two concurrent
decisions cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyproj
import shapely
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis.monitoring_detect import (
    DEFAULT_WINDOW,
    Grid,
    LandCoverPair,
    Piece,
    ZoneFeature,
    detect_changes,
)
from gis.analysis.worklist import (
    EVENT_COLUMNS,
    Event,
    actor_params,
    record_event,
    require_decision,
    versioned_update,
)
from gis.crs import STORAGE_CRS, transformer
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.progress import NullProgress, Progress
from gis.rules import load_profile
from gis.rules.models import Citation
from gis.units import Area

Layer = Literal["eco_redline", "basic_farmland"]
Status = Literal["open", "field_check", "decided", "closed"]
#: violation: illegal activity, hand over for enforcement (003:253); permitted: an approved
#: activity (limited activity, national major project, approved farmland occupation);
#: legacy: pre-existing, to an exit plan (003:235); false_alarm: no change on the ground.
Decision = Literal["violation", "permitted", "legacy", "false_alarm"]
LAYERS: tuple[str, ...] = Layer.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
DECISIONS: tuple[str, ...] = Decision.__args__  # type: ignore[attr-defined]
#: Statuses a person may set; ``decided`` comes with a decision, ``closed`` with a re-run.
_SETTABLE = {"open", "field_check"}

_ZONES_SQL = """
SELECT 'eco_redline' AS layer, id, redline_code AS key, name, zone, county_code,
       ST_AsBinary(geom) AS wkb
FROM eco_redline WHERE ST_Intersects(geom, ST_GeomFromWKB(%(extent)s, 4490))
UNION ALL
SELECT 'basic_farmland', id, parcel_code, village, NULL, county_code, ST_AsBinary(geom)
FROM basic_farmland WHERE ST_Intersects(geom, ST_GeomFromWKB(%(extent)s, 4490))
"""

# Township and district: the division containing a point of the patch. Nearest village: the
# five nearest by planar distance in degrees (index-assisted), then the nearest in metres.
_PLACES_SQL = """
WITH p AS (
    SELECT i, ST_GeomFromWKB(w, 4490) AS g
    FROM unnest(%(i)s::int[], %(w)s::bytea[]) AS t(i, w))
SELECT p.i,
       (SELECT a.name FROM admin_divisions AS a WHERE a.level = 'township'
          AND ST_Intersects(a.geom, ST_PointOnSurface(p.g)) ORDER BY a.code LIMIT 1),
       (SELECT a.code FROM admin_divisions AS a WHERE a.level = 'district'
          AND ST_Intersects(a.geom, ST_PointOnSurface(p.g)) ORDER BY a.code LIMIT 1),
       v.village_name, v.village_code, v.township_name, v.dist
FROM p LEFT JOIN LATERAL (
    SELECT near.*, ST_Distance(geography(near.geom), geography(p.g)) AS dist
    FROM (SELECT village_name, village_code, township_name, geom FROM village_plans
          ORDER BY geom <-> p.g LIMIT 5) AS near
    ORDER BY dist LIMIT 1) AS v ON true
ORDER BY p.i
"""


class RunSummary(BaseModel):
    run_id: int
    profile: str
    profile_version: str
    raster_a: str
    raster_b: str
    date_a: str
    date_b: str
    grid: dict[str, Any]
    resampled: str | None
    found: dict[str, int]
    area_m2: dict[str, float]
    new: int
    kept: int
    closed: int
    warnings: list[dict[str, str]]


class Patch(BaseModel):
    id: int
    layer: str
    kind: str
    status: str
    decision: str | None
    feature_id: int | None
    feature_key: str
    feature_name: str | None
    zone: str | None
    division: str | None
    township: str | None
    village: str | None
    village_code: str | None
    village_distance_m: float | None
    date_a: str
    date_b: str
    transitions: dict[str, int]
    pixels: int
    area_m2: float
    area_mu: float
    area_ha: float
    version: int
    first_run: int
    last_run: int
    created_at: datetime
    updated_at: datetime
    geometry: dict[str, Any] | None = None


class CitedRule(BaseModel):
    rule_id: str
    text_zh: str
    summary_en: str
    citation: Citation


class RunInfo(BaseModel):
    id: int
    profile: str
    profile_version: str
    raster_a: str
    raster_b: str
    date_a: str
    date_b: str
    actor: str
    on_behalf_of: str | None = None
    actor_verified: bool = True
    started_at: datetime
    summary: dict[str, Any] | None


def _extent_4490(grid: Grid) -> shapely.MultiPolygon:
    """The compared extent as a polygon in EPSG:4490 (edges densified before transforming)."""
    t = grid.transform
    x0, y0 = t @ (0, 0)
    x1, y1 = t @ (grid.width, grid.height)
    box = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    source = pyproj.CRS.from_wkt(grid.crs.to_wkt())
    if not source.equals(STORAGE_CRS, ignore_axis_order=True):
        step = max(abs(x1 - x0), abs(y1 - y0)) / 64
        to_4490 = transformer(source, STORAGE_CRS)
        box = shapely.transform(shapely.segmentize(box, step), lambda xy: np.column_stack(
            to_4490.transform(xy[:, 0], xy[:, 1])))
    return shapely.MultiPolygon([box])


def load_zones(conn: Connection, extent: shapely.Geometry) -> list[ZoneFeature]:
    """Red-line zones and permanent basic farmland parcels intersecting ``extent``."""
    cur = conn.connection.driver_connection.cursor()
    cur.execute(_ZONES_SQL, {"extent": shapely.to_wkb(extent)})
    return [ZoneFeature(layer=layer, key=key, name=name, zone=zone, feature_id=fid,
                        county_code=county, geometry=shapely.from_wkb(bytes(wkb)))
            for layer, fid, key, name, zone, county, wkb in cur.fetchall()]


def _places(conn: Connection, pieces: Sequence[Piece]) -> list[dict[str, Any]]:
    if not pieces:
        return []
    cur = conn.connection.driver_connection.cursor()
    cur.execute(_PLACES_SQL, {"i": list(range(len(pieces))),
                              "w": [shapely.to_wkb(p.geometry) for p in pieces]})
    out = []
    for _i, township, district, village, vcode, _vtown, dist in cur.fetchall():
        out.append({"township": township, "division": district, "village": village,
                    "village_code": vcode,
                    "village_distance_m": None if dist is None else round(float(dist), 1)})
    return out


def _record_event(conn: Connection, patch_id: int, actor: Actor, action: str,
                  details: dict[str, Any] | None = None, reason: str | None = None) -> None:
    record_event(conn, "monitor_events", "patch_id", patch_id, actor, action, details, reason)


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def _zone_label(layer: str, zone: str | None) -> str:
    return f"{layer}/{zone}" if zone else layer


def run(engine: Engine, raster_a: str | Path, raster_b: str | Path, profile: str = "ningxia",
        date_a: str | date | None = None, date_b: str | date | None = None,
        actor: Actor | None = None, window: int | None = DEFAULT_WINDOW,
        progress: Progress | None = None) -> RunSummary:
    """Compare two land-cover rasters and bring the monitoring work list up to date.

    Inputs are validated before anything is written; the database part is one transaction.
    ``actor`` (authenticated; default the local user) is recorded on the run and its events.
    """
    actor = resolve(actor)
    progress = progress or NullProgress()
    rules = load_profile(profile)
    with LandCoverPair.open(raster_a, raster_b, rules.monitoring, date_a, date_b) as pair:
        extent = _extent_4490(pair.grid)
        progress.stage("loading the red line and permanent basic farmland")
        with engine.connect() as conn:
            zones = load_zones(conn, extent)
        pieces = detect_changes(pair, zones, window, progress)
        grid = {**pair.grid.describe(), "resampled": pair.resampled, "window": window}
        notes = list(pair.warnings)
        if not zones:
            notes.append({"code": "no_zones", "message": "no red-line zone or permanent basic "
                          "farmland parcel is loaded inside the compared extent"})
        dates = (pair.date_a, pair.date_b)
        names = (str(raster_a), str(raster_b))
    progress.stage("updating the work list", len(pieces))
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('monitor:' || :a || '/' || :b))"),
                     {"a": dates[0], "b": dates[1]})
        places = _places(conn, pieces)
        run_id = conn.execute(text(
            "INSERT INTO monitor_runs (profile, profile_version, raster_a, raster_b, date_a, "
            "date_b, actor, actor_key, on_behalf_of, grid, geom) VALUES (:p, :v, :ra, :rb, "
            ":da, :db, :actor, :actor_key, :on_behalf_of, CAST(:grid AS jsonb), "
            "ST_GeomFromWKB(:extent, 4490)) RETURNING id"),
            {"p": rules.id, "v": rules.version, "ra": names[0], "rb": names[1],
             "da": dates[0], "db": dates[1], **actor_params(actor), "grid": json.dumps(grid),
             "extent": shapely.to_wkb(extent)}).scalar_one()
        active = conn.execute(text(
            "SELECT id, layer, feature_key, kind, ST_AsBinary(geom) FROM monitor_patches "
            "WHERE date_a = :a AND date_b = :b AND status <> 'closed' "
            "AND ST_Intersects(geom, ST_GeomFromWKB(:extent, 4490))"),
            {"a": dates[0], "b": dates[1], "extent": shapely.to_wkb(extent)}).all()
        unmatched = {row[0]: ((row[1], row[2], row[3]), shapely.from_wkb(bytes(row[4])))
                     for row in active}
        inserts, updates = [], []
        for piece, place in zip(pieces, places, strict=True):
            same = (piece.layer, piece.feature.key, piece.kind)
            candidates = [(pid, _iou(geom, piece.geometry))
                          for pid, (key, geom) in unmatched.items() if key == same]
            best = max(candidates, key=lambda c: c[1], default=(None, 0.0))
            params = {
                "layer": piece.layer, "kind": piece.kind, "fid": piece.feature.feature_id,
                "key": piece.feature.key, "name": piece.feature.name,
                "zone": piece.feature.zone, **place,
                "division": place["division"] or piece.feature.county_code,
                "da": dates[0], "db": dates[1],
                "transitions": json.dumps(piece.transitions, ensure_ascii=False),
                "pixels": piece.patch_pixels, "area": piece.area_m2,
                "wkb": shapely.to_wkb(piece.geometry), "run": run_id,
            }
            if best[0] is not None and best[1] >= rules.monitoring.rematch_min_iou:
                unmatched.pop(best[0])
                updates.append({**params, "id": best[0]})
            else:
                inserts.append(params)
            progress.advance()
        if updates:
            conn.execute(text(
                "UPDATE monitor_patches SET transitions = CAST(:transitions AS jsonb), "
                "pixels = :pixels, area_m2 = :area, geom = ST_GeomFromWKB(:wkb, 4490), "
                "feature_id = :fid, feature_name = :name, division = :division, "
                "township = :township, village = :village, village_code = :village_code, "
                "village_distance_m = :village_distance_m, last_run = :run WHERE id = :id"),
                updates)
        if inserts:
            conn.execute(text(
                "INSERT INTO monitor_patches (layer, kind, feature_id, feature_key, "
                "feature_name, zone, division, township, village, village_code, "
                "village_distance_m, date_a, date_b, transitions, pixels, area_m2, geom, "
                "first_run, last_run) VALUES (:layer, :kind, :fid, :key, :name, :zone, "
                ":division, :township, :village, :village_code, :village_distance_m, :da, :db, "
                "CAST(:transitions AS jsonb), :pixels, :area, ST_GeomFromWKB(:wkb, 4490), "
                ":run, :run)"), inserts)
            conn.execute(text(
                "INSERT INTO monitor_events (patch_id, actor, actor_key, on_behalf_of, "
                "action, details) SELECT id, :actor, :actor_key, :on_behalf_of, 'detected', "
                "jsonb_build_object('run', :run) FROM monitor_patches WHERE first_run = :run "
                "ORDER BY id"),
                {**actor_params(actor), "run": run_id})
        for patch_id in unmatched:
            conn.execute(text(
                "UPDATE monitor_patches SET status = 'closed', version = version + 1, "
                "updated_at = now(), last_run = :run WHERE id = :id"),
                {"id": patch_id, "run": run_id})
            _record_event(conn, patch_id, actor, "closed", {"run": run_id},
                          "not found again when the same period was compared again")
        found: dict[str, int] = {}
        areas: dict[str, float] = {}
        for piece in pieces:
            label = _zone_label(piece.layer, piece.feature.zone)
            found[label] = found.get(label, 0) + 1
            areas[label] = round(areas.get(label, 0.0) + piece.area_m2, 2)
        summary = RunSummary(
            run_id=run_id, profile=rules.id, profile_version=rules.version, raster_a=names[0],
            raster_b=names[1], date_a=dates[0], date_b=dates[1], grid=grid,
            resampled=grid["resampled"], found=found, area_m2=areas, new=len(inserts),
            kept=len(updates), closed=len(unmatched), warnings=notes)
        conn.execute(text("UPDATE monitor_runs SET summary = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": summary.model_dump_json(), "id": run_id})
    return summary


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
    ids = rules.monitoring.zone_rules.get(_zone_label(layer, zone),
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
        _record_event(conn, patch_id, actor, action, values, reason)
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
