"""``/api/v1/monitoring``: red-line monitoring runs and the patch work list (JSON or GeoJSON
for the portal's map layer); ``/api/v1/terrain/stats``: slope under a footprint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import AnyRole, Expensive, PrincipalDep
from api.deps import EngineDep
from api.models import LineWidth, OnBehalfOf
from gis.analysis import monitoring as mon
from gis.analysis.terrain import TerrainStats, footprint_terrain
from gis.errors import ConfigurationError
from gis.jobs.rasters import raster_path
from gis.messages import msg

router = APIRouter(prefix="/api/v1")
GEOJSON = "application/geo+json"


class RunRequest(BaseModel):
    raster_a: str = Field(description="Earlier land cover, a file name under GIS_RASTER_DIR")
    raster_b: str = Field(description="Later land cover, a file name under GIS_RASTER_DIR")
    date_a: str | None = Field(None, description="YYYY[-MM[-DD]]; default: the raster's tags")
    date_b: str | None = None
    profile: str = "ningxia"
    on_behalf_of: OnBehalfOf = None


class DecisionRequest(BaseModel):
    decision: str = Field(description=" | ".join(mon.DECISIONS))
    on_behalf_of: OnBehalfOf = None
    reason: str = Field(min_length=1)
    version: int = Field(description="The version you decided on (from the patch)")


class StatusRequest(BaseModel):
    status: str = Field(description="open | field_check")
    on_behalf_of: OnBehalfOf = None
    reason: str | None = None
    version: int


class RunPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[mon.RunInfo]


class PatchPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[mon.Patch]


class PatchDetail(BaseModel):
    patch: mon.Patch
    history: list[mon.Event]
    rules: list[mon.CitedRule]


class TerrainRequest(BaseModel):
    geometry: dict[str, Any] | str = Field(
        description="GeoJSON geometry, Feature or FeatureCollection, or WKT")
    crs: str = "CRS84"
    profile: str = "ningxia"
    line_width_m: LineWidth = None


def _raster(request: Request, name: str) -> Path:
    """A raster under the configured directory: the API never reads arbitrary paths (the
    check is shared with the ``monitoring.run`` job)."""
    return raster_path(request.app.state.settings.data.raster_dir, name)


@router.post("/monitoring/runs", status_code=201, tags=["monitoring"],
             summary="Compare two land-cover rasters and update the work list (planner or "
             "forestry)", dependencies=[AnyRole, Expensive])
async def start_run(body: RunRequest, request: Request, engine: EngineDep,
                    who: PrincipalDep) -> mon.RunSummary:
    a, b = _raster(request, body.raster_a), _raster(request, body.raster_b)
    return await run_in_threadpool(mon.run, engine, a, b, body.profile, body.date_a,
                                   body.date_b, who.actor(body.on_behalf_of))


@router.get("/monitoring/runs", tags=["monitoring"], summary="Monitoring runs, newest first",
            dependencies=[AnyRole])
async def runs(engine: EngineDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
               offset: Annotated[int, Query(ge=0)] = 0) -> RunPage:
    total, items = await run_in_threadpool(mon.list_runs, engine, limit, offset)
    return RunPage(total=total, limit=limit, offset=offset, items=items)


@router.get("/monitoring/runs/{run_id}", tags=["monitoring"], summary="One monitoring run",
            dependencies=[AnyRole])
async def run_detail(run_id: int, engine: EngineDep) -> mon.RunInfo:
    return await run_in_threadpool(mon.get_run, engine, run_id)


@router.get("/monitoring/patches", tags=["monitoring"], response_model=None,
            dependencies=[AnyRole], name="monitoring_patches",
            summary="The suspected patches: a page of JSON, or GeoJSON for a map layer")
async def patches(
    engine: EngineDep,
    run: int | None = None,
    layer: str | None = None, zone: str | None = None, kind: str | None = None,
    status: str | None = None,
    division: Annotated[str | None, Query(pattern=r"^\d{1,12}$")] = None,
    township: str | None = None, village: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description=(
        "Page size: default 50 (at most 1000) for JSON, 10000 for GeoJSON"))] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    geometry: bool = False,
    fmt: Annotated[Literal["json", "geojson"], Query(alias="format")] = "json",
) -> PatchPage | JSONResponse:
    filters = {"run": run, "layer": layer, "zone": zone, "kind": kind, "status": status,
               "division": division, "township": township, "village": village}
    if fmt == "geojson":
        data = await run_in_threadpool(lambda: mon.patches_geojson(
            engine, limit=limit or 10_000, offset=offset, **filters))
        return JSONResponse(data, media_type=GEOJSON)
    page = limit or 50
    total, items = await run_in_threadpool(lambda: mon.list_patches(
        engine, **filters, limit=page, offset=offset, with_geometry=geometry))
    return PatchPage(total=total, limit=page, offset=offset, items=items)


@router.get("/monitoring/patches/{patch_id}", tags=["monitoring"],
            dependencies=[AnyRole],
            summary="One patch with its history and the rules it falls under")
async def patch(patch_id: int, engine: EngineDep) -> PatchDetail:
    item, history, rules = await run_in_threadpool(mon.get_patch, engine, patch_id)
    return PatchDetail(patch=item, history=history, rules=rules)


@router.post("/monitoring/patches/{patch_id}/decision", tags=["monitoring"],
             summary="Record the field inspection's decision (planner or forestry)",
             dependencies=[AnyRole])
async def decision(patch_id: int, body: DecisionRequest, engine: EngineDep,
                   who: PrincipalDep) -> mon.Patch:
    return await run_in_threadpool(mon.decide, engine, patch_id, body.decision,
                                   who.actor(body.on_behalf_of), body.reason, body.version)


@router.post("/monitoring/patches/{patch_id}/status", tags=["monitoring"],
             summary="Send to field inspection or reopen (planner or forestry)",
             dependencies=[AnyRole])
async def status_change(patch_id: int, body: StatusRequest, engine: EngineDep,
                        who: PrincipalDep) -> mon.Patch:
    return await run_in_threadpool(mon.set_status, engine, patch_id, body.status,
                                   who.actor(body.on_behalf_of), body.version, body.reason)


@router.post("/terrain/stats", tags=["terrain"],
             summary="Slope (Horn), share above the steep-slope threshold, elevation")
async def terrain_stats(body: TerrainRequest, request: Request) -> TerrainStats:
    dem = request.app.state.settings.data.dem_path
    if dem is None:
        raise ConfigurationError(msg("terrain.no_dem_configured"))
    return await run_in_threadpool(footprint_terrain, dem, body.geometry, body.crs,
                                   body.profile, body.line_width_m)
