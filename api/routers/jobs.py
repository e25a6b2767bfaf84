"""``/api/v1/jobs``: background jobs (start, poll, cancel, retry, download).

Long analyses (reconciliation detection, monitoring runs, batch siting) run as jobs so that
no request waits minutes: ``POST`` answers 202 with the job and its ``Location`` at once, the
client polls ``GET /api/v1/jobs/{id}``. The synchronous endpoints stay for short work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Expensive, PrincipalDep
from api.deps import EngineDep
from api.errors import lang_of
from api.models import OnBehalfOf
from gis import jobs
from gis.jobs.runner import JobRunner

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class JobRequest(BaseModel):
    """Who owns the job comes from the API key; no field here can name anyone else."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description=" | ".join(jobs.KINDS))
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="The kind's parameters (see the guide)")
    on_behalf_of: OnBehalfOf = None


class JobPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[jobs.Job]


def _runner(request: Request) -> JobRunner:
    return request.app.state.job_runner


def _location(job: jobs.Job) -> str:
    return f"{router.prefix}/{job.id}"


def _shown(job: jobs.Job, request: Request) -> jobs.Job:
    """The job in the caller's language (``Accept-Language``): a failed job's error is
    stored in every language."""
    return job.in_language(lang_of(request.headers))


@router.post("", status_code=202, dependencies=[Expensive],
             summary="Start a job (the kind's roles: reconciliation.detect forestry, "
             "monitoring.run planner or forestry, siting.batch planner; admin all)")
async def start(body: JobRequest, request: Request, response: Response,
                who: PrincipalDep) -> jobs.Job:
    job = await run_in_threadpool(jobs.start_job, _runner(request), who, body.kind,
                                  body.params, body.on_behalf_of)
    response.headers["Location"] = _location(job)
    return _shown(job, request)


@router.get("", summary="Your jobs, newest first (an admin's: everyone's), without params "
            "and results")
async def listing(
    engine: EngineDep, who: PrincipalDep, request: Request,
    status: str | None = None, kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobPage:
    total, items = await run_in_threadpool(jobs.list_jobs, engine, who, limit, offset, status,
                                           kind)
    return JobPage(total=total, limit=limit, offset=offset,
                   items=[_shown(job, request) for job in items])


@router.get("/{job_id}", summary="One job: status, progress, result or error (its owner's "
            "key or admin; 404 otherwise)")
async def detail(job_id: str, engine: EngineDep, who: PrincipalDep,
                 request: Request) -> jobs.Job:
    return _shown(await run_in_threadpool(jobs.get_job, engine, who, job_id), request)


@router.post("/{job_id}/cancel", summary="Cancel a queued job, or ask a running one to stop "
             "(202 until it has)")
async def cancel(job_id: str, request: Request, response: Response,
                 who: PrincipalDep) -> jobs.Job:
    job = await run_in_threadpool(jobs.cancel_job, _runner(request), who, job_id)
    response.status_code = 200 if job.finished else 202
    return _shown(job, request)


@router.post("/{job_id}/retry", status_code=202, dependencies=[Expensive],
             summary="Run a failed or cancelled job again as a new job (same kind, params "
             "and owner)")
async def retry(job_id: str, request: Request, response: Response,
                who: PrincipalDep) -> jobs.Job:
    job = await run_in_threadpool(jobs.retry_job, _runner(request), who, job_id)
    response.headers["Location"] = _location(job)
    return _shown(job, request)


@router.get("/{job_id}/result.xlsx", dependencies=[Expensive],
            response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="A siting.batch job's result table as a spreadsheet")
async def result_xlsx(job_id: str, engine: EngineDep, who: PrincipalDep) -> Response:
    name, data = await run_in_threadpool(jobs.spreadsheet, engine, who, job_id)
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
