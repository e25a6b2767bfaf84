"""``reconciliation.detect``: forest/grassland conflict detection over one division, the work
that takes seconds per district in ``POST /api/v1/reconciliation/runs``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, text

from gis.analysis import forest_grass as fg
from gis.errors import InputError
from gis.identity import Actor
from gis.jobs.kind import JobKind, ParamsError
from gis.messages import msg
from gis.progress import Progress
from gis.rules import UnknownProfile, load_profile
from gis.settings import get_settings


class DetectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    division: str = Field(pattern=r"^\d{6,12}$", description="Division code, e.g. 640202")
    profile: str | None = Field(
        None, description="Rule profile; default: the division's own (dawukou, xingqing ...)")
    full: bool = Field(False, description=(
        "Scan the whole division even when only some parcels changed since the last "
        "detection (default: incremental when it can be)"))

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                load_profile(value)
            except UnknownProfile as exc:
                raise ParamsError.of(exc) from None
        return value


def _division_exists(engine: Engine, params: DetectParams) -> None:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM admin_divisions WHERE code = :c"),
                             {"c": params.division}).scalar_one()
    if not found:
        raise InputError(msg("recon.division_missing", division=params.division))


def run_detect(engine: Engine, params: DetectParams, actor: Actor,
               progress: Progress) -> dict[str, Any]:
    """:func:`gis.analysis.forest_grass.detect` (one transaction: a cancelled or failed job
    leaves the work list as it was). Tiled on the dask cluster when the server names one
    (``GIS_DASK_SCHEDULER``): the operator, who runs the cluster, decides, not the request;
    the job's progress then counts the tiles. Without it the PostGIS scan (same findings),
    rather than a LocalCluster started inside the server for each job."""
    tiles = fg.TileOptions() if get_settings().api.dask_scheduler else None
    summary = fg.detect(engine, params.division, params.profile, actor, progress, tiles,
                        full=params.full)
    return summary.model_dump(mode="json")


KIND = JobKind(
    name="reconciliation.detect",
    title="Forest/grassland reconciliation detection",
    params=DetectParams,
    roles=frozenset({"forestry"}),
    run=run_detect,
    precheck=_division_exists,
)
