"""``monitoring.run``: compare two land-cover rasters and update the monitoring work list,
the longest of the synchronous analyses (``POST /api/v1/monitoring/runs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator
from sqlalchemy import Engine

from gis.analysis import monitoring as mon
from gis.errors import InputError
from gis.identity import Actor
from gis.jobs.kind import JobKind, ParamsError, params_context
from gis.jobs.rasters import raster_path
from gis.messages import msg
from gis.progress import Progress
from gis.rules import UnknownProfile, load_profile

DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


class MonitoringParams(BaseModel):
    """Rasters by file name under ``GIS_RASTER_DIR`` only, checked like the synchronous
    endpoint's (:func:`gis.jobs.rasters.raster_path`) and, since nothing should be queued that
    cannot run, required to exist."""

    model_config = ConfigDict(extra="forbid")

    raster_a: str = Field(min_length=1, description="Earlier land cover, a file name under "
                          "GIS_RASTER_DIR")
    raster_b: str = Field(min_length=1, description="Later land cover, a file name under "
                          "GIS_RASTER_DIR")
    date_a: str | None = Field(None, pattern=DATE,
                               description="YYYY[-MM[-DD]]; default: the raster's tags")
    date_b: str | None = Field(None, pattern=DATE)
    profile: str = "ningxia"
    _paths: tuple[Path, Path] = PrivateAttr()

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> MonitoringParams:
        try:
            load_profile(self.profile)
        except UnknownProfile as exc:
            raise ParamsError.of(exc) from None
        folder = params_context(info).raster_dir
        paths = (raster_path(folder, self.raster_a), raster_path(folder, self.raster_b))
        for name, path in zip((self.raster_a, self.raster_b), paths, strict=True):
            if not path.is_file():
                raise InputError(msg("job.no_raster", name=name))
        self._paths = paths
        return self

    @property
    def paths(self) -> tuple[Path, Path]:
        return self._paths


def run_monitoring(engine: Engine, params: MonitoringParams, actor: Actor,
                   progress: Progress) -> dict[str, Any]:
    """:func:`gis.analysis.monitoring.run` (its database part is one transaction)."""
    a, b = params.paths
    summary = mon.run(engine, a, b, params.profile, params.date_a, params.date_b, actor,
                      progress=progress)
    return summary.model_dump(mode="json")


KIND = JobKind(
    name="monitoring.run",
    title="Red-line monitoring run",
    params=MonitoringParams,
    roles=frozenset({"planner", "forestry"}),
    run=run_monitoring,
)
