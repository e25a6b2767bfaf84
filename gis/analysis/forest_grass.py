"""Forest and grassland one-map reconciliation (林草一张图): detection and the work list.

Detection runs in PostGIS (``sql/forest_grass_detect.sql``) over one division and classifies
forest-grass overlaps, class mismatches with the land survey, overlapping ownership, missing
owners and certificates, and certificate areas that do not match the map. Overlaps under the
profile's minimum mapping unit, or thinner than its sliver width, are reported as ``sliver``
rather than as conflicts.

The findings are a work list (台账) in the database. Re-detection keeps decisions attached to
the same ground: a new finding is matched to an active one by its parcels, else by geometry
(intersection over union above the profile's threshold); active findings no longer detected
are closed. Every change appends an event; nothing is overwritten without a trace. Decisions
carry the version the decider saw, so two concurrent decisions cannot both win.

The scan is :mod:`gis.analysis.forest_grass_scan`; the work-list statements here are
SQLAlchemy Core over ``gis.db.records.recon_findings``, or static text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis.forest_grass_scan import SCAN_TABLE as _SCAN
from gis.analysis.forest_grass_scan import scan
from gis.analysis.worklist import (
    Event,
    actor_params,
    read_events,
    require_decision,
    require_known,
    require_page,
    versioned_update,
)
from gis.analysis.worklist import record_event as _append_event
from gis.db.records import recon_events, recon_findings
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.messages import DEFAULT_LANG, Codes, msg
from gis.messages import text as message_text
from gis.progress import NullProgress, Progress
from gis.rules import load_profile, profile_for_division
from gis.units import Area

Kind = Literal["forest_grass_overlap", "class_mismatch", "ownership_overlap", "missing_owner",
               "missing_certificate", "certificate_mismatch", "sliver"]
Status = Literal["open", "field_check", "decided", "applied", "closed"]
Decision = Literal["keep_forest", "keep_grass", "split_by_line", "reassign_owner",
                   "correct_certificate", "no_change"]
DECISIONS: tuple[str, ...] = Decision.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
#: What a finding is called in messages.
_NOUN = msg("worklist.noun.finding")
#: Statuses a person may set; ``closed`` and ``applied`` are set by detection and apply.
_SETTABLE = {"open", "field_check"}
#: Statuses that take a finding off the work list for good.
_FINISHED = ("closed", "applied")
#: The columns of a finding read back (``Finding`` adds the areas and the geometry).
_FIELDS = ("id", "kind", "status", "decision", "division", "township", "village",
           "parcel_keys", "parcels", "area_m2", "version", "first_run", "last_run",
           "created_at", "updated_at")


class Finding(BaseModel):
    id: int
    kind: str
    status: str
    decision: str | None
    division: str
    township: str | None
    village: str | None
    parcel_keys: str
    parcels: list[dict[str, Any]]
    area_m2: float
    area_mu: float
    area_ha: float
    version: int
    first_run: int
    last_run: int
    created_at: datetime
    updated_at: datetime
    geometry: dict[str, Any] | None = None


class DetectionSummary(BaseModel):
    run_id: int
    division: str
    profile: str
    detected: dict[str, int]
    new: int
    kept: int
    closed: int


def _active(f: sa.FromClause) -> sa.ColumnElement[bool]:
    """A finding of the division ``:division_code`` still on the work list (``f`` is an alias
    of ``recon_findings``). The final statuses are rendered as literals, as they always were."""
    finished = sa.bindparam("finished", _FINISHED, expanding=True, literal_execute=True)
    return sa.and_(f.c.division == sa.bindparam("division_code", type_=sa.Text),
                   f.c.status.not_in(finished))


# The work-list statements of a detection, built once: detection runs them once per call
# and building and keying Core statements anew each time cost more than running them on
# small divisions. Values are bound (:division_code, :run_id, :by_*) at execution.
_S, _F = _SCAN.alias("s"), recon_findings.alias("f")
_RUN_ID = sa.bindparam("run_id", type_=sa.BigInteger)
_WHO = ("actor", "actor_key", "on_behalf_of")

#: Scanned findings on the same parcels as an active finding take its id.
_MATCH_BY_PARCELS = sa.update(_S).values(match_id=_F.c.id).where(
    _active(_F), _F.c.kind == _S.c.kind, _F.c.parcel_keys == _S.c.parcel_keys)

#: The unmatched scanned findings' overlaps with unmatched active findings of their kind,
#: with their intersection over union. op("/"): the plain float8 division the SQL always had
#: (Core's true division adds a cast).
_IOU_CANDIDATES = (
    sa.select(_S.c.sid, _F.c.id, sa.func.ST_Area(sa.func.ST_Intersection(_S.c.geom, _F.c.geom))
              .op("/")(sa.func.nullif(sa.func.ST_Area(sa.func.ST_Union(_S.c.geom, _F.c.geom)),
                                      0)).label("iou"))
    .select_from(_S.join(_F, sa.and_(_active(_F), _F.c.kind == _S.c.kind,
                                     sa.func.ST_Intersects(_S.c.geom, _F.c.geom))))
    .where(_S.c.match_id.is_(None),
           _F.c.id.not_in(sa.select(_SCAN.c.match_id).where(_SCAN.c.match_id.is_not(None))))
    .order_by(_S.c.sid))


def _close_missing_statement() -> sa.Insert:
    """Close the active findings the run ``:run_id`` did not find again and give each a
    "closed" event, in one statement (the update's RETURNING feeds the insert). Its rowcount
    (kept on request: Core drops an INSERT's by default) is the number closed."""
    closed = (sa.update(_F).where(_active(_F), _F.c.last_run != _RUN_ID)
              .values({_F.c.status: "closed", _F.c.version: _F.c.version + 1,
                       _F.c.updated_at: sa.func.now(), _F.c.last_run: _RUN_ID})
              .returning(_F.c.id).cte("closed"))
    rows = sa.select(
        closed.c.id, *(sa.bindparam(f"by_{name}", type_=sa.Text) for name in _WHO),
        sa.literal("closed", sa.Text),
        sa.func.jsonb_build_object(sa.literal("run", sa.Text), _RUN_ID),
        sa.literal(message_text("recon.closed_reason", DEFAULT_LANG), sa.Text),
    ).order_by(closed.c.id)
    events = recon_events
    targets = [events.c.finding_id, *(events.c[name] for name in _WHO), events.c.action,
               events.c.details, events.c.reason]
    return (sa.insert(events).from_select(targets, rows).add_cte(closed)
            .execution_options(preserve_rowcount=True))


_CLOSE_MISSING = _close_missing_statement()


def _match(conn: Connection, division: str, min_iou: float) -> None:
    """Attach each scanned finding to the active finding on the same ground: first by its
    parcels, else by intersection over union (greedy, best first, each finding used once)."""
    conn.execute(_MATCH_BY_PARCELS, {"division_code": division})
    # Two scanned findings with the same parcels: the first keeps the match.
    conn.execute(text(
        "UPDATE recon_scan AS s SET match_id = NULL FROM (SELECT sid, row_number() OVER "
        "(PARTITION BY match_id ORDER BY sid) AS rn FROM recon_scan WHERE match_id IS NOT NULL"
        ") AS d WHERE d.sid = s.sid AND d.rn > 1"))
    candidates = conn.execute(_IOU_CANDIDATES, {"division_code": division}).all()
    best: dict[int, list[tuple[float, int]]] = {}
    for sid, fid, iou in candidates:
        best.setdefault(sid, []).append((iou or 0.0, fid))
    taken: set[int] = set()
    matches = []
    for sid in sorted(best):
        options = sorted((o for o in best[sid] if o[1] not in taken), reverse=True)
        if options and options[0][0] >= min_iou:
            taken.add(options[0][1])
            matches.append({"sid": sid, "fid": options[0][1]})
    if matches:
        conn.execute(text("UPDATE recon_scan SET match_id = :fid WHERE sid = :sid"), matches)


def record_event(conn: Connection, finding_id: int, actor: Actor, action: str,
                 details: dict[str, Any] | None = None, reason: str | None = None) -> None:
    _append_event(conn, recon_events, recon_events.c.finding_id, finding_id, actor, action,
                  details, reason)


def detect(engine: Engine, division: str, profile: str | None = None,
           actor: Actor | None = None, progress: Progress | None = None) -> DetectionSummary:
    """Detect conflicts in ``division`` and bring the work list up to date (one transaction).
    ``actor`` (authenticated; default the local user) is recorded on every event."""
    actor = resolve(actor)
    progress = progress or NullProgress()
    rules = load_profile(profile) if profile else profile_for_division(division)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT count(*) FROM admin_divisions WHERE code = :c"),
                              {"c": division}).scalar_one()
        if not exists:
            raise NotFound(msg("recon.division_missing", division=division))
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('recon:' || :d))"),
                     {"d": division})
        progress.stage(msg("recon.stage.detecting", division=division))
        scan(conn, division, rules)
        run_id = conn.execute(text(
            "INSERT INTO recon_runs (division, profile, profile_version) "
            "VALUES (:d, :p, :v) RETURNING id"),
            {"d": division, "p": rules.id, "v": rules.version}).scalar_one()
        progress.stage(msg("worklist.stage.updating"))
        _match(conn, division, rules.reconciliation.rematch_min_iou)
        kept = conn.execute(text(
            "UPDATE recon_findings AS f SET parcels = s.parcels, parcel_keys = s.parcel_keys, "
            "area_m2 = s.area_m2, geom = s.geom, township = s.township, village = s.village, "
            "last_run = :run FROM recon_scan AS s WHERE s.match_id = f.id"),
            {"run": run_id}).rowcount
        # The new findings' ids come straight from the insert: selecting them back by run
        # read the whole findings table again.
        new = conn.execute(text(
            "WITH new AS (INSERT INTO recon_findings (kind, division, township, village, "
            "parcel_keys, parcels, area_m2, geom, first_run, last_run) "
            "SELECT kind, :d, township, village, parcel_keys, parcels, area_m2, geom, :run, :run "
            "FROM recon_scan WHERE match_id IS NULL ORDER BY sid RETURNING id) "
            "INSERT INTO recon_events (finding_id, actor, actor_key, on_behalf_of, action, "
            "details) SELECT id, :actor, :actor_key, :on_behalf_of, 'detected', "
            "jsonb_build_object('run', :run) FROM new ORDER BY id"),
            {"d": division, "run": run_id, **actor_params(actor)}).rowcount
        closed = conn.execute(_CLOSE_MISSING, {
            "division_code": division, "run_id": run_id,
            **{f"by_{name}": value for name, value in actor_params(actor).items()}}).rowcount
        counts = dict(conn.execute(text(
            "SELECT kind, count(*) FROM recon_scan GROUP BY kind ORDER BY kind")).all())
        summary = DetectionSummary(run_id=run_id, division=division, profile=rules.id,
                                   detected=counts, new=new, kept=kept, closed=closed)
        conn.execute(text("UPDATE recon_runs SET summary = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": summary.model_dump_json(), "id": run_id})
    return summary


