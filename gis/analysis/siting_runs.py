"""The audit trail of siting checks: each run stored with its inputs, profile version, time
and who asked (the authenticated actor), retrievable by id for reports. Runs are only ever
inserted. Who may read them is the API's business (planner and admin roles: a run shows
red-line names and overlap geometry)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import shapely
from pydantic import BaseModel
from sqlalchemy import Engine, func, insert, select

from gis.analysis.siting import SitingResult, check
from gis.db.records import siting_runs
from gis.errors import NotFound
from gis.identity import Actor, resolve
from gis.messages import msg


class StoredRun(BaseModel):
    id: str
    created_at: datetime
    inputs: dict[str, Any]
    result: SitingResult
    requested_by: str | None = None
    on_behalf_of: str | None = None


def check_and_store(engine: Engine, footprint: str | dict[str, Any], activity: str,
                    new_construction_land: bool, temporary: bool = False,
                    profile: str = "ningxia", crs: str = "CRS84",
                    line_width_m: float | None = None,
                    actor: Actor | None = None, construction: bool = True,
                    linear: bool | None = None) -> StoredRun:
    """Run :func:`gis.analysis.siting.check` and store it with who asked; failed checks are
    not stored."""
    actor = resolve(actor)
    result = check(engine, footprint, activity, new_construction_land, temporary, profile,
                   crs, line_width_m, construction=construction, linear=linear)
    inputs = {"footprint": footprint, "crs": crs, "activity": activity,
              "new_construction_land": new_construction_land, "temporary": temporary,
              "construction": construction, "linear": linear,
              "profile": profile, "line_width_m": line_width_m}
    run_id = uuid.uuid4().hex
    geom = shapely.geometry.shape(result.footprint_geojson)
    with engine.begin() as conn:
        created = conn.execute(
            insert(siting_runs).values(
                id=run_id, profile=result.profile, profile_version=result.profile_version,
                activity=activity, new_construction_land=new_construction_land,
                temporary=temporary, verdict=result.verdict, requested_by=actor.name,
                actor_key=actor.key_id, on_behalf_of=actor.on_behalf_of,
                inputs=inputs, result=result.model_dump(mode="json"),
                footprint=func.ST_Multi(func.ST_GeomFromWKB(shapely.to_wkb(geom), 4490)),
            ).returning(siting_runs.c.created_at)
        ).scalar_one()
    return StoredRun(id=run_id, created_at=created, inputs=inputs, result=result,
                     requested_by=actor.name, on_behalf_of=actor.on_behalf_of)


def get_run(engine: Engine, run_id: str) -> StoredRun:
    with engine.connect() as conn:
        row = conn.execute(
            select(siting_runs.c.id, siting_runs.c.created_at, siting_runs.c.inputs,
                   siting_runs.c.result, siting_runs.c.requested_by,
                   siting_runs.c.on_behalf_of).where(siting_runs.c.id == run_id)
        ).first()
    if row is None:
        raise NotFound(msg("siting.no_run", id=run_id))
    return StoredRun(id=row.id, created_at=row.created_at, inputs=row.inputs,
                     result=SitingResult.model_validate(row.result),
                     requested_by=row.requested_by, on_behalf_of=row.on_behalf_of)
