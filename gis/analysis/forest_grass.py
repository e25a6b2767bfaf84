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
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis.worklist import (
    EVENT_COLUMNS,
    Event,
    actor_params,
    require_decision,
    versioned_update,
)
from gis.analysis.worklist import record_event as _append_event
from gis.errors import InputError, NotFound
from gis.identity import Actor, resolve
from gis.layers.catalogue import load_catalogue
from gis.progress import NullProgress, Progress
from gis.rules import load_profile, profile_for_division
from gis.rules.models import Profile
from gis.units import M2_PER_MU, Area

Kind = Literal["forest_grass_overlap", "class_mismatch", "ownership_overlap", "missing_owner",
               "missing_certificate", "certificate_mismatch", "sliver"]
Status = Literal["open", "field_check", "decided", "applied", "closed"]
Decision = Literal["keep_forest", "keep_grass", "split_by_line", "reassign_owner",
                   "correct_certificate", "no_change"]
DECISIONS: tuple[str, ...] = Decision.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
_OVERLAP_KINDS = {"forest_grass_overlap", "class_mismatch", "ownership_overlap"}
#: Statuses a person may set; ``closed`` and ``applied`` are set by detection and apply.
_SETTABLE = {"open", "field_check"}


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


@cache
def _detect_sql() -> str:
    """The detection SQL with each ``{attrs:table:alias}`` expanded to a jsonb object of the
    layer's columns. ``to_jsonb(row) - 'geom'`` was the obvious spelling, but it serialises
    every geometry to text first and took longer than the intersections themselves."""
    sql = resources.files("gis.analysis").joinpath("sql", "forest_grass_detect.sql").read_text()

    def attributes(match: re.Match[str]) -> str:
        table, alias = match.group(1), match.group(2)
        layer = next(layer for layer in load_catalogue() if layer.table == table)
        names = ["id", *layer.field_names, "area_m2", "updated_at"]
        return "jsonb_build_object(" + ", ".join(
            f"'{name}', {alias}.{name}" for name in names) + ")"

    return re.sub(r"\{attrs:(\w+):(\w+)\}", attributes, sql)


def _scan(conn: Connection, division: str, profile: Profile) -> None:
    """Run detection into the transaction's temporary table ``recon_scan`` (sid, kind,
    parcels, parcel_keys, geom, area_m2, township, village, match_id). Everything stays in
    PostgreSQL: a county-wide run has hundreds of thousands of findings, and shipping each
    geometry to Python and back cost more than detecting it."""
    params = profile.reconciliation
    classes = params.land_use_classes
    cur = conn.connection.driver_connection.cursor()
    # The outline goes in as a bound value rather than a CTE: a CTE scan is parallel-restricted
    # and kept every join in one process.
    cur.execute("SELECT ST_AsEWKB(ST_Union(geom)) FROM admin_divisions WHERE code = %s",
                (division,))
    scope = cur.fetchone()[0]
    cur.execute(
        "CREATE TEMP TABLE recon_scan ON COMMIT DROP AS "
        "SELECT row_number() OVER (ORDER BY d.kind, d.parcel_keys) AS sid, "
        "CASE WHEN d.kind = ANY(%(overlap_kinds)s::text[]) AND (d.area_m2 < %(min_m2)s "
        "  OR d.perimeter_m <= 0 OR 2 * d.area_m2 / d.perimeter_m < %(sliver_w)s) "
        "  THEN 'sliver' ELSE d.kind END AS kind, "
        "d.parcels, d.kind || '|' || d.parcel_keys AS parcel_keys, d.geom, d.area_m2, "
        "d.township, d.village, NULL::bigint AS match_id "
        f"FROM ({_detect_sql()}) AS d",
        {"scope": scope, "forest": classes["forest"], "grass": classes["grassland"],
         "cultivated": classes["cultivated"], "construction": classes["construction"],
         "cert_tol": params.certificate_tolerance, "m2_per_mu": M2_PER_MU,
         "overlap_kinds": sorted(_OVERLAP_KINDS), "min_m2": params.min_mapping_m2,
         "sliver_w": params.sliver_max_width_m})
    cur.execute("CREATE INDEX ON recon_scan (sid)")
    cur.execute("ANALYZE recon_scan")


_ACTIVE = "f.division = :d AND f.status NOT IN ('closed', 'applied')"


