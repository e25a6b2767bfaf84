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

A re-detection is incremental: only the findings involving a parcel inserted, updated or
deleted since the division's previous detection are computed and matched, the rest stay as
they are, and only findings that changed are written (a full scan on the same data gives the
same work list; :mod:`gis.analysis.forest_grass_changes` says how changes are known and when
the whole division is scanned instead).

The scan is :mod:`gis.analysis.forest_grass_scan`; the work list is brought up to date by
:mod:`gis.analysis.forest_grass_update`.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis import forest_grass_changes as changes
from gis.analysis import worklist_columns as col
from gis.analysis import worklist_ops as ops
from gis.analysis.forest_grass_scan import scan
from gis.analysis.forest_grass_update import FINISHED as _FINISHED
from gis.analysis.forest_grass_update import update_worklist
from gis.analysis.tiled_detection import TiledScan, TileOptions
from gis.analysis.worklist import DecisionTrail, Event, Filter, WorkList
from gis.analysis.worklist import record_event as _append_event
from gis.analysis.worklist_ops import SummaryRow
from gis.db.records import recon_events, recon_field_results, recon_findings, recon_runs
from gis.errors import NotFound
from gis.identity import Actor, resolve
from gis.messages import DEFAULT_LANG, Lang, msg
from gis.progress import NullProgress, Progress
from gis.rules import load_profile, profile_for_division

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
    #: ``incremental``: only findings involving changed parcels were computed.
    mode: Literal["full", "incremental"] = "full"
    #: Why the whole division was scanned (``forced``, ``no_previous``, ``profile_changed``,
    #: ``boundary_changed``, ``many_changes``); None for an incremental run.
    full_reason: str | None = None
    #: Parcels changed since the previous detection (None: none to compare with).
    changed: int | None = None


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


def record_event(conn: Connection, finding_id: int, actor: Actor, action: str,
                 details: dict[str, Any] | None = None, reason: str | None = None,
                 version: int | None = None) -> None:
    """Append an event to a finding's history (``version``: the finding's after it)."""
    _append_event(conn, RECON, finding_id, actor, action, details, reason, version)


def detect(engine: Engine, division: str, profile: str | None = None,
           actor: Actor | None = None, progress: Progress | None = None,
           tiles: TileOptions | None = None, full: bool = False) -> DetectionSummary:
    """Detect conflicts in ``division`` and bring the work list up to date (one transaction).
    ``actor`` (authenticated; default the local user) is recorded on every event.

    A re-detection is incremental when it can be: only the findings involving a parcel
    changed since the division's previous detection are computed and matched, the others
    stay as they are (:mod:`gis.analysis.forest_grass_changes`); the work list is the one a
    full scan would give. ``full`` forces a full scan, as do a first detection, a changed
    profile or administrative division, and many changed parcels (the summary says which and
    why). With ``tiles`` a full scan finds the pairs tile by tile on dask.distributed
    (:mod:`gis.analysis.tiled_detection`); an incremental one, small by nature, runs in
    PostGIS without starting the cluster."""
    actor = resolve(actor)
    progress = progress or NullProgress()
    rules = load_profile(profile) if profile else profile_for_division(division)
    # The tiled run's resources (cluster, staging table) outlive the transaction, which
    # reads the staging table: the stack closes after the transaction has ended.
    with ExitStack() as stack, engine.begin() as conn:
        exists = conn.execute(text("SELECT count(*) FROM admin_divisions WHERE code = :c"),
                              {"c": division}).scalar_one()
        if not exists:
            raise NotFound(msg("recon.division_missing", division=division))
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('recon:' || :d))"),
                     {"d": division})
        progress.stage(msg("recon.stage.detecting", division=division))
        chosen = changes.plan(conn, division, rules, full)
        if chosen.incremental:
            progress.stage(msg("recon.stage.redetecting", division=division,
                               changed=chosen.changed))
            changes.rescan(conn, division, rules, chosen.event_mark)
        elif tiles is not None:
            stack.enter_context(TiledScan(engine, tiles)).scan(conn, division, rules, progress)
        else:
            scan(conn, division, rules)
        run_id = conn.execute(text(
            "INSERT INTO recon_runs (division, profile, profile_version) "
            "VALUES (:d, :p, :v) RETURNING id"),
            {"d": division, "p": rules.id, "v": rules.version}).scalar_one()
        progress.stage(msg("worklist.stage.updating"), 4)
        counts = update_worklist(conn, division, run_id,
                                 rules.reconciliation.rematch_min_iou, actor, progress,
                                 chosen.incremental)
        changes.save(conn, division, run_id, chosen)
        summary = DetectionSummary(
            run_id=run_id, division=division, profile=rules.id, detected=counts.detected,
            new=counts.new, kept=counts.kept, closed=counts.closed,
            mode="incremental" if chosen.incremental else "full",
            full_reason=chosen.reason, changed=chosen.changed)
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
