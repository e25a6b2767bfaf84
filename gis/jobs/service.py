"""What a caller may do with jobs: start, list, read, cancel, retry, download.

Who is asking comes from authentication (:class:`gis.auth.Principal`), never from the request:
the job's owner is the key's holder, and a job is visible to the holder of the key that owns
it and to admins only. To anyone else it does not exist (404, not 403), so job ids do not leak.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine

from gis.auth import Principal
from gis.db.records import JOB_STATUSES
from gis.errors import Conflict, Forbidden, InputError, NotFound, Unauthorized
from gis.identity import Actor
from gis.jobs import store
from gis.jobs.kind import JobKind
from gis.jobs.models import FINISHED, RETRYABLE, Job
from gis.jobs.registry import KINDS, get_kind, validate_params
from gis.jobs.runner import JobRunner
from gis.messages import Code, Codes, msg

_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PAGE = 1000


def _caller(principal: Principal) -> None:
    if principal.anonymous:
        raise Unauthorized(msg("job.needs_key"))


def _require_role(kind: JobKind, principal: Principal) -> None:
    if not kind.may_start(principal.role):
        roles = sorted(kind.roles | {"admin"})
        needs = Codes.of("role", roles, english=" or ".join(roles), sep="或")
        raise Forbidden(msg("job.role_may_not_start", role=Code("role", principal.role),
                            kind=Code("job_kind", kind.name), needs=needs))


def visible(job: Job, principal: Principal) -> bool:
    if principal.role == "admin":
        return True
    return job.owner_key is not None and job.owner_key == principal.key_id


def _not_found(job_id: str) -> NotFound:
    return NotFound(msg("job.not_found", job=job_id))


def start_job(runner: JobRunner, principal: Principal, kind_name: str, params: object,
              on_behalf_of: str | None = None) -> Job:
    """Validate and queue a job: 401 without a key, 422 for an unknown kind or bad params
    (nothing stored), 403 for a role the kind does not admit."""
    actor = principal.actor(on_behalf_of)
    kind = get_kind(kind_name)
    _require_role(kind, principal)
    model = validate_params(kind, params, runner.context)
    if kind.precheck is not None:
        kind.precheck(runner.engine, model)
    runner.ensure_started()
    with runner.engine.begin() as conn:
        job_id = store.insert(conn, kind=kind.name, params=model.model_dump(mode="json"),
                              owner=actor, submitter=actor, runner=runner.runner_id)
    runner.enqueue(job_id)
    return get_job(runner.engine, principal, job_id)


def get_job(engine: Engine, principal: Principal, job_id: str) -> Job:
    _caller(principal)
    if not _ID.match(job_id):
        raise _not_found(job_id)
    with engine.connect() as conn:
        job = store.get(conn, job_id)
    if job is None or not visible(job, principal):
        raise _not_found(job_id)
    return job


def list_jobs(engine: Engine, principal: Principal, limit: int = 50, offset: int = 0,
              status: str | None = None, kind: str | None = None) -> tuple[int, list[Job]]:
    """The caller's own jobs (an admin's: everyone's), newest first."""
    _caller(principal)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InputError(msg("worklist.bad_page", max=MAX_PAGE))
    if status is not None and status not in JOB_STATUSES:
        raise InputError(msg("job.bad_status_filter", status=status, statuses=Codes.of(
            "job_status", JOB_STATUSES, with_code=True)))
    if kind is not None and kind not in KINDS:
        raise InputError(msg("job.bad_kind_filter", kind=kind, kinds=Codes.of(
            "job_kind", sorted(KINDS), with_code=True)))
    return store.page(engine, principal.key_id, principal.role == "admin", limit, offset,
                      status, kind)


def cancel_job(runner: JobRunner, principal: Principal, job_id: str) -> Job:
    """A queued job is cancelled at once; a running one stops at its next progress step
    (its transaction rolls back) and ends ``cancelled``, unless it finishes first.
    Cancelling a cancelled job changes nothing; a finished one is a 409."""
    actor = principal.actor()
    job = get_job(runner.engine, principal, job_id)
    with runner.engine.begin() as conn:
        status = store.request_cancel(conn, job.id, actor)
    if status is None:
        job = get_job(runner.engine, principal, job_id)
        if job.status == "cancelled":
            return job
        raise Conflict(msg("job.already_ended", job=job_id,
                           status=Code("job_status", job.status)), status=job.status)
    runner.cancel(job.id)
    return get_job(runner.engine, principal, job_id)


def retry_job(runner: JobRunner, principal: Principal, job_id: str) -> Job:
    """A new job with the same kind, params and owner (``retry_of`` the old one,
    ``attempt`` + 1). Only failed or cancelled jobs, each at most once (retry the newest)."""
    actor = principal.actor()
    get_job(runner.engine, principal, job_id)  # 404 before anything else
    with runner.engine.begin() as conn:
        job = store.get(conn, job_id, for_update=True)  # concurrent retries queue up here
        if job is None:
            raise _not_found(job_id)
        if job.status not in RETRYABLE:
            raise Conflict(msg("job.not_retryable", job=job_id,
                               status=Code("job_status", job.status)), status=job.status)
        if job.retried_as is not None:
            raise Conflict(msg("job.already_retried", job=job_id, retried_as=job.retried_as),
                           retried_as=job.retried_as)
        kind = get_kind(job.kind)
        _require_role(kind, principal)
        model = validate_params(kind, job.params, runner.context)  # settings may have changed
        if kind.precheck is not None:
            kind.precheck(runner.engine, model)
        runner.ensure_started()
        owner = Actor(job.actor, job.owner_key, job.on_behalf_of)
        new_id = store.insert(conn, kind=job.kind, params=job.params or {}, owner=owner,
                              submitter=actor, runner=runner.runner_id, retry_of=job.id,
                              attempt=job.attempt + 1)
    runner.enqueue(new_id)
    return get_job(runner.engine, principal, new_id)


def spreadsheet(engine: Engine, principal: Principal, job_id: str) -> tuple[str, bytes]:
    """The result as xlsx (file name, bytes), for kinds whose result is a table."""
    job = get_job(engine, principal, job_id)
    kind = get_kind(job.kind)
    if kind.spreadsheet is None:
        raise NotFound(msg("job.no_spreadsheet", kind=Code("job_kind", kind.name)))
    if job.status != "succeeded" or job.result is None:
        key = "job.spreadsheet_ended" if job.status in FINISHED else "job.spreadsheet_pending"
        raise Conflict(msg(key, job=job_id, status=Code("job_status", job.status)),
                       status=job.status)
    return f"{kind.name.replace('.', '-')}-{job.id}.xlsx", kind.spreadsheet(job.result)
