"""The audit trail of siting checks: each run stored with its inputs, profile version, time,
who asked (the authenticated actor), the project it is for and the control-line versions the
overlay read, retrievable by id for reports and listed by project for the history
(:mod:`gis.analysis.run_history`). Runs are only ever inserted. Who may read them is the
API's business (planner and admin roles: a run shows red-line names and overlap geometry)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, func, insert, select

from gis.analysis.siting import SitingResult, check
from gis.db.records import siting_runs
from gis.errors import NotFound
from gis.identity import Actor, resolve
from gis.messages import msg

#: Longest project fields accepted: codes and names, not essays.
MAX_CODE, MAX_NAME, MAX_PURPOSE = 64, 200, 500


class ProjectInfo(BaseModel):
    """The project a check is for, as its application states it (建设用地报批): the code on
    the investment approval platform (项目代码), name, applicant (申请单位) and purpose
    (建设用途). Free text, kept as given, blank read as absent; the history is searched by
    them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_code: str | None = Field(None, max_length=MAX_CODE)
    project_name: str | None = Field(None, max_length=MAX_NAME)
    applicant: str | None = Field(None, max_length=MAX_NAME)
    purpose: str | None = Field(None, max_length=MAX_PURPOSE)

    @field_validator("*", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("NUL character")
        return value or None

    def columns(self) -> dict[str, str | None]:
        return self.model_dump()


class StoredRun(BaseModel):
    id: str
    created_at: datetime
    inputs: dict[str, Any]
    result: SitingResult
    requested_by: str | None = None
    on_behalf_of: str | None = None
    project: ProjectInfo = Field(default_factory=ProjectInfo)
    #: The control-line versions the overlay read (layer, version, basis, document_no,
    #: approved_by, effective_date); None for runs stored before they were recorded.
    control_line_versions: list[dict[str, Any]] | None = None
    #: The run this one repeats against the data current when it ran.
    rerun_of: str | None = None


def _plain(value: Any) -> Any:
    """An option as JSON for the stored inputs (a date as its ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


def check_and_store(engine: Engine, footprint: str | dict[str, Any], activity: str,
                    new_construction_land: bool, temporary: bool = False,
                    profile: str = "ningxia", crs: str = "CRS84",
                    line_width_m: float | None = None,
                    actor: Actor | None = None, construction: bool = True,
                    linear: bool | None = None, project: ProjectInfo | None = None,
                    rerun_of: str | None = None, **options: Any) -> StoredRun:
    """Run :func:`gis.analysis.siting.check` and store it with who asked and the project;
    failed checks are not stored. Further ``options`` of the check (such as the date the
    control lines are read ``as_of``) are passed on and kept with the inputs."""
    actor = resolve(actor)
    project = project or ProjectInfo()
    result = check(engine, footprint, activity, new_construction_land, temporary, profile,
                   crs, line_width_m, construction=construction, linear=linear, **options)
    inputs = {"footprint": footprint, "crs": crs, "activity": activity,
              "new_construction_land": new_construction_land, "temporary": temporary,
              "construction": construction, "linear": linear,
              "profile": profile, "line_width_m": line_width_m,
              **{key: _plain(value) for key, value in options.items()}}
    stored = result.model_dump(mode="json")
    versions = stored.get("control_line_versions")
    run_id = uuid.uuid4().hex
    geom = shapely.geometry.shape(result.footprint_geojson)
    with engine.begin() as conn:
        created = conn.execute(
            insert(siting_runs).values(
                id=run_id, profile=result.profile, profile_version=result.profile_version,
                activity=activity, new_construction_land=new_construction_land,
                temporary=temporary, verdict=result.verdict, requested_by=actor.name,
                actor_key=actor.key_id, on_behalf_of=actor.on_behalf_of,
                inputs=inputs, result=stored, control_line_versions=versions,
                rerun_of=rerun_of, **project.columns(),
                footprint=func.ST_Multi(func.ST_GeomFromWKB(shapely.to_wkb(geom), 4490)),
            ).returning(siting_runs.c.created_at)
        ).scalar_one()
    return StoredRun(id=run_id, created_at=created, inputs=inputs, result=result,
                     requested_by=actor.name, on_behalf_of=actor.on_behalf_of,
                     project=project, control_line_versions=versions, rerun_of=rerun_of)


#: The project columns, in ProjectInfo's order.
PROJECT_COLUMNS = tuple(ProjectInfo.model_fields)


def get_run(engine: Engine, run_id: str) -> StoredRun:
    c = siting_runs.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.id, c.created_at, c.inputs, c.result, c.requested_by, c.on_behalf_of,
                   c.control_line_versions, c.rerun_of,
                   *(c[name] for name in PROJECT_COLUMNS)).where(c.id == run_id)
        ).first()
    if row is None:
        raise NotFound(msg("siting.no_run", id=run_id))
    return StoredRun(id=row.id, created_at=row.created_at, inputs=row.inputs,
                     result=SitingResult.model_validate(row.result),
                     requested_by=row.requested_by, on_behalf_of=row.on_behalf_of,
                     project=ProjectInfo(**{name: row._mapping[name]
                                            for name in PROJECT_COLUMNS}),
                     control_line_versions=row.control_line_versions, rerun_of=row.rerun_of)
