"""``/api/v1/monitoring``: red-line monitoring runs and the patch work list (JSON or GeoJSON
for the portal's map layer), decisions (``legacy`` with its exit plan, 003:235), overdue exit
plans, exports and field-check packages (the work-list helpers: ``worklist_routes.py``);
``/api/v1/terrain/stats``: slope under a footprint. Patches and files show what the caller's
role may see (``routes.view``: a forestry key gets no red-line or farmland identity and a
bounding box for an outline, gis.analysis.worklist_policy)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import AnyRole, Expensive, PrincipalDep
from api.deps import EngineDep
from api.models import LineWidth, Offset, OnBehalfOf, Version
from api.routers import worklist_routes as routes
from api.routers.worklist_routes import FileName, StatusRequest, WithHistory
from gis.analysis import monitoring as mon
from gis.analysis import worklist_ops as ops
from gis.analysis.terrain import TerrainStats, footprint_terrain
from gis.analysis.worklist import beijing_today
from gis.analysis.worklist_field import ImportSummary
from gis.errors import ConfigurationError
from gis.jobs.rasters import raster_path
from gis.messages import msg

router = APIRouter(prefix="/api/v1")
GEOJSON = "application/geo+json"


class RunRequest(BaseModel):
    raster_a: str = Field(max_length=255,
                          description="Earlier land cover, a file name under GIS_RASTER_DIR")
    raster_b: str = Field(max_length=255,
                          description="Later land cover, a file name under GIS_RASTER_DIR")
    date_a: str | None = Field(None, description="YYYY[-MM[-DD]]; default: the raster's tags")
    date_b: str | None = None
    profile: str = "ningxia"
    on_behalf_of: OnBehalfOf = None


class DecisionRequest(routes.DecisionRequest):
    decision: str = Field(description=" | ".join(mon.DECISIONS))
    exit_plan: mon.ExitPlanInput | None = Field(
        None, description="Required with `legacy` (003:235): measures, deadline, "
        "responsible_unit, compensation, restoration")


class CompletionRequest(BaseModel):
    on_behalf_of: OnBehalfOf = None
    reason: str = Field(min_length=1)
    version: Version


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
    #: The exit plan of a legacy decision (the active one, else the latest), if any.
    exit_plan: mon.ExitPlan | None = None


class PatchChange(WithHistory, mon.Patch):
    """A patch as a change left it, with its whole history and its exit plan."""

    exit_plan: mon.ExitPlan | None = None


class OverduePage(BaseModel):
    total: int
    limit: int
    offset: int
    on: date
    items: list[mon.OverduePlan]


def patch_filters(
    run: int | None = None, layer: str | None = None, zone: str | None = None,
    kind: str | None = None, status: str | None = None,
    division: Annotated[str | None, Query(pattern=r"^\d{1,12}$")] = None,
    township: str | None = None, village: str | None = None,
) -> dict[str, Any]:
    """The patch list's filters: the same for the list, the exports and the package."""
    return {"run": run, "layer": layer, "zone": zone, "kind": kind, "status": status,
            "division": division, "township": township, "village": village}


PatchFilters = Annotated[dict[str, Any], Depends(patch_filters)]


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
               offset: Offset = 0) -> RunPage:
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
    filters: PatchFilters,
    who: PrincipalDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description=(
        "Page size: default 50 (at most 1000) for JSON, 10000 for GeoJSON"))] = None,
    offset: Offset = 0,
    geometry: bool = False,
    fmt: Annotated[Literal["json", "geojson"], Query(alias="format")] = "json",
) -> PatchPage | JSONResponse:
    view = routes.view(mon.MONITOR, who)
    if fmt == "geojson":
        data = await run_in_threadpool(lambda: mon.patches_geojson(
            engine, limit=limit or 10_000, offset=offset, view=view, **filters))
        return JSONResponse(data, media_type=GEOJSON)
    page = limit or 50
    total, items = await run_in_threadpool(lambda: mon.list_patches(
        engine, **filters, limit=page, offset=offset, with_geometry=geometry))
    return PatchPage(total=total, limit=page, offset=offset, items=view.items(items))


@router.get("/monitoring/patches/{patch_id}", tags=["monitoring"],
            dependencies=[AnyRole],
            summary="One patch with its history and the rules it falls under")
async def patch(patch_id: int, engine: EngineDep, who: PrincipalDep) -> PatchDetail:
    item, history, rules, plan = await run_in_threadpool(mon.get_patch_detail, engine,
                                                         patch_id)
    return PatchDetail(patch=routes.view(mon.MONITOR, who).item(item), history=history,
                       rules=rules, exit_plan=plan)