def _columns(with_geojson: bool) -> list[sa.ColumnElement[Any]]:
    """A finding's columns, and its geometry as GeoJSON text (``geojson``) when asked."""
    columns: list[sa.ColumnElement[Any]] = [recon_findings.c[name] for name in _FIELDS]
    if with_geojson:
        columns.append(sa.func.ST_AsGeoJSON(recon_findings.c.geom, 8).label("geojson"))
    return columns


def _finding(row: Any, geometry: dict[str, Any] | None = None) -> Finding:
    data = dict(row._mapping)
    data.pop("geojson", None)
    return Finding(**data, **{k: v for k, v in Area(data["area_m2"]).as_dict().items()
                              if k != "area_m2"}, geometry=geometry)


def list_findings(engine: Engine, division: str | None = None, kind: str | None = None,
                  status: str | None = None, township: str | None = None,
                  village: str | None = None, limit: int = 50, offset: int = 0,
                  with_geometry: bool = False) -> tuple[int, list[Finding]]:
    """Filtered, paged work list and the total number of matches."""
    require_page(limit, offset)
    require_known(kind, KINDS, "finding_kind", "recon.unknown_kind", "kind", "kinds")
    require_known(status, STATUSES, "finding_status", "worklist.unknown_status", "status",
                  "statuses")
    t = recon_findings
    where = [t.c[column] == value for column, value in (
        ("division", division), ("kind", kind), ("status", status), ("township", township),
        ("village", village)) if value is not None]
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)
                             ).scalar_one()
        rows = conn.execute(sa.select(*_columns(with_geojson=True)).where(*where)
                            .order_by(t.c.id).limit(limit).offset(offset)).all()
    return total, [_finding(r, json.loads(r.geojson) if with_geometry else None) for r in rows]


