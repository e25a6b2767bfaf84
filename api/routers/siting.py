"""``/api/v1/analysis/siting``: run, fetch and report siting checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import Expensive, Planner, PrincipalDep
from api.deps import EngineDep
from api.models import LineWidth, OnBehalfOf
from gis.analysis.siting import (
    AdvisoryModel,
    ApprovalPath,
    AreaOut,
    Overlap,
    RuleFinding,
)
from gis.analysis.siting_runs import StoredRun, check_and_store, get_run
from gis.reports.siting import siting_html, siting_pdf

router = APIRouter(prefix="/analysis/siting", tags=["siting"])


class SitingRequest(BaseModel):
    geometry: dict[str, Any] | str = Field(
        description="GeoJSON geometry, Feature or FeatureCollection, or WKT")
    crs: str = Field("CRS84", description="CRS84, EPSG:4490, EPSG:4326, EPSG:4544 (GK CM 105E), "
                     "GCJ02 ...")
    activity: str = Field(description="Activity code from GET /api/v1/rules/{profile}")
    new_construction_land: bool
    temporary: bool = False
    profile: str = "ningxia"
    line_width_m: LineWidth = None
    on_behalf_of: OnBehalfOf = None


class SitingResponse(BaseModel):
    id: str
    created_at: str
    #: Who ran the check: the API key's holder (or ``cli:<user>``), and for whom.
    requested_by: str | None
    on_behalf_of: str | None
    verdict: str
    profile: str
    profile_version: str
    activity: str
    activity_zh: str
    footprint_area: AreaOut
    overlaps: list[Overlap]
    rules: list[RuleFinding]
    approval_path: ApprovalPath | None
    warnings: list[AdvisoryModel]
    overlap_geojson: dict[str, Any]
    links: dict[str, str]


def _response(run: StoredRun, request: Request) -> SitingResponse:
    r = run.result
    base = str(request.url_for("get_siting_run", run_id=run.id))
    features = [{
        "type": "Feature", "geometry": o.geometry,
        "properties": {"layer": o.layer, "layer_zh": o.layer_zh, "zone": o.zone,
                       "area_m2": o.area_m2, "area_mu": o.area_mu, "area_ha": o.area_ha},
    } for o in r.overlaps]
    features.insert(0, {"type": "Feature", "geometry": r.footprint_geojson,
                        "properties": {"layer": "footprint", **r.footprint_area.model_dump()}})
    return SitingResponse(
        id=run.id, created_at=run.created_at.isoformat(), requested_by=run.requested_by,
        on_behalf_of=run.on_behalf_of, verdict=r.verdict, profile=r.profile,
        profile_version=r.profile_version, activity=r.activity, activity_zh=r.activity_zh,
        footprint_area=r.footprint_area, overlaps=r.overlaps, rules=r.rules,
        approval_path=r.approval_path, warnings=r.warnings,
        overlap_geojson={"type": "FeatureCollection", "features": features},
        links={"self": base, "report_html": f"{base}/report.html",
               "report_pdf": f"{base}/report.pdf"},
    )


@router.post("", status_code=201, summary="Check a project footprint (planner)",
             dependencies=[Planner, Expensive])
async def run_siting(body: SitingRequest, request: Request, response: Response,
                     engine: EngineDep, who: PrincipalDep) -> SitingResponse:
    run = await run_in_threadpool(
        check_and_store, engine, body.geometry, body.activity, body.new_construction_land,
        body.temporary, body.profile, body.crs, body.line_width_m,
        who.actor(body.on_behalf_of))
    out = _response(run, request)
    response.headers["Location"] = out.links["self"]
    return out


# Stored runs show red-line names and overlap geometry: planner and admin keys only, like
# the red-line layer itself. (Only planners and admins can create them, so a run's own key
# can always read it back.)
@router.get("/{run_id}", name="get_siting_run", summary="A stored siting check (planner)",
            dependencies=[Planner])
async def get_siting(run_id: str, request: Request, engine: EngineDep) -> SitingResponse:
    return _response(await run_in_threadpool(get_run, engine, run_id), request)


@router.get("/{run_id}/report.html", response_class=HTMLResponse,
            summary="HTML report (planner)", dependencies=[Planner])
async def report_html(run_id: str, engine: EngineDep) -> HTMLResponse:
    run = await run_in_threadpool(get_run, engine, run_id)
    return HTMLResponse(await run_in_threadpool(siting_html, run))


@router.get("/{run_id}/report.pdf", summary="PDF report (planner)", dependencies=[Planner])
async def report_pdf(run_id: str, engine: EngineDep) -> Response:
    run = await run_in_threadpool(get_run, engine, run_id)
    pdf = await run_in_threadpool(siting_pdf, run)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="siting-{run_id}.pdf"'})