def _match(conn: Connection, division: str, min_iou: float) -> None:
    """Attach each scanned finding to the active finding on the same ground: first by its
    parcels, else by intersection over union (greedy, best first, each finding used once)."""
    conn.execute(text(
        f"UPDATE recon_scan AS s SET match_id = f.id FROM recon_findings AS f WHERE {_ACTIVE} "
        "AND f.kind = s.kind AND f.parcel_keys = s.parcel_keys"), {"d": division})
    # Two scanned findings with the same parcels: the first keeps the match.
    conn.execute(text(
        "UPDATE recon_scan AS s SET match_id = NULL FROM (SELECT sid, row_number() OVER "
        "(PARTITION BY match_id ORDER BY sid) AS rn FROM recon_scan WHERE match_id IS NOT NULL"
        ") AS d WHERE d.sid = s.sid AND d.rn > 1"))
    candidates = conn.execute(text(
        "SELECT s.sid, f.id, ST_Area(ST_Intersection(s.geom, f.geom)) / "
        "NULLIF(ST_Area(ST_Union(s.geom, f.geom)), 0) AS iou "
        f"FROM recon_scan AS s JOIN recon_findings AS f ON {_ACTIVE} AND f.kind = s.kind "
        "AND ST_Intersects(s.geom, f.geom) WHERE s.match_id IS NULL AND f.id NOT IN "
        "(SELECT match_id FROM recon_scan WHERE match_id IS NOT NULL) ORDER BY s.sid"),
        {"d": division}).all()
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
    _append_event(conn, "recon_events", "finding_id", finding_id, actor, action, details,
                  reason)


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
            raise NotFound(f"division {division!r} is not in admin_divisions; load the "
                           "administrative divisions first")
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('recon:' || :d))"),
                     {"d": division})
        progress.stage(f"detecting conflicts in {division}")
        _scan(conn, division, rules)
        run_id = conn.execute(text(
            "INSERT INTO recon_runs (division, profile, profile_version) "
            "VALUES (:d, :p, :v) RETURNING id"),
            {"d": division, "p": rules.id, "v": rules.version}).scalar_one()
        progress.stage("updating the work list")
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
        closed = conn.execute(text(
            "WITH closed AS (UPDATE recon_findings AS f SET status = 'closed', "
            "version = version + 1, updated_at = now(), last_run = :run "
            f"WHERE {_ACTIVE} AND f.last_run <> :run RETURNING f.id) "
            "INSERT INTO recon_events (finding_id, actor, actor_key, on_behalf_of, action, "
            "details, reason) SELECT id, :actor, :actor_key, :on_behalf_of, 'closed', "
            "jsonb_build_object('run', :run), 'no longer detected after the data changed' "
            "FROM closed ORDER BY id"),
            {"d": division, "run": run_id, **actor_params(actor)}).rowcount
        counts = dict(conn.execute(text(
            "SELECT kind, count(*) FROM recon_scan GROUP BY kind ORDER BY kind")).all())
        summary = DetectionSummary(run_id=run_id, division=division, profile=rules.id,
                                   detected=counts, new=new, kept=kept, closed=closed)
        conn.execute(text("UPDATE recon_runs SET summary = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": summary.model_dump_json(), "id": run_id})
    return summary


_COLUMNS = ("id, kind, status, decision, division, township, village, parcel_keys, parcels, "
            "area_m2, version, first_run, last_run, created_at, updated_at")


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
    if not 1 <= limit <= 1000 or offset < 0:
        raise InputError("limit must be 1..1000 and offset >= 0")
    if kind is not None and kind not in Kind.__args__:  # type: ignore[attr-defined]
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(Kind.__args__)}")  # type: ignore[attr-defined]
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    for column, value in (("division", division), ("kind", kind), ("status", status),
                          ("township", township), ("village", village)):
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    clause = " AND ".join(where)
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM recon_findings WHERE {clause}"),
                             params).scalar_one()
        rows = conn.execute(text(
            f"SELECT {_COLUMNS}, ST_AsGeoJSON(geom, 8) AS geojson FROM recon_findings "
            f"WHERE {clause} ORDER BY id LIMIT :limit OFFSET :offset"), params).all()
    return total, [_finding(r, json.loads(r.geojson) if with_geometry else None) for r in rows]


def get_finding(engine: Engine, finding_id: int) -> tuple[Finding, list[Event]]:
    with engine.connect() as conn:
        row = conn.execute(text(
            f"SELECT {_COLUMNS}, ST_AsGeoJSON(geom, 8) AS geojson FROM recon_findings "
            "WHERE id = :id"), {"id": finding_id}).first()
        if row is None:
            raise NotFound(f"no finding {finding_id}")
        events = conn.execute(text(
            f"SELECT {EVENT_COLUMNS} FROM recon_events "
            "WHERE finding_id = :id ORDER BY id"), {"id": finding_id}).mappings().all()
    return _finding(row, json.loads(row.geojson)), [Event(**e) for e in events]


def _change(engine: Engine, finding_id: int, expected_version: int, actor: Actor | None,
            reason: str | None, action: str, assignments: str, values: dict[str, Any]
            ) -> Finding:
    actor = resolve(actor)
    with engine.begin() as conn:
        row = versioned_update(conn, "recon_findings", finding_id, expected_version, assignments,
                               values, ("closed", "applied"), _COLUMNS, "finding")
        record_event(conn, finding_id, actor, action, values, reason)
    return _finding(row)


def decide(engine: Engine, finding_id: int, decision: str, actor: Actor | None, reason: str,
           expected_version: int) -> Finding:
    """Record a decision (status becomes ``decided``); the reason is required."""
    require_decision(decision, reason, DECISIONS)
    return _change(engine, finding_id, expected_version, actor, reason, "decided",
                   "decision = :decision, status = 'decided'", {"decision": decision})


def set_status(engine: Engine, finding_id: int, status: str, actor: Actor | None,
               expected_version: int, reason: str | None = None) -> Finding:
    """Move a finding to ``open`` or ``field_check`` (e.g. sent for field inspection)."""
    if status not in _SETTABLE:
        raise InputError(f"status can be set to {sorted(_SETTABLE)}; 'decided' comes with a "
                         "decision, 'applied' with apply, 'closed' with detection")
    return _change(engine, finding_id, expected_version, actor, reason, "status",
                   "status = :status", {"status": status})


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
        raise InputError(f"export to .xlsx or .gpkg, not {target.suffix!r}")
    return str(target)
