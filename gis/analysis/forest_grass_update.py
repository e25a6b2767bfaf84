"""Bring the reconciliation work list up to date from a detection's ``recon_scan``.

Decisions stay attached to the same ground: a scanned finding is matched to an active one
by its parcels, else by geometry (intersection over union above the profile's threshold,
greedy, best first, each finding used once); matched findings take the scanned values, the
unmatched scanned ones are new, and the active findings not found again are closed. Every
new, changed (its parcels' attributes, ground, area, township) and closed finding gets an
event. A matched finding whose values did not change is not written at all: its
``last_run`` stays the run that last wrote it (found it, changed it or closed it), so
"still detected" is "still on the work list", never "``last_run`` is the latest run".

After a full scan every active finding of the division takes part. After an incremental
scan (:mod:`gis.analysis.forest_grass_changes`) ``recon_scan`` holds only the findings that
involve a changed parcel, and only the active findings listed in ``recon_affected`` (those
whose parcels changed) may be matched or closed; the others are the unchanged findings the
scan carried over. Both give the same work list: an unchanged finding would match its own
row by its parcels (active findings' parcel keys are unique), and nothing else could take
that row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, text

from gis.analysis.forest_grass_scan import SCAN_TABLE as _SCAN
from gis.db.records import recon_events, recon_findings
from gis.identity import Actor
from gis.messages import DEFAULT_LANG
from gis.messages import text as message_text
from gis.progress import Progress

#: Statuses that take a finding off the work list for good (set by detection and apply).
FINISHED = ("closed", "applied")


@dataclass(frozen=True)
class Counts:
    detected: dict[str, int]
    new: int
    kept: int
    closed: int


def _active(f: sa.FromClause) -> sa.ColumnElement[bool]:
    """A finding of the division ``:division_code`` still on the work list (``f`` is an alias
    of ``recon_findings``). The final statuses are rendered as literals, as they always were."""
    finished = sa.bindparam("finished", FINISHED, expanding=True, literal_execute=True)
    return sa.and_(f.c.division == sa.bindparam("division_code", type_=sa.Text),
                   f.c.status.not_in(finished))


# The work-list statements of a detection, built once: detection runs them once per call
# and building and keying Core statements anew each time cost more than running them on
# small divisions. Values are bound (:division_code, :run_id, :by_*) at execution.
_S, _F = _SCAN.alias("s"), recon_findings.alias("f")
_RUN_ID = sa.bindparam("run_id", type_=sa.BigInteger)
_WHO = ("actor", "actor_key", "on_behalf_of")
#: The active findings an incremental scan may take or close (forest_grass_affected.sql).
_AFFECTED = sa.table("recon_affected", sa.column("id"))
_MATCHED = sa.select(_SCAN.c.match_id).where(_SCAN.c.match_id.is_not(None))


def _match_by_parcels(incremental: bool) -> sa.Update:
    """Scanned findings on the same parcels as an active finding take its id."""
    statement = sa.update(_S).values(match_id=_F.c.id).where(
        _active(_F), _F.c.kind == _S.c.kind, _F.c.parcel_keys == _S.c.parcel_keys)
    return statement.where(_F.c.id.in_(sa.select(_AFFECTED.c.id))) if incremental else statement


def _iou_candidates(incremental: bool) -> sa.Select:
    """The unmatched scanned findings' overlaps with unmatched active findings of their kind,
    with their intersection over union. op("/"): the plain float8 division the SQL always
    had (Core's true division adds a cast)."""
    statement = (
        sa.select(_S.c.sid, _F.c.id,
                  sa.func.ST_Area(sa.func.ST_Intersection(_S.c.geom, _F.c.geom))
                  .op("/")(sa.func.nullif(sa.func.ST_Area(sa.func.ST_Union(_S.c.geom,
                                                                           _F.c.geom)), 0))
                  .label("iou"))
        .select_from(_S.join(_F, sa.and_(_active(_F), _F.c.kind == _S.c.kind,
                                         sa.func.ST_Intersects(_S.c.geom, _F.c.geom))))
        .where(_S.c.match_id.is_(None), _F.c.id.not_in(_MATCHED))
        .order_by(_S.c.sid))
    return statement.where(_F.c.id.in_(sa.select(_AFFECTED.c.id))) if incremental else statement


def _close_missing_statement(incremental: bool) -> sa.Insert:
    """Close the active findings the run ``:run_id`` did not find again (neither matched nor
    new; after an incremental scan, only among the affected ones) and give each a "closed"
    event, in one statement (the update's RETURNING feeds the insert). Its rowcount (kept on
    request: Core drops an INSERT's by default) is the number closed."""
    missing = [_active(_F), _F.c.last_run != _RUN_ID, _F.c.id.not_in(_MATCHED)]
    if incremental:
        missing.append(_F.c.id.in_(sa.select(_AFFECTED.c.id)))
    closed = (sa.update(_F).where(*missing)
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


#: Each statement for a full (False) and an incremental (True) scan.
_MATCH_BY_PARCELS = {mode: _match_by_parcels(mode) for mode in (False, True)}
_IOU_CANDIDATES = {mode: _iou_candidates(mode) for mode in (False, True)}
_CLOSE_MISSING = {mode: _close_missing_statement(mode) for mode in (False, True)}


def _match(conn: Connection, division: str, min_iou: float, incremental: bool) -> None:
    """Attach each scanned finding to the active finding on the same ground: first by its
    parcels, else by intersection over union (greedy, best first, each finding used once)."""
    conn.execute(_MATCH_BY_PARCELS[incremental], {"division_code": division})
    # Two scanned findings with the same parcels: the first keeps the match.
    conn.execute(text(
        "UPDATE recon_scan AS s SET match_id = NULL FROM (SELECT sid, row_number() OVER "
        "(PARTITION BY match_id ORDER BY sid) AS rn FROM recon_scan WHERE match_id IS NOT NULL"
        ") AS d WHERE d.sid = s.sid AND d.rn > 1"))
    candidates = conn.execute(_IOU_CANDIDATES[incremental], {"division_code": division}).all()
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


def update_worklist(conn: Connection, division: str, run_id: int, min_iou: float,
                    actor: Actor, progress: Progress, incremental: bool) -> Counts:
    """Match the transaction's ``recon_scan`` to the work list of ``division`` and write the
    changes of run ``run_id``: changed findings rewritten, new ones inserted, missing ones
    closed, with their events. Four progress steps."""
    _match(conn, division, min_iou, incremental)
    progress.advance()
    # Only what changed is written, with a "changed" event (the area before and after):
    # rewriting every kept finding to stamp the run was a large part of a re-detection's
    # writes. The version stays: the finding is the same ground, a decision on it stands.
    conn.execute(text(
        "WITH changed AS (UPDATE recon_findings AS f SET parcels = s.parcels, "
        "parcel_keys = s.parcel_keys, area_m2 = s.area_m2, geom = s.geom, "
        "township = s.township, village = s.village, last_run = :run "
        "FROM recon_scan AS s JOIN (SELECT id, area_m2 FROM recon_findings) AS o "
        "ON o.id = s.match_id WHERE s.match_id = f.id AND "
        "(f.parcels, f.parcel_keys, f.area_m2, f.geom, f.township, f.village) IS DISTINCT FROM "
        "(s.parcels, s.parcel_keys, s.area_m2, s.geom, s.township, s.village) "
        "RETURNING f.id, f.version, o.area_m2 AS before, f.area_m2 AS after) "
        "INSERT INTO recon_events (finding_id, actor, actor_key, on_behalf_of, action, "
        "details, version) SELECT id, :actor, :actor_key, :on_behalf_of, 'changed', "
        "jsonb_build_object('run', :run, 'previous_area_m2', before, 'area_m2', after), "
        "version FROM changed ORDER BY id"),
        {"run": run_id, **actor.columns()})
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
    closed = conn.execute(_CLOSE_MISSING[incremental], {
        "division_code": division, "run_id": run_id,
        **{f"by_{name}": value for name, value in actor.columns().items()}}).rowcount
    if incremental:
        # The scan held only what changed: the findings of this run are the work list.
        detected = dict(conn.execute(text(
            "SELECT kind, count(*) FROM recon_findings WHERE division = :d "
            "AND status NOT IN ('closed', 'applied') GROUP BY kind ORDER BY kind"),
            {"d": division}).all())
        kept = sum(detected.values()) - new
    else:
        detected = dict(conn.execute(text(
            "SELECT kind, count(*) FROM recon_scan GROUP BY kind ORDER BY kind")).all())
        kept = conn.execute(text(
            "SELECT count(*) FROM recon_scan WHERE match_id IS NOT NULL")).scalar_one()
    return Counts(detected=detected, new=new, kept=kept, closed=closed)
