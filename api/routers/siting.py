"""``/api/v1/analysis/siting``: run, fetch and report siting checks; re-evaluate stored runs
under the current rules (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import Expensive, Planner, PrincipalDep, require_roles
from api.deps import EngineDep
from api.models import LineWidth, OnBehalfOf
from gis.analysis.siting import (
    AdvisoryModel,
    ApprovalPath,
    AreaOut,
    Overlap,
    RuleFinding,
)
from gis.analysis.siting_models import ReevaluationNotice
from gis.analysis.siting_reevaluate import (
    ReevaluationPage,
    ReevaluationReport,
    get_run_with_notice,
    list_reevaluations,
    reevaluate_runs,
)
from gis.analysis.siting_runs import StoredRun, check_and_store
from gis.ogc.geometry import rfc7946
from gis.reports.siting import siting_html, siting_pdf

router = APIRouter(prefix="/analysis/siting", tags=["siting"])
#: Re-evaluating every stored run, and the list of changes it made: admin keys only.
Admin = Depends(require_roles())


class SitingRequest(BaseModel):
    geometry: dict[str, Any] | str = Field(
        description="GeoJSON geometry, Feature or FeatureCollection, or WKT")
    crs: str = Field("CRS84", description="CRS84, EPSG:4490, EPSG:4326, EPSG:4544 (GK CM 105E), "
                     "GCJ02 ...")
    activity: str = Field(description="Activity code from GET /api/v1/rules/{profile}")
    new_construction_land: bool
    temporary: bool = False
    construction: bool = Field(
        True, description="Does the project have specific construction activity (具体建设活动, "
        "003:243)? false for a patrol, monitoring or research without facilities: without new "
        "construction land, 003:243 then prescribes no justification")
    linear: bool | None = Field(
        None, description="Is the project linear infrastructure (a road, pipeline, line)? "
        "null: judged from the footprint's shape, for activities that may be linear")
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
    #: The request's declarations as checked, and whether it was checked as linear.
    new_construction_land: bool | None = None
    temporary: bool | None = None
    construction: bool | None = None
    linear: bool | None = None
    footprint_area: AreaOut
    overlaps: list[Overlap]
    rules: list[RuleFinding]
    approval_path: ApprovalPath | None
    warnings: list[AdvisoryModel]
    overlap_geojson: dict[str, Any]
    links: dict[str, str]
    #: The run's latest re-evaluation under later rules, when its verdict or approval path
    #: changed; the fields above stay the result as it was given.
    reevaluation: ReevaluationNotice | None = None


def _response(run: StoredRun, request: Request,
              notice: ReevaluationNotice | None = None) -> SitingResponse:
    r = run.result
    base = str(request.url_for("get_siting_run", run_id=run.id))
    # RFC 7946 ring orientation (outer rings counterclockwise, holes clockwise).
    features = [{
        "type": "Feature", "geometry": rfc7946(o.geometry),
        "properties": {"layer": o.layer, "layer_zh": o.layer_zh, "zone": o.zone,
                       "area_m2": o.area_m2, "area_mu": o.area_mu, "area_ha": o.area_ha},
    } for o in r.overlaps]
    features.insert(0, {"type": "Feature", "geometry": rfc7946(r.footprint_geojson),
                        "properties": {"layer": "footprint", **r.footprint_area.model_dump()}})
    return SitingResponse(
        id=run.id, created_at=run.created_at.isoformat(), requested_by=run.requested_by,
        on_behalf_of=run.on_behalf_of, verdict=r.verdict, profile=r.profile,
        profile_version=r.profile_version, activity=r.activity, activity_zh=r.activity_zh,
        new_construction_land=r.new_construction_land, temporary=r.temporary,
        construction=r.construction, linear=r.linear,
        footprint_area=r.footprint_area, overlaps=r.overlaps, rules=r.rules,
        approval_path=r.approval_path, warnings=r.warnings,
        overlap_geojson={"type": "FeatureCollection", "features": features},
        links={"self": base, "report_html": f"{base}/report.html",
               "report_pdf": f"{base}/report.pdf"},
        reevaluation=notice,
    )


@router.post("", status_code=201, summary="Check a project footprint (planner)",
             dependencies=[Planner, Expensive])
async def run_siting(body: SitingRequest, request: Request, response: Response,
                     engine: EngineDep, who: PrincipalDep) -> SitingResponse:
    run = await run_in_threadpool(
        check_and_store, engine, body.geometry, body.activity, body.new_construction_land,
        body.temporary, body.profile, body.crs, body.line_width_m,
        who.actor(body.on_behalf_of), body.construction, body.linear)
    out = _response(run, request)
    response.headers["Location"] = out.links["self"]
    return out


@router.post("/reevaluations", status_code=201, dependencies=[Admin],
             summary="Judge every stored run again under the current rules (admin)")
async def reevaluate(request: Request, response: Response, engine: EngineDep,
                     who: PrincipalDep) -> ReevaluationReport:
    """From each run's stored overlaps (not a new overlay: see gis.analysis.siting_reevaluate);
    lists and marks the runs whose verdict or approval path changes. Nothing is overwritten."""
    report = await run_in_threadpool(reevaluate_runs, engine, who.actor())
    response.headers["Location"] = str(request.url_for("list_reevaluations")
                                       .include_query_params(batch=report.batch))
    return report


@router.get("/reevaluations", name="list_reevaluations", dependencies=[Admin],
            summary="Recorded re-evaluations, newest first (admin)")
async def reevaluations(
    engine: EngineDep,
    batch: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    run_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReevaluationPage:
    return await run_in_threadpool(list_reevaluations, engine, batch, run_id, limit, offset)


# Stored runs show red-line names and overlap geometry: planner and admin keys only, like
# the red-line layer itself. (Only planners and admins can create them, so a run's own key
# can always read it back.)
@router.get("/{run_id}", name="get_siting_run", summary="A stored siting check (planner)",
            dependencies=[Planner])
async def get_siting(run_id: str, request: Request, engine: EngineDep) -> SitingResponse:
    run, notice = await run_in_threadpool(get_run_with_notice, engine, run_id)
    return _response(run, request, notice)


@router.get("/{run_id}/report.html", response_class=HTMLResponse,
            summary="HTML report (planner)", dependencies=[Planner])
async def report_html(run_id: str, engine: EngineDep) -> HTMLResponse:
    run, notice = await run_in_threadpool(get_run_with_notice, engine, run_id)
    return HTMLResponse(await run_in_threadpool(siting_html, run, notice))


@router.get("/{run_id}/report.pdf", summary="PDF report (planner)", dependencies=[Planner])
async def report_pdf(run_id: str, engine: EngineDep) -> Response:
    run, notice = await run_in_threadpool(get_run_with_notice, engine, run_id)
    pdf = await run_in_threadpool(siting_pdf, run, notice)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="siting-{run_id}.pdf"'})
