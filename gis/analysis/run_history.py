"""The history of siting checks: find past runs by project, text, verdict and date; run one
again against the data as it is now; say what changed between two runs of a project.

A planner finds last week's check by the project (its code, or words of its name, applicant
or purpose), not by a run id. A re-run is a new run (``rerun_of`` names the one it repeats),
stored like any other, with the same footprint, declarations, profile and project; the old
run keeps its result. Comparing two runs reads both as stored: verdicts, approval paths,
areas per control layer and zone, the rule findings, warnings, profile and control-line
versions, and how far the footprints differ.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, or_, select

from gis.analysis.run_compare import RunComparison, compare_runs
from gis.analysis.siting_models import ReevaluationNotice
from gis.analysis.siting_reevaluate import get_run_with_notice
from gis.analysis.siting_runs import (
    MAX_CODE,
    PROJECT_COLUMNS,
    StoredRun,
    check_and_store,
    get_run,
)
from gis.db.records import siting_runs
from gis.errors import InputError
from gis.identity import Actor
from gis.layers.surroundings import MapContext, map_context
from gis.localtime import day_start
from gis.messages import msg
from gis.rules.models import Verdict
from gis.units import Area


class RunFilter(BaseModel):
    """What the history is searched by; days are Beijing days (the bureaus' calendar)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_code: str | None = Field(None, max_length=MAX_CODE)
    q: str | None = Field(None, max_length=100)
    verdict: Verdict | None = None
    date_from: date | None = None
    date_to: date | None = None


class RunSummary(BaseModel):
    """One row of the history."""

    id: str
    created_at: datetime
    project_code: str | None
    project_name: str | None
    applicant: str | None
    purpose: str | None
    profile: str
    profile_version: str
    activity: str
    activity_zh: str | None
    verdict: Verdict
    area_m2: float | None
    area_mu: float | None
    area_ha: float | None
    requested_by: str | None
    on_behalf_of: str | None
    rerun_of: str | None


class RunPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[RunSummary]


def _conditions(f: RunFilter) -> list[Any]:
    c = siting_runs.c
    where: list[Any] = []
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise InputError(msg("history.dates_reversed", start=f.date_from.isoformat(),
                             end=f.date_to.isoformat()))
    if f.project_code:
        where.append(c.project_code == f.project_code)
    if f.q:
        where.append(or_(*(c[name].icontains(f.q, autoescape=True)
                           for name in PROJECT_COLUMNS), c.id == f.q))
    if f.verdict:
        where.append(c.verdict == f.verdict)
    if f.date_from:
        where.append(c.created_at >= day_start(f.date_from))
    if f.date_to:
        where.append(c.created_at < day_start(f.date_to + timedelta(days=1)))
    return where


def list_runs(engine: Engine, filters: RunFilter | None = None, limit: int = 50,
              offset: int = 0) -> RunPage:
    """Stored runs matching ``filters``, newest first, with the total matched."""
    c = siting_runs.c
    where = _conditions(filters or RunFilter())
    area = c.result["footprint_area"]
    columns = (c.id, c.created_at, *(c[name] for name in PROJECT_COLUMNS), c.profile,
               c.profile_version, c.activity, c.result["activity_zh"].astext.label("activity_zh"),
               c.verdict, area["area_m2"].astext.label("area_m2"),
               c.requested_by, c.on_behalf_of, c.rerun_of)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(siting_runs).where(*where)
                             ).scalar_one()
        rows = conn.execute(select(*columns).where(*where)
                            .order_by(c.created_at.desc(), c.id.desc())
                            .limit(limit).offset(offset)).all()
    items = []
    for row in rows:
        values = dict(row._mapping)
        raw = values.pop("area_m2")
        area = Area(float(raw)) if raw is not None else None
        items.append(RunSummary(**values, area_m2=area.m2 if area else None,
                                area_mu=area.mu if area else None,
                                area_ha=area.ha if area else None))
    return RunPage(total=total, limit=limit, offset=offset, items=items)


def rerun(engine: Engine, run_id: str, actor: Actor | None = None) -> StoredRun:
    """Check a stored run's footprint again, with its declarations, profile and project,
    against the layers as they are now (a date the old run read the lines ``as_of`` is not
    repeated: the point is the current data); a new run that names the old one."""
    old = get_run(engine, run_id)
    i = old.inputs
    return check_and_store(
        engine, i["footprint"], i["activity"], i["new_construction_land"],
        i.get("temporary", False), i.get("profile", old.result.profile),
        i.get("crs", "CRS84"), i.get("line_width_m"), actor,
        i.get("construction", True), i.get("linear"), project=old.project,
        rerun_of=old.id)


def compare(engine: Engine, first: str, second: str) -> RunComparison:
    """What changed between two stored runs (the earlier is ``before``)."""
    if first == second:
        raise InputError(msg("history.not_two"))
    return compare_runs(get_run(engine, first), get_run(engine, second))


def report_inputs(engine: Engine, run_id: str
                  ) -> tuple[StoredRun, ReevaluationNotice | None, MapContext]:
    """What a report of the run shows: the run, its re-evaluation notice and the map's
    surroundings (the report itself reads no database)."""
    run, notice = get_run_with_notice(engine, run_id)
    versions = {v.layer: v.version for v in run.result.control_line_versions}
    return run, notice, map_context(engine, run.result.footprint_geojson, versions)
