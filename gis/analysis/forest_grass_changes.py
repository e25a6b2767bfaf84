"""Incremental re-detection: what changed since a division's last detection, and the scan
of only the findings that involve it.

A detection's findings depend on the parcels involved (geometry and attributes), the
division's outline, the townships and villages, the profile and the detection statements.
Every detection records what it read (migration 0015): the row version (``xmin``) of every
forest, grassland and survey parcel in reach of the division, and fingerprints of the rest.
The next detection reads the row versions again and compares them with the recorded ones by
equality. ``xmin`` changes with every insert and update, whichever path writes it (``gis
load``, an edit, a bare SQL ``UPDATE`` that forgets ``updated_at``), and a deleted parcel is
simply missing; unlike a comparison of timestamps, a clock skew or a transaction that was
still open when the previous detection ran cannot hide a change. A parcel that changed again
after the snapshot was taken only makes the next detection look at it once more.

The scan then computes only the findings with at least one changed parcel
(:func:`gis.analysis.forest_grass_scan.scan` with ``changed``); findings of unchanged parcels
are the previous detection's and stay on the work list untouched. The work-list rows whose
parcels changed (``recon_affected``) are the only ones matching, closing or rewriting can
touch. Findings applied since the previous detection are not active any more, so a full scan
would find them again as unmatched; their clean ones are put back into the scan for the same
matching (``recon_events`` ids above the recorded mark; apply and detection hold the same
per-division lock, so no apply can slip under the mark).

A full scan is chosen when there is no previous detection of the division (or its state is
not the latest run's), the profile or statements changed, the administrative divisions
changed, or more than :data:`FULL_SHARE` of the parcels changed (then the full scan costs
less than the incremental bookkeeping), or when asked (``full``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, text

from gis.analysis.forest_grass_scan import scan, scan_fingerprint, scope_ewkb
from gis.analysis.statements import statement
from gis.rules.models import Profile

#: Past this share of changed parcels a re-detection scans the whole division.
FULL_SHARE = 0.2
FullReason = Literal["forced", "no_previous", "profile_changed", "boundary_changed",
                     "many_changes"]
#: Every reason a detection scans the whole division (their messages: recon.full_reason.*).
FULL_REASONS: tuple[str, ...] = FullReason.__args__  # type: ignore[attr-defined]
#: Each reason's message, spelled out so the catalogue check finds every key in use.
FULL_REASON_MESSAGES: dict[str, str] = {
    "forced": "recon.full_reason.forced", "no_previous": "recon.full_reason.no_previous",
    "profile_changed": "recon.full_reason.profile_changed",
    "boundary_changed": "recon.full_reason.boundary_changed",
    "many_changes": "recon.full_reason.many_changes"}


@dataclass(frozen=True)
class Plan:
    """How a detection runs: incrementally, or in full and why; how many parcels changed
    (None without a previous detection to compare with)."""

    incremental: bool
    reason: FullReason | None
    changed: int | None
    profile_fingerprint: str
    admin_fingerprint: str
    event_mark: int


def _profile_fingerprint(profile: Profile) -> str:
    """What the findings depend on besides the data: the profile's reconciliation parameters
    (and its identity) and the detection statements."""
    parts = [profile.id, str(profile.version), profile.reconciliation.model_dump_json(),
             scan_fingerprint()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _snapshot(conn: Connection, division: str) -> None:
    """The parcels in reach of the division now, with their row versions, into the
    transaction's ``recon_now`` (layer, id, row_version)."""
    cur = conn.connection.driver_connection.cursor()
    scope = scope_ewkb(conn, division)
    cur.execute(statement("forest_grass_tile_extent.sql"), {"scope": scope})
    x0, y0, x1, y1, _ = cur.fetchone()
    cur.execute(statement("forest_grass_snapshot.sql"), {"x0": x0, "y0": y0, "x1": x1, "y1": y1})


