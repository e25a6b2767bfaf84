"""``/api/v1/reconciliation``: forest/grassland conflict detection, the work list, decisions,
apply and exports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Expensive, Forestry, PrincipalDep
from api.deps import EngineDep
from api.models import OnBehalfOf
from gis.analysis import forest_grass as fg
from gis.analysis.forest_grass_apply import ApplySummary, apply_decisions
from gis.errors import InputError
from gis.messages import Named, msg

router = APIRouter(prefix="/api/v1/reconciliation", tags=["reconciliation"],
                   dependencies=[Forestry])
DivisionPath = Annotated[str, Field(pattern=r"^\d{6,12}$")]


class RunRequest(BaseModel):
    division: DivisionPath
    on_behalf_of: OnBehalfOf = None


class DecisionRequest(BaseModel):
    decision: str = Field(description=" | ".join(fg.DECISIONS))
    on_behalf_of: OnBehalfOf = None
    reason: str = Field(min_length=1)
    version: int = Field(description="The version you decided on (from the finding)")


class StatusRequest(BaseModel):
    status: str = Field(description="open | field_check")
    on_behalf_of: OnBehalfOf = None
    reason: str | None = None
    version: int


class FindingPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[fg.Finding]


class FindingDetail(BaseModel):
    finding: fg.Finding
    history: list[fg.Event]


@router.post("/runs", status_code=201, summary="Detect conflicts in a division",
             dependencies=[Expensive])
async def run(body: RunRequest, engine: EngineDep, who: PrincipalDep) -> fg.DetectionSummary:
    return await run_in_threadpool(fg.detect, engine, body.division, None,
                                   who.actor(body.on_behalf_of))


@router.get("/findings", summary="The work list, filtered and paged")
async def findings(
    engine: EngineDep,
    division: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
    kind: str | None = None, status: str | None = None, township: str | None = None,
    village: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    geometry: bool = False,
) -> FindingPage:
    total, items = await run_in_threadpool(
        fg.list_findings, engine, division, kind, status, township, village, limit, offset,
        geometry)
    return FindingPage(total=total, limit=limit, offset=offset, items=items)


@router.get("/findings/{finding_id}", summary="One finding with its history")
async def finding(finding_id: int, engine: EngineDep) -> FindingDetail:
    item, history = await run_in_threadpool(fg.get_finding, engine, finding_id)
    return FindingDetail(finding=item, history=history)


@router.post("/findings/{finding_id}/decision", summary="Record a decision")
async def decision(finding_id: int, body: DecisionRequest, engine: EngineDep,
                   who: PrincipalDep) -> fg.Finding:
    return await run_in_threadpool(fg.decide, engine, finding_id, body.decision,
                                   who.actor(body.on_behalf_of), body.reason, body.version)


@router.post("/findings/{finding_id}/status", summary="Send to field check or reopen")
async def status(finding_id: int, body: StatusRequest, engine: EngineDep,
                 who: PrincipalDep) -> fg.Finding:
    return await run_in_threadpool(fg.set_status, engine, finding_id, body.status,
                                   who.actor(body.on_behalf_of), body.version, body.reason)


@router.post("/apply", status_code=201, summary="Apply decisions into a new layer version",
             dependencies=[Expensive])
async def apply(body: RunRequest, engine: EngineDep, who: PrincipalDep) -> ApplySummary:
    return await run_in_threadpool(apply_decisions, engine, body.division,
                                   who.actor(body.on_behalf_of))


@router.get("/summary", summary="Counts and areas by township, village, kind and status")
async def summary(engine: EngineDep,
                  division: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None
                  ) -> list[fg.SummaryRow]:
    return await run_in_threadpool(fg.summarize, engine, division)


_MEDIA: dict[str, Any] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}


@router.get("/export.{fmt}", summary="The work list as xlsx or GeoPackage",
            dependencies=[Expensive])
async def export(fmt: str, engine: EngineDep,
                 division: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None
                 ) -> Response:
    if fmt not in _MEDIA:
        formats = Named("、".join(sorted(_MEDIA)), str(sorted(_MEDIA)))
        raise InputError(msg("recon.export_formats", formats=formats, fmt=fmt))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"worklist.{fmt}"
        await run_in_threadpool(fg.export_findings, engine, str(path), division)
        data = path.read_bytes()
    return Response(data, media_type=_MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="reconciliation-{division or "all"}.{fmt}"'})
