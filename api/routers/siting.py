"""``/api/v1/analysis/siting``: run, list, fetch, re-run, compare and report siting checks;
re-evaluate stored runs under the current rules (admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import Expensive, Planner, PrincipalDep, require_roles
from api.deps import EngineDep
from api.errors import lang_of
from api.models import AsOf, LineWidth, OnBehalfOf
from gis.analysis.run_compare import RunComparison
from gis.analysis.run_history import (
    RunFilter,
    RunPage,
    compare,
    list_runs,
    report_inputs,
    rerun,
)
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
from gis.analysis.siting_runs import (
    MAX_CODE,
    MAX_NAME,
    MAX_PURPOSE,
    ProjectInfo,
    StoredRun,
    check_and_store,
)
from gis.analysis.survey_areas import SurveyShare
from gis.messages import Lang
from gis.ogc.geometry import rfc7946
from gis.reports.siting import siting_html, siting_pdf
from gis.rules.models import Verdict

router = APIRouter(prefix="/analysis/siting", tags=["siting"])
#: Re-evaluating every stored run, and the list of changes it made: admin keys only.
Admin = Depends(require_roles())
RUN_ID = r"^[0-9A-Za-z_-]{1,64}$"


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
    as_of: AsOf = None
    project_code: str | None = Field(None, max_length=MAX_CODE,
                                     description="项目代码 (the history is searched by it)")
    project_name: str | None = Field(None, max_length=MAX_NAME, description="项目名称")
    applicant: str | None = Field(None, max_length=MAX_NAME, description="申请单位")
    purpose: str | None = Field(None, max_length=MAX_PURPOSE, description="建设用途")

    def project(self) -> ProjectInfo:
        return ProjectInfo(project_code=self.project_code, project_name=self.project_name,
                           applicant=self.applicant, purpose=self.purpose)


class SitingResponse(BaseModel):
    id: str
    created_at: str
    #: Who ran the check: the API key's holder (or ``cli:<user>``), and for whom.
    requested_by: str | None
    on_behalf_of: str | None
    project: ProjectInfo
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
    #: The control-line versions the overlay read (None for runs from before they were kept).
    control_line_versions: list[dict[str, Any]] | None = None
    #: The day (China) whose control-line versions the check read.
    as_of: date | None = None
    #: The survey's land classes under the footprint in official areas (图斑地类面积).
    land_survey: SurveyShare | None = None
    #: The run this one repeats against newer data.
    rerun_of: str | None = None
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
        on_behalf_of=run.on_behalf_of, project=run.project, verdict=r.verdict,
        profile=r.profile, profile_version=r.profile_version, activity=r.activity,
        activity_zh=r.activity_zh, new_construction_land=r.new_construction_land,
        temporary=r.temporary, construction=r.construction, linear=r.linear,
        footprint_area=r.footprint_area, overlaps=r.overlaps, rules=r.rules,
        approval_path=r.approval_path, warnings=r.warnings,
        overlap_geojson={"type": "FeatureCollection", "features": features},
        control_line_versions=run.control_line_versions, rerun_of=run.rerun_of,
        as_of=r.as_of, land_survey=r.land_survey,
        links={"self": base, "report_html": f"{base}/report.html",
               "report_pdf": f"{base}/report.pdf", "rerun": f"{base}/rerun"},
        reevaluation=notice,
    )


@router.post("", status_code=201, summary="Check a project footprint (planner)",
             dependencies=[Planner, Expensive])
async def run_siting(body: SitingRequest, request: Request, response: Response,
                     engine: EngineDep, who: PrincipalDep) -> SitingResponse:
    run = await run_in_threadpool(
        check_and_store, engine, body.geometry, body.activity, body.new_construction_land,
        body.temporary, body.profile, body.crs, body.line_width_m,
        who.actor(body.on_behalf_of), body.construction, body.linear, body.project(),
        as_of=body.as_of)
    out = _response(run, request)
    response.headers["Location"] = out.links["self"]
    return out


@dataclass
class HistoryQuery:
    """The history's filters (``GET /api/v1/analysis/siting``)."""

    project_code: Annotated[str | None, Query(max_length=MAX_CODE,
                                              description="Exactly this project code")] = None
    q: Annotated[str | None, Query(max_length=100, description="Words of the project's "
                                   "code, name, applicant or purpose, or a run id")] = None
    verdict: Annotated[Verdict | None, Query()] = None
    date_from: Annotated[date | None, Query(alias="from", description="First day, Beijing "
                                            "time (YYYY-MM-DD)")] = None
    date_to: Annotated[date | None, Query(alias="to", description="Last day, Beijing time")
                       ] = None
    limit: Annotated[int, Query(ge=1, le=500)] = 50
    offset: Annotated[int, Query(ge=0)] = 0

    def filters(self) -> RunFilter:
        return RunFilter(project_code=self.project_code, q=self.q, verdict=self.verdict,
                         date_from=self.date_from, date_to=self.date_to)


@router.get("", summary="The history of checks, newest first (planner)",
            dependencies=[Planner])
async def history(engine: EngineDep, query: Annotated[HistoryQuery, Depends()]) -> RunPage:
    return await run_in_threadpool(list_runs, engine, query.filters(), query.limit,
                                   query.offset)


@router.get("/compare", summary="What changed between two runs (planner)",
            dependencies=[Planner])
async def compare_two(engine: EngineDep, a: Annotated[str, Query(pattern=RUN_ID)],
                      b: Annotated[str, Query(pattern=RUN_ID)]) -> RunComparison:
    return await run_in_threadpool(compare, engine, a, b)


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


@router.post("/{run_id}/rerun", status_code=201, dependencies=[Planner, Expensive],
             summary="Check a stored run's footprint again against the current data (planner)")
async def rerun_siting(run_id: str, request: Request, response: Response, engine: EngineDep,
                       who: PrincipalDep) -> SitingResponse:
    """A new run with the old one's footprint, declarations, profile and project, naming it
    in ``rerun_of``; compare the two with ``GET /compare?a=&b=``."""
    run = await run_in_threadpool(rerun, engine, run_id, who.actor())
    out = _response(run, request)
    response.headers["Location"] = out.links["self"]
    return out


ReportLang = Annotated[Literal["zh", "en"] | None, Query(
    description="The report's language; default: Accept-Language, else Chinese")]


def _lang(request: Request, lang: str | None) -> Lang:
    return "en" if lang == "en" else "zh" if lang == "zh" else lang_of(request.headers)


@router.get("/{run_id}/report.html", response_class=HTMLResponse,
            summary="HTML report (planner)", dependencies=[Planner])
async def report_html(run_id: str, request: Request, engine: EngineDep,
                      lang: ReportLang = None) -> HTMLResponse:
    run, notice, context = await run_in_threadpool(report_inputs, engine, run_id)
    return HTMLResponse(await run_in_threadpool(siting_html, run, notice, _lang(request, lang),
                                                context))


@router.get("/{run_id}/report.pdf", summary="PDF report (planner)", dependencies=[Planner])
async def report_pdf(run_id: str, request: Request, engine: EngineDep,
                     lang: ReportLang = None) -> Response:
    run, notice, context = await run_in_threadpool(report_inputs, engine, run_id)
    pdf = await run_in_threadpool(siting_pdf, run, notice, _lang(request, lang), context)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="siting-{run_id}.pdf"'})