def plan(conn: Connection, division: str, profile: Profile, full: bool) -> Plan:
    """Take the snapshot of what the detection reads and decide how to run it; with a
    previous detection to compare with, the changed parcels are in ``recon_changed``."""
    _snapshot(conn, division)
    profile_fp = _profile_fingerprint(profile)
    admin_fp = conn.execute(text(
        "SELECT coalesce(md5(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id)), '') "
        "FROM admin_divisions")).scalar_one()
    state = conn.execute(text(
        "SELECT s.profile_fingerprint, s.admin_fingerprint, s.event_mark FROM "
        "recon_detection_state AS s WHERE s.division = :d AND s.run_id = "
        "(SELECT max(id) FROM recon_runs WHERE division = :d)"), {"d": division}).first()
    if state is None:
        return Plan(False, "forced" if full else "no_previous", None, profile_fp, admin_fp, 0)
    conn.execute(text(statement("forest_grass_changed.sql")), {"division": division})
    conn.execute(text("CREATE INDEX ON recon_changed (layer, id)"))
    conn.execute(text("ANALYZE recon_changed"))
    changed, total = conn.execute(text(
        "SELECT (SELECT count(*) FROM recon_changed), (SELECT count(*) FROM recon_now)")).one()
    reason: FullReason | None = None
    if full:
        reason = "forced"
    elif state.profile_fingerprint != profile_fp:
        reason = "profile_changed"
    elif state.admin_fingerprint != admin_fp:
        reason = "boundary_changed"
    elif changed > FULL_SHARE * max(total, 1):
        reason = "many_changes"
    return Plan(reason is None, reason, changed, profile_fp, admin_fp, state.event_mark)


def rescan(conn: Connection, division: str, profile: Profile, event_mark: int) -> None:
    """The incremental scan into ``recon_scan``: the findings involving a changed parcel,
    and the unchanged findings applied since the previous detection (a full scan would find
    them again, and none of them is on the work list any more). ``recon_affected`` lists the
    active findings whose parcels changed: the only ones the matching may take or close."""
    scan(conn, division, profile, changed=True)
    conn.execute(text(statement("forest_grass_affected.sql")), {"division": division})
    conn.execute(text("ANALYZE recon_affected"))
    applied = conn.execute(text(statement("forest_grass_reapplied.sql")),
                           {"division": division, "mark": event_mark}).rowcount
    if applied:
        # Number them as the scan does (by kind before relabelling, then parcels), so the
        # matching takes them in the order a full scan would.
        conn.execute(text(
            "UPDATE recon_scan AS s SET sid = r.n FROM (SELECT ctid AS t, row_number() OVER "
            "(ORDER BY split_part(parcel_keys, '|', 1), "
            "substr(parcel_keys, strpos(parcel_keys, '|') + 1)) AS n FROM recon_scan) AS r "
            "WHERE s.ctid = r.t"))
        conn.execute(text("ANALYZE recon_scan"))


def save(conn: Connection, division: str, run_id: int, chosen: Plan) -> None:
    """Record what this detection read, for the next one: the fingerprints, the event mark
    (after this run's own events) and the parcels' row versions (only the changed ones are
    rewritten when the previous state was valid)."""
    conn.execute(text(
        "INSERT INTO recon_detection_state AS s (division, run_id, profile_fingerprint, "
        "admin_fingerprint, event_mark) VALUES (:d, :run, :pfp, :afp, "
        "(SELECT coalesce(max(id), 0) FROM recon_events)) ON CONFLICT (division) DO UPDATE "
        "SET run_id = excluded.run_id, profile_fingerprint = excluded.profile_fingerprint, "
        "admin_fingerprint = excluded.admin_fingerprint, event_mark = excluded.event_mark"),
        {"d": division, "run": run_id, "pfp": chosen.profile_fingerprint,
         "afp": chosen.admin_fingerprint})
    if chosen.changed is None:
        conn.execute(text("DELETE FROM recon_parcel_state WHERE division = :d"),
                     {"d": division})
        conn.execute(text(
            "INSERT INTO recon_parcel_state (division, layer, id, row_version) "
            "SELECT :d, layer, id, row_version FROM recon_now"), {"d": division})
        return
    conn.execute(text(
        "DELETE FROM recon_parcel_state AS s USING recon_changed AS c "
        "WHERE s.division = :d AND s.layer = c.layer AND s.id = c.id"), {"d": division})
    conn.execute(text(
        "INSERT INTO recon_parcel_state (division, layer, id, row_version) "
        "SELECT :d, n.layer, n.id, n.row_version FROM recon_now AS n "
        "JOIN recon_changed AS c ON c.layer = n.layer AND c.id = n.id"), {"d": division})
