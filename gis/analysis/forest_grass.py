"""Forest and grassland one-map reconciliation (林草一张图): detection and its work list.

Detection runs in PostGIS (``sql/forest_grass_detect.sql``) over one division and classifies
forest-grass overlaps, class mismatches with the land survey, overlapping ownership, missing
owners and certificates, and certificate areas that do not match the map. Overlaps under the
profile's minimum mapping unit, or thinner than its sliver width, are reported as ``sliver``
rather than as conflicts.

The findings are a work list (台账) in the database, described by :data:`RECON` and served by
the one work-list implementation (:mod:`gis.analysis.worklist_ops`, exports and field
packages beside it). Re-detection keeps decisions attached to the same ground: a new finding
is matched to an active one by its parcels, else by geometry (intersection over union above
the profile's threshold); active findings no longer detected are closed. Every change
appends an event; decisions carry the version the decider saw, so two concurrent decisions
cannot both win.

The scan is :mod:`gis.analysis.forest_grass_scan`; the detection's work-list statements here
are SQLAlchemy Core over ``gis.db.records.recon_findings``, or static text.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis import worklist_columns as col
from gis.analysis import worklist_ops as ops
from gis.analysis.forest_grass_scan import SCAN_TABLE as _SCAN
from gis.analysis.forest_grass_scan import scan
from gis.analysis.tiled_detection import TiledScan, TileOptions
from gis.analysis.worklist import DecisionTrail, Event, Filter, WorkList
from gis.analysis.worklist import record_event as _append_event
from gis.analysis.worklist_ops import SummaryRow
from gis.db.records import recon_events, recon_field_results, recon_findings, recon_runs
from gis.errors import NotFound
from gis.identity import Actor, resolve
from gis.messages import DEFAULT_LANG, Lang, msg
from gis.messages import text as message_text
from gis.progress import NullProgress, Progress
from gis.rules import load_profile, profile_for_division
from gis.rules.models import Profile

__all__ = ["DECISIONS", "KINDS", "RECON", "STATUSES", "DetectionSummary", "Event", "Finding",
           "LastDetection", "SummaryRow", "TileOptions", "decide", "detect", "export_findings",
           "get_finding", "last_detection", "list_findings", "record_event", "set_status",
           "summarize"]

Kind = Literal["forest_grass_overlap", "class_mismatch", "ownership_overlap", "missing_owner",
               "missing_certificate", "certificate_mismatch", "sliver"]
Status = Literal["open", "field_check", "decided", "applied", "closed"]
Decision = Literal["keep_forest", "keep_grass", "split_by_line", "reassign_owner",
                   "correct_certificate", "no_change"]
DECISIONS: tuple[str, ...] = Decision.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
#: Statuses that take a finding off the work list for good (set by detection and apply).
_FINISHED = ("closed", "applied")


class FindingFields(BaseModel):
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


class Finding(DecisionTrail, FindingFields):
    """A finding of the work list, with who decided it, when and why."""


class DetectionSummary(BaseModel):
    run_id: int
    division: str
    profile: str
    detected: dict[str, int]
    new: int
    kept: int
    closed: int


class LastDetection(BaseModel):
    """The latest detection run over a division (or any): an empty list with none has not
    been detected yet, rather than found clean."""

    run_id: int
    division: str
    started_at: datetime


#: The reconciliation work list, for the one work-list implementation.
RECON = WorkList(
    name="reconciliation", items=recon_findings, events=recon_events, owner="finding_id",
    noun="worklist.noun.finding",
    fields=tuple(name for name in FindingFields.model_fields
                 if name not in ("area_mu", "area_ha", "geometry")),
    model=Finding, decisions=DECISIONS, statuses=STATUSES, settable=("field_check", "open"),
    final=_FINISHED, kind_group="finding_kind", status_group="finding_status",
    decision_group="finding_decision",
    filters=(
        Filter("division"),
        Filter("kind", values=KINDS, group="finding_kind", unknown="recon.unknown_kind",
               plural="kinds"),
        Filter("status", values=STATUSES, group="finding_status",
               unknown="worklist.unknown_status", plural="statuses"),
        Filter("township"), Filter("village"),
    ),
    status_not_settable="recon.status_not_settable", field_results=recon_field_results,
    columns=(
        col.ident(), col.labelled("worklist.column.kind", "kind", "finding_kind"),
        col.labelled("worklist.column.status", "status", "finding_status"),
        col.labelled("worklist.column.decision", "decision", "finding_decision"),
        *col.trail("worklist.column.decided_by", "worklist.column.decided_at"),
        col.plain("worklist.column.division", "division"),
        col.plain("worklist.column.township", "township"),
        col.plain("worklist.column.village", "village"), col.parcels(), *col.areas(),
    ))


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
              .returning(_F.c.id, _F.c.version).cte("closed"))
    rows = sa.select(
        closed.c.id, *(sa.bindparam(f"by_{name}", type_=sa.Text) for name in _WHO),
        sa.literal("closed", sa.Text),
        sa.func.jsonb_build_object(sa.literal("run", sa.Text), _RUN_ID),
        sa.literal(message_text("recon.closed_reason", DEFAULT_LANG), sa.Text),
        closed.c.version,
    ).order_by(closed.c.id)
    events = recon_events
    targets = [events.c.finding_id, *(events.c[name] for name in _WHO), events.c.action,
               events.c.details, events.c.reason, events.c.version]
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
                 details: dict[str, Any] | None = None, reason: str | None = None,
                 version: int | None = None) -> None:
    """Append an event to a finding's history (``version``: the finding's after it)."""
    _append_event(conn, RECON, finding_id, actor, action, details, reason, version)


def detect(engine: Engine, division: str, profile: str | None = None,
           actor: Actor | None = None, progress: Progress | None = None,
           tiles: TileOptions | None = None) -> DetectionSummary:
    """Detect conflicts in ``division`` and bring the work list up to date (one transaction).
    ``actor`` (authenticated; default the local user) is recorded on every event. With
    ``tiles`` the pairs are found tile by tile on dask.distributed
    (:mod:`gis.analysis.tiled_detection`); the findings are the same."""
    actor = resolve(actor)
    progress = progress or NullProgress()
    rules = load_profile(profile) if profile else profile_for_division(division)
    with ExitStack() as stack:
        tiled = None if tiles is None else stack.enter_context(TiledScan(engine, tiles))
        return _detect(engine, division, rules, actor, progress, tiled)


def _detect(engine: Engine, division: str, rules: Profile, actor: Actor, progress: Progress,
            tiled: TiledScan | None) -> DetectionSummary:
    """:func:`detect` once its profile is known and a tiled run's resources are up (the
    staging table outlives the transaction, which reads it)."""
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT count(*) FROM admin_divisions WHERE code = :c"),
                              {"c": division}).scalar_one()
        if not exists:
            raise NotFound(msg("recon.division_missing", division=division))
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('recon:' || :d))"),
                     {"d": division})
        progress.stage(msg("recon.stage.detecting", division=division))
        if tiled is None:
            scan(conn, division, rules)
        else:
            tiled.scan(conn, division, rules, progress)
        run_id = conn.execute(text(
            "INSERT INTO recon_runs (division, profile, profile_version) "
            "VALUES (:d, :p, :v) RETURNING id"),
            {"d": division, "p": rules.id, "v": rules.version}).scalar_one()
        progress.stage(msg("worklist.stage.updating"), 4)
        _match(conn, division, rules.reconciliation.rematch_min_iou)
        progress.advance()
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
            "details, version) SELECT id, :actor, :actor_key, :on_behalf_of, 'detected', "
            "jsonb_build_object('run', :run), 1 FROM new ORDER BY id"),
            {"d": division, "run": run_id, **actor.columns()}).rowcount
        progress.advance(2)
        closed = conn.execute(_CLOSE_MISSING, {
            "division_code": division, "run_id": run_id,
            **{f"by_{name}": value for name, value in actor.columns().items()}}).rowcount
        counts = dict(conn.execute(text(
            "SELECT kind, count(*) FROM recon_scan GROUP BY kind ORDER BY kind")).all())
        summary = DetectionSummary(run_id=run_id, division=division, profile=rules.id,
                                   detected=counts, new=new, kept=kept, closed=closed)
        conn.execute(text("UPDATE recon_runs SET summary = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": summary.model_dump_json(), "id": run_id})
        progress.advance()
    return summary


def list_findings(engine: Engine, division: str | None = None, kind: str | None = None,
                  status: str | None = None, township: str | None = None,
                  village: str | None = None, limit: int = 50, offset: int = 0,
                  with_geometry: bool = False) -> tuple[int, list[Finding]]:
    """Filtered, paged work list and the total number of matches."""
    filters = {"division": division, "kind": kind, "status": status, "township": township,
               "village": village}
    return ops.list_items(engine, RECON, filters, limit, offset,  # type: ignore[return-value]
                          with_geometry)


def get_finding(engine: Engine, finding_id: int) -> tuple[Finding, list[Event]]:
    item, history = ops.get_item(engine, RECON, finding_id)
    return item, history  # type: ignore[return-value]


def decide(engine: Engine, finding_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int) -> Finding:
    """Record a decision (status becomes ``decided``); the reason is required."""
    return ops.decide(engine, RECON, finding_id, decision, actor, reason,
                      expected_version).item  # type: ignore[return-value]


def set_status(engine: Engine, finding_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Finding:
    """Move a finding to ``open`` or ``field_check`` (e.g. sent for field inspection)."""
    return ops.set_status(engine, RECON, finding_id, status, actor, expected_version,
                          reason).item  # type: ignore[return-value]


def summarize(engine: Engine, division: str | None = None,
              **filters: str | None) -> list[SummaryRow]:
    """Counts and areas per township, village, kind and status."""
    return ops.summarize(engine, RECON, {"division": division, **filters})


def last_detection(engine: Engine, division: str | None = None) -> LastDetection | None:
    """The latest detection run over ``division`` (any division when None)."""
    runs = recon_runs
    statement = sa.select(runs.c.id, runs.c.division, runs.c.started_at)
    if division:
        statement = statement.where(runs.c.division == division)
    with engine.connect() as conn:
        row = conn.execute(statement.order_by(runs.c.id.desc()).limit(1)).first()
    return None if row is None else LastDetection(run_id=row.id, division=row.division,
                                                   started_at=row.started_at)


def export_findings(engine: Engine, path: str, division: str | None = None,
                    lang: Lang = DEFAULT_LANG, **filters: str | None) -> str:
    """The work list as xlsx or GeoPackage (by extension), with the list's filters: the
    labels, the decision trail (Beijing time) and the areas in m², 亩 and ha."""
    from gis.analysis.worklist_export import export

    return export(engine, RECON, path, {"division": division, **filters}, lang)