async def _changed(engine: Any, result: Any, who: Any) -> PatchChange:
    detail = await run_in_threadpool(mon.get_patch_detail, engine, result.item.id)
    return routes.changed(PatchChange, result, routes.view(mon.MONITOR, who),
                          exit_plan=detail[3])


@router.post("/monitoring/patches/{patch_id}/decision", tags=["monitoring"],
             summary="Record the field inspection's decision (planner or forestry); "
             "`legacy` needs its exit plan (003:235)", dependencies=[AnyRole])
async def decision(patch_id: int, body: DecisionRequest, engine: EngineDep,
                   who: PrincipalDep) -> PatchChange:
    result = await run_in_threadpool(mon.decide_patch, engine, patch_id, body.decision,
                                     who.actor(body.on_behalf_of), body.reason, body.version,
                                     body.exit_plan)
    return await _changed(engine, result, who)


@router.post("/monitoring/patches/{patch_id}/status", tags=["monitoring"],
             summary="Send to field inspection or reopen (planner or forestry)",
             dependencies=[AnyRole])
async def status_change(patch_id: int, body: StatusRequest, engine: EngineDep,
                        who: PrincipalDep) -> PatchChange:
    result = await run_in_threadpool(ops.set_status, engine, mon.MONITOR, patch_id,
                                     body.status, who.actor(body.on_behalf_of), body.version,
                                     body.reason)
    return await _changed(engine, result, who)


@router.post("/monitoring/patches/{patch_id}/exit-plan/completion", tags=["monitoring"],
             summary="The legacy activity has exited: complete its exit plan",
             dependencies=[AnyRole])
async def exit_completion(patch_id: int, body: CompletionRequest, engine: EngineDep,
                          who: PrincipalDep) -> PatchChange:
    result = await run_in_threadpool(mon.complete_exit, engine, patch_id,
                                      who.actor(body.on_behalf_of), body.reason, body.version)
    return await _changed(engine, result, who)


@router.get("/monitoring/exit-plans/overdue", tags=["monitoring"], dependencies=[AnyRole],
            summary="Exit plans of legacy activities past their deadline and not completed")
async def overdue(
    engine: EngineDep, who: PrincipalDep, on: date | None = None,
    division: Annotated[str | None, Query(pattern=r"^\d{1,12}$")] = None,
    township: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
) -> OverduePage:
    total, items = await run_in_threadpool(mon.overdue_plans, engine, on, division, township,
                                           limit, offset)
    return OverduePage(total=total, limit=limit, offset=offset, on=on or beijing_today(),
                       items=routes.view(mon.MONITOR, who).items(items))


@router.get("/monitoring/export.{fmt}", tags=["monitoring"], dependencies=[AnyRole, Expensive],
            summary="The patch work list as xlsx or GeoPackage, with the list's filters")
async def export(fmt: str, engine: EngineDep, filters: PatchFilters,
                 request: Request, who: PrincipalDep) -> Response:
    return await routes.export(mon.MONITOR, engine, fmt, filters, request,
                               f"monitoring-{filters['division'] or 'all'}", who)


@router.get("/monitoring/field-package.gpkg", tags=["monitoring"],
            dependencies=[AnyRole, Expensive],
            summary="The patches in field inspection, one layer per township")
async def field_package(engine: EngineDep, filters: PatchFilters,
                        request: Request, who: PrincipalDep) -> Response:
    return await routes.field_package(mon.MONITOR, engine, filters, request,
                                      f"monitoring-field-package-{filters['division'] or 'all'}",
                                      who)


@router.post("/monitoring/field-results", tags=["monitoring"],
             dependencies=[AnyRole, Expensive],
             summary="Import a filled-in field-check package: every row valid, or nothing")
async def field_results(request: Request, engine: EngineDep, who: PrincipalDep,
                        filename: FileName, on_behalf_of: str | None = None) -> ImportSummary:
    return await routes.field_import(mon.MONITOR, engine, request, who, filename,
                                     on_behalf_of)


@router.post("/terrain/stats", tags=["terrain"],
             summary="Slope (Horn), share above the steep-slope threshold, elevation")
async def terrain_stats(body: TerrainRequest, request: Request) -> TerrainStats:
    dem = request.app.state.settings.data.dem_path
    if dem is None:
        raise ConfigurationError(msg("terrain.no_dem_configured"))
    return await run_in_threadpool(footprint_terrain, dem, body.geometry, body.crs,
                                   body.profile, body.line_width_m)
