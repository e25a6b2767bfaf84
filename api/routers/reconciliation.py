"""``/api/v1/reconciliation``: forest/grassland conflict detection, the work list, decisions,
field-check packages, apply and exports (the work-list helpers: ``worklist_routes.py``).
Findings and files show what the caller's role may see (``routes.view``: a forestry key gets
survey patches without their owners, gis.analysis.worklist_policy)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Expensive, Forestry, PrincipalDep
from api.deps import EngineDep
from api.models import Offset, OnBehalfOf
from api.routers import worklist_routes as routes
from api.routers.worklist_routes import DecisionRequest, FileName, StatusRequest, WithHistory
from gis.analysis import forest_grass as fg
from gis.analysis import worklist_ops as ops
from gis.analysis.forest_grass_apply import ApplySummary, apply_decisions
from gis.analysis.worklist_field import ImportSummary

router = APIRouter(prefix="/api/v1/reconciliation", tags=["reconciliation"],
                   dependencies=[Forestry])
DivisionPath = Annotated[str, Field(pattern=r"^\d{6,12}$")]
DivisionQuery = Annotated[str | None, Query(pattern=r"^\d{6,12}$")]


class RunRequest(BaseModel):
    division: DivisionPath
    on_behalf_of: OnBehalfOf = None
    #: Scan the whole division even when only changed parcels' findings need detecting.
    full: bool = False


class FindingPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[fg.Finding]
    #: The latest detection over the division asked for (any division without one): None
    #: means nothing was detected yet, not that nothing was found.
    last_detection: fg.LastDetection | None = None


class FindingDetail(BaseModel):
    finding: fg.Finding
    history: list[fg.Event]


class FindingChange(WithHistory, fg.Finding):
    """A finding as a change left it, with its whole history."""


def list_filters(division: DivisionQuery = None, kind: str | None = None,
                 status: str | None = None, township: str | None = None,
                 village: str | None = None) -> dict[str, Any]:
    """The work list's filters: the same for the page, the summary and the exports."""
    return {"division": division, "kind": kind, "status": status, "township": township,
            "village": village}


Filters = Annotated[dict[str, Any], Depends(list_filters)]


@router.post("/runs", status_code=201, summary="Detect conflicts in a division (a job: POST "
             "/api/v1/jobs kind reconciliation.detect)", dependencies=[Expensive])
async def run(body: RunRequest, engine: EngineDep, who: PrincipalDep) -> fg.DetectionSummary:
    return await run_in_threadpool(fg.detect, engine, body.division, None,
                                   who.actor(body.on_behalf_of), full=body.full)


@router.get("/findings", summary="The work list, filtered and paged")
async def findings(
    engine: EngineDep, filters: Filters, who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
    geometry: bool = False,
) -> FindingPage:
    def page() -> FindingPage:
        total, items = ops.list_items(engine, fg.RECON, filters, limit, offset, geometry)
        return FindingPage(total=total, limit=limit, offset=offset,
                           items=routes.view(fg.RECON, who).items(items),  # type: ignore[arg-type]
                           last_detection=fg.last_detection(engine, filters["division"]))

    return await run_in_threadpool(page)


@router.get("/findings/{finding_id}", summary="One finding with its history")
async def finding(finding_id: int, engine: EngineDep, who: PrincipalDep) -> FindingDetail:
    item, history = await run_in_threadpool(fg.get_finding, engine, finding_id)
    return FindingDetail(finding=routes.view(fg.RECON, who).item(item), history=history)


@router.post("/findings/{finding_id}/decision",
             summary="Record a decision (" + " | ".join(fg.DECISIONS) + "); the answer is "
             "the finding as it is now, with its history")
async def decision(finding_id: int, body: DecisionRequest, engine: EngineDep,
                   who: PrincipalDep) -> FindingChange:
    result = await run_in_threadpool(ops.decide, engine, fg.RECON, finding_id, body.decision,
                                     who.actor(body.on_behalf_of), body.reason, body.version)
    return routes.changed(FindingChange, result, routes.view(fg.RECON, who))


@router.post("/findings/{finding_id}/status",
             summary="Send to field check or reopen; the answer is the finding with its "
             "history")
async def status(finding_id: int, body: StatusRequest, engine: EngineDep,
                 who: PrincipalDep) -> FindingChange:
    result = await run_in_threadpool(ops.set_status, engine, fg.RECON, finding_id, body.status,
                                     who.actor(body.on_behalf_of), body.version, body.reason)
    return routes.changed(FindingChange, result, routes.view(fg.RECON, who))


@router.post("/apply", status_code=201, summary="Apply decisions into a new layer version",
             dependencies=[Expensive])
async def apply(body: RunRequest, engine: EngineDep, who: PrincipalDep) -> ApplySummary:
    return await run_in_threadpool(apply_decisions, engine, body.division,
                                   who.actor(body.on_behalf_of))


@router.get("/summary", summary="Counts and areas by township, village, kind and status")
async def summary(engine: EngineDep, filters: Filters) -> list[ops.SummaryRow]:
    return await run_in_threadpool(ops.summarize, engine, fg.RECON, filters)


def _name(filters: dict[str, Any]) -> str:
    return f"reconciliation-{filters['division'] or 'all'}"


@router.get("/export.{fmt}", summary="The work list as xlsx or GeoPackage, with the list's "
            "filters, in the caller's language", dependencies=[Expensive])
async def export(fmt: str, engine: EngineDep, filters: Filters, request: Request,
                 who: PrincipalDep) -> Response:
    return await routes.export(fg.RECON, engine, fmt, filters, request, _name(filters), who)


@router.get("/field-package.gpkg", summary="The findings in field check, one layer per "
            "township, with the columns surveyors fill in", dependencies=[Expensive])
async def field_package(engine: EngineDep, filters: Filters, request: Request,
                        who: PrincipalDep) -> Response:
    return await routes.field_package(fg.RECON, engine, filters, request,
                                      f"field-package-{filters['division'] or 'all'}", who)


@router.post("/field-results", summary="Import a filled-in field-check package (the file as "
             "the body): every row valid, or nothing imported", dependencies=[Expensive])
async def field_results(request: Request, engine: EngineDep, who: PrincipalDep,
                        filename: FileName, on_behalf_of: str | None = None) -> ImportSummary:
    return await routes.field_import(fg.RECON, engine, request, who, filename, on_behalf_of)
