"""The ``jobs`` table: every read and write of a job's row, and nothing else.

Status changes are conditional updates (``WHERE status = 'queued'`` to claim, ``'running'`` to
finish), so a job cancelled while queued is never started, a job marked failed by a restart
is never overwritten by a late finish, and two processes never run one job.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from gis.db.records import jobs
from gis.identity import Actor
from gis.jobs.models import Job, JobError, JobProgressInfo
from gis.jobs.progress import Snapshot
from gis.messages import msg, text

#: The namespace (first key) of the runners' advisory locks: 'JOBS' in ASCII.
LOCK_NAMESPACE = 0x4A4F4253

_retry = jobs.alias("retry")
_retried_as = (sa.select(_retry.c.id).where(_retry.c.retry_of == jobs.c.id)
               .correlate(jobs).scalar_subquery().label("retried_as"))
_LIGHT = [c for c in jobs.c if c.name not in ("params", "result")]


def _job(row: Any, full: bool = True) -> Job:
    m = row._mapping
    job = Job(
        id=m["id"], kind=m["kind"], status=m["status"], actor=m["actor"],
        on_behalf_of=m["on_behalf_of"], submitted_by=m["submitted_by"],
        progress=JobProgressInfo(stage=m["stage"], done=m["done"], total=m["total"]),
        params=m["params"] if full else None, result=m["result"] if full else None,
        error=JobError(**m["error"]) if m["error"] else None,
        cancel_requested=m["cancel_requested"], cancelled_by=m["cancelled_by"],
        attempt=m["attempt"], retry_of=m["retry_of"], retried_as=m["retried_as"],
        created_at=m["created_at"], started_at=m["started_at"],
        finished_at=m["finished_at"], updated_at=m["updated_at"])
    job._owner_key = m["actor_key"]
    return job


def new_id() -> str:
    return uuid.uuid4().hex


def insert(conn: Connection, *, kind: str, params: dict[str, Any], owner: Actor,
           submitter: Actor, runner: int, retry_of: str | None = None,
           attempt: int = 1) -> str:
    job_id = new_id()
    conn.execute(jobs.insert().values(
        id=job_id, kind=kind, params=params, actor=owner.name, actor_key=owner.key_id,
        on_behalf_of=owner.on_behalf_of, submitted_by=submitter.name,
        submitted_by_key=submitter.key_id, runner=runner, retry_of=retry_of, attempt=attempt))
    return job_id


def get(conn: Connection, job_id: str, *, for_update: bool = False) -> Job | None:
    query = sa.select(*jobs.c, _retried_as).where(jobs.c.id == job_id)
    if for_update:
        query = query.with_for_update(of=jobs)
    row = conn.execute(query).first()
    return _job(row) if row else None


def page(engine: Engine, owner_key: str | None, everyone: bool, limit: int, offset: int,
         status: str | None = None, kind: str | None = None) -> tuple[int, list[Job]]:
    """Newest first, without params and results (they can be large). ``everyone`` lists all
    owners' jobs (admins); else only those whose owner's key is ``owner_key``."""
    conditions = []
    if not everyone:
        conditions.append(jobs.c.actor_key == owner_key if owner_key else sa.false())
    if status is not None:
        conditions.append(jobs.c.status == status)
    if kind is not None:
        conditions.append(jobs.c.kind == kind)
    where = sa.and_(sa.true(), *conditions)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(where)
                             ).scalar_one()
        rows = conn.execute(sa.select(*_LIGHT, _retried_as).where(where)
                            .order_by(jobs.c.created_at.desc(), jobs.c.id)
                            .limit(limit).offset(offset)).all()
    return total, [_job(r, full=False) for r in rows]


def claim(engine: Engine, job_id: str, runner: int) -> Job | None:
    """Mark a queued job of this runner running; None if it is no longer queued (cancelled
    meanwhile, or failed by a restart)."""
    with engine.begin() as conn:
        done = conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status == "queued", jobs.c.runner == runner)
            .values(status="running", started_at=sa.func.now(), updated_at=sa.func.now())
        ).rowcount
        return get(conn, job_id) if done else None


def write_progress(conn: Connection, updates: Iterable[tuple[str, Snapshot]]) -> None:
    for job_id, snap in updates:
        conn.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.status == "running")
            .values(stage=snap.stage, done=snap.done, total=snap.total,
                    updated_at=sa.func.now()))


def cancel_requested(conn: Connection, job_ids: list[str]) -> set[str]:
    """Which of these jobs someone asked to cancel (through any process)."""
    if not job_ids:
        return set()
    return set(conn.execute(sa.select(jobs.c.id).where(
        jobs.c.id.in_(job_ids), jobs.c.cancel_requested)).scalars())


def finish(engine: Engine, job_id: str, status: str, snap: Snapshot,
           result: dict[str, Any] | None = None, error: JobError | None = None) -> bool:
    """End a running job; False if it was no longer running (a restart failed it)."""
    with engine.begin() as conn:
        return bool(conn.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.status == "running")
            .values(status=status, stage=snap.stage, done=snap.done, total=snap.total,
                    result=_json(result), error=_json(error.stored() if error else None),
                    finished_at=sa.func.now(), updated_at=sa.func.now())).rowcount)


def _json(value: dict[str, Any] | None) -> Any:
    """A JSON document for a jsonb column: NULL stays SQL NULL (not JSON null), and anything
    json cannot represent exactly (NaN) fails here rather than in the database."""
    if value is None:
        return sa.null()
    json.dumps(value, allow_nan=False)
    return value


def request_cancel(conn: Connection, job_id: str, by: Actor) -> str | None:
    """Ask an active job to stop: a queued one is cancelled at once, a running one when it
    next reports progress. The new status, or None if the job had already finished."""
    queued = jobs.c.status == "queued"
    return conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status.in_(("queued", "running")))
        .values(cancel_requested=True, cancelled_by=by.name, cancelled_by_key=by.key_id,
                status=sa.case((queued, "cancelled"), else_=jobs.c.status),
                finished_at=sa.case((queued, sa.func.now()), else_=jobs.c.finished_at),
                updated_at=sa.func.now())
        .returning(jobs.c.status)).scalar_one_or_none()


INTERRUPTED = JobError.of(lambda lang: text("job.title.interrupted", lang),
                          msg("job.interrupted").render, retryable=True)

_RUNNER_GONE = sa.text(
    "NOT EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = CAST(:namespace AS bigint)::oid AND l.objid = jobs.runner::oid "
    "AND l.objsubid = 2)").bindparams(namespace=LOCK_NAMESPACE)


def fail_orphans(engine: Engine) -> list[str]:
    """Mark failed (retryable) the jobs left queued or running by processes that are gone:
    those whose runner no longer holds its advisory lock. Jobs of live runners (other
    worker processes of the same service) are left alone."""
    with engine.begin() as conn:
        return list(conn.execute(
            jobs.update()
            .where(jobs.c.status.in_(("queued", "running")),
                   sa.or_(jobs.c.runner.is_(None), _RUNNER_GONE))
            .values(status="failed", error=INTERRUPTED.stored(),
                    finished_at=sa.func.now(), updated_at=sa.func.now())
            .returning(jobs.c.id)).scalars())


def fail_queued(engine: Engine, runner: int) -> list[str]:
    """At shutdown: this runner's jobs that never started fail, retryable."""
    with engine.begin() as conn:
        return list(conn.execute(
            jobs.update()
            .where(jobs.c.status == "queued", jobs.c.runner == runner)
            .values(status="failed", error=INTERRUPTED.stored(),
                    finished_at=sa.func.now(), updated_at=sa.func.now())
            .returning(jobs.c.id)).scalars())