def get_finding(engine: Engine, finding_id: int) -> tuple[Finding, list[Event]]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(*_columns(with_geojson=True))
                           .where(recon_findings.c.id == finding_id)).first()
        if row is None:
            raise NotFound(msg("worklist.not_found", noun=_NOUN, id=finding_id))
        events = read_events(conn, recon_events, recon_events.c.finding_id, finding_id)
    return _finding(row, json.loads(row.geojson)), events


def _change(engine: Engine, finding_id: int, expected_version: int, actor: Actor | None,
            reason: str | None, action: str, assignments: dict[sa.Column, Any],
            details: dict[str, Any]) -> Finding:
    """Apply ``assignments`` on the version the caller saw and record ``details`` as the
    event's details."""
    actor = resolve(actor)
    with engine.begin() as conn:
        row = versioned_update(conn, recon_findings, finding_id, expected_version, assignments,
                               _FINISHED, _columns(with_geojson=False), _NOUN,
                               "finding_status")
        record_event(conn, finding_id, actor, action, details, reason)
    return _finding(row)


def decide(engine: Engine, finding_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int) -> Finding:
    """Record a decision (status becomes ``decided``); the reason is required."""
    require_decision(decision, reason, DECISIONS, "finding_decision")
    t = recon_findings
    return _change(engine, finding_id, expected_version, actor, reason, "decided",
                   {t.c.decision: decision, t.c.status: "decided"}, {"decision": decision})


def set_status(engine: Engine, finding_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Finding:
    """Move a finding to ``open`` or ``field_check`` (e.g. sent for field inspection)."""
    if status not in _SETTABLE:
        raise InputError(msg("recon.status_not_settable", allowed=Codes.of(
            "finding_status", sorted(_SETTABLE), english=str(sorted(_SETTABLE)), sep="或")))
    return _change(engine, finding_id, expected_version, actor, reason, "status",
                   {recon_findings.c.status: status}, {"status": status})


class SummaryRow(BaseModel):
    township: str | None
    village: str | None
    kind: str
    status: str
    count: int
    area_m2: float
    area_mu: float
    area_ha: float


def summarize(engine: Engine, division: str | None = None) -> list[SummaryRow]:
    """Counts and areas per township, village, kind and status."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT township, village, kind, status, count(*), sum(area_m2) "
            "FROM recon_findings WHERE (CAST(:d AS text) IS NULL OR division = :d) "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3, 4"),
            {"d": division}).all()
    return [SummaryRow(township=t, village=v, kind=k, status=s, count=n,
                       **Area(a or 0.0).as_dict()) for t, v, k, s, n, a in rows]


def export_findings(engine: Engine, path: str, division: str | None = None) -> str:
    """The work list as xlsx (Chinese headers, 亩 and ha) or GeoPackage, by extension."""
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import shape

    total, rows = list_findings(engine, division=division, limit=1000, with_geometry=True)
    offset = len(rows)
    while offset < total:
        rows += list_findings(engine, division=division, limit=1000, offset=offset,
                              with_geometry=True)[1]
        offset = len(rows)
    records = [{
        "编号 id": f.id, "类型 kind": f.kind, "状态 status": f.status,
        "处理决定 decision": f.decision, "乡镇 township": f.township, "村 village": f.village,
        "涉及图斑 parcels": "; ".join(f"{p['layer']}:{p['key']}" for p in f.parcels),
        "面积(平方米) m2": round(f.area_m2, 2), "面积(亩) mu": f.area_mu,
        "面积(公顷) ha": f.area_ha, "版本 version": f.version,
    } for f in rows]
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        pd.DataFrame.from_records(records).to_excel(target, index=False, sheet_name="台账")
    elif target.suffix.lower() == ".gpkg":
        frame = gpd.GeoDataFrame(records, geometry=[shape(f.geometry) for f in rows],
                                 crs="EPSG:4490")
        if target.exists():
            target.unlink()
        frame.to_file(target, layer="recon_findings", driver="GPKG")
    else:
        raise InputError(msg("recon.export_format", suffix=target.suffix))
    return str(target)
