"""Running jobs: worker threads in the server process, the table as the record.

Each server process has one :class:`JobRunner`. A submitted job is inserted ``queued`` with the
runner's id and handed to the runner's in-memory queue; ``job_workers`` threads claim and run
jobs, and one progress thread writes their progress (at most every ``tick``) and picks up
cancellations asked through other processes.

The runner's id is the key of a PostgreSQL session advisory lock it holds for its lifetime on
a connection of its own. A process that dies (killed, crashed, the machine restarted) loses
its connection and so its lock; the next runner to start marks that runner's ``queued`` and
``running`` jobs failed, retryable, "interrupted by a server restart". Jobs of runners still
alive, such as the other worker processes of the same service, are left alone, which a
time-based heartbeat could not guarantee.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from gis.errors import DatabaseUnavailable, GISError
from gis.identity import Actor
from gis.jobs import store
from gis.jobs.kind import ParamsContext
from gis.jobs.models import Job, JobError
from gis.jobs.progress import JobCancelled, JobInterrupted, JobProgress
from gis.jobs.registry import get_kind, validate_params
from gis.messages import msg
from gis.messages import text as message_text
from gis.settings import Settings

log = logging.getLogger("gis.jobs")

#: How often progress is written and cancellations from other processes are looked for, s.
TICK_SECONDS = 0.5
UNEXPECTED = JobError.of(lambda lang: message_text("error.Internal", lang),
                         msg("job.unexpected").render, retryable=True)


@dataclass
class _Running:
    progress: JobProgress
    #: The progress snapshot version last written to the row.
    written: int = 0


def _details(details: dict[str, Any]) -> dict[str, Any] | None:
    """An error's details as JSON, or None when they cannot be (they are a courtesy)."""
    if not details:
        return None
    try:
        return json.loads(json.dumps(details, default=str, allow_nan=False))
    except ValueError:
        return None


def _refused(exc: GISError) -> JobError:
    """The error of a job whose input the analysis refused, in every language."""
    return JobError.of(exc.title_in, exc.render, retryable=False, details=_details(exc.details))


class JobRunner:
    """Runs this process's jobs; :meth:`start` at server start-up, :meth:`stop` at shutdown."""

    def __init__(self, engine: Engine, settings: Settings, workers: int | None = None,
                 tick: float = TICK_SECONDS) -> None:
        self.engine = engine
        self.workers = workers or settings.api.job_workers
        self.context = ParamsContext(raster_dir=settings.data.raster_dir)
        self.tick = tick
        self.runner_id: int | None = None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._life = threading.Lock()
        self._stopping = threading.Event()
        #: Set once stop() has told every running job to stop.
        self._interrupted = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock_conn: Connection | None = None

    @property
    def started(self) -> bool:
        return self.runner_id is not None

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` has begun and every running job has been told to stop."""
        return self._interrupted.is_set()

    # ------------------------------------------------------------------ life cycle
    def start(self) -> list[str]:
        """Take a runner lock, fail the jobs processes that are gone left behind, start the
        threads. Returns the ids of the jobs marked failed."""
        with self._life:
            if self.started:
                return []
            conn = self.engine.connect()
            try:
                runner_id = self._take_lock(conn)
                orphans = store.fail_orphans(self.engine)
            except BaseException:
                conn.close()
                raise
            self._lock_conn, self.runner_id = conn, runner_id
            self._stopping.clear()
            self._interrupted.clear()
            self._threads = [threading.Thread(target=self._work, name=f"gis-job-{n}",
                                              daemon=True) for n in range(self.workers)]
            self._threads.append(threading.Thread(target=self._watch, name="gis-job-progress",
                                                  daemon=True))
            for thread in self._threads:
                thread.start()
        if orphans:
            log.warning("%d job(s) left queued or running by a previous process marked failed "
                        "(interrupted by a server restart): %s", len(orphans),
                        ", ".join(orphans))
        return orphans

    def start_or_log(self) -> None:
        """:meth:`start`, logging rather than raising when the database cannot be reached
        (the service still starts; job requests answer 503 until the runner can start)."""
        try:
            self.start()
        except Exception:
            log.exception("the job runner could not start; it will try again on the next job "
                          "request")

    def ensure_started(self) -> None:
        """Start if not yet started (the database was down at start-up); a 503 if it still
        cannot."""
        if self.started:
            return
        try:
            self.start()
        except Exception as exc:
            log.exception("the job runner could not start")
            raise DatabaseUnavailable(msg("job.runner_unavailable",
                                          reason=exc.__class__.__name__)) from exc

    @staticmethod
    def _take_lock(conn: Connection) -> int:
        while True:
            candidate = secrets.randbelow(2**31 - 2) + 1
            taken = conn.execute(text(
                "SELECT pg_try_advisory_lock(CAST(:ns AS integer), CAST(:id AS integer))"),
                {"ns": store.LOCK_NAMESPACE, "id": candidate}).scalar_one()
            conn.commit()  # a session lock outlives the transaction; stay idle, not in one
            if taken:
                return candidate

    def stop(self, timeout: float = 30.0) -> None:
        """Interrupt running jobs (they end failed, retryable, at their next progress step;
        their transactions roll back), fail queued ones, release the lock."""
        with self._life:
            if not self.started:
                return
            self._stopping.set()
            with self._lock:
                for entry in self._running.values():
                    entry.progress.interrupt.set()
            self._interrupted.set()
            for _ in range(self.workers):
                self._queue.put(None)
            deadline = time.monotonic() + timeout
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            stuck = [t.name for t in self._threads if t.is_alive()]
            if stuck:
                log.warning("job threads still busy at shutdown: %s; their jobs will be "
                            "marked failed by the next start", ", ".join(stuck))
            try:
                store.fail_queued(self.engine, self.runner_id)
            except Exception:
                log.exception("could not mark this runner's queued jobs failed at shutdown")
            self._release_lock()
            self._threads = []
            self._queue = queue.Queue()
            self.runner_id = None

    def _release_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(CAST(:ns AS integer), "
                              "CAST(:id AS integer))"),
                         {"ns": store.LOCK_NAMESPACE, "id": self.runner_id})
            conn.commit()
        except Exception:
            log.exception("could not release the job runner's lock (closing its connection "
                          "releases it)")
        finally:
            conn.close()

    # ------------------------------------------------------------------ requests
    def enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> None:
        """Stop a job running in this process at its next progress step (the row's
        ``cancel_requested`` reaches jobs in other processes within a tick)."""
        with self._lock:
            entry = self._running.get(job_id)
        if entry is not None:
            entry.progress.cancel.set()

    # ------------------------------------------------------------------ threads
    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            if self._stopping.is_set():
                continue  # left queued: stop() fails it
            try:
                self._run(job_id)
            except Exception:
                log.exception("job %s: its outcome could not be recorded; the next start "
                              "marks it failed", job_id)

    def _run(self, job_id: str) -> None:
        job = store.claim(self.engine, job_id, self.runner_id)
        if job is None:
            return  # cancelled while queued
        progress = JobProgress()
        with self._lock:
            self._running[job_id] = _Running(progress)
        if job.cancel_requested:
            progress.cancel.set()
        if self._stopping.is_set():
            progress.interrupt.set()
        started = time.monotonic()
        try:
            status, result, error = self._execute(job, progress)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
        if not store.finish(self.engine, job_id, status, progress.snapshot(), result, error):
            log.warning("job %s was no longer running when it ended %s", job_id, status)
        log.info("job %s (%s) %s after %.1f s", job_id, job.kind, status,
                 time.monotonic() - started,
                 extra={"job_id": job_id, "job_kind": job.kind, "job_status": status})

    def _execute(self, job: Job, progress: JobProgress
                 ) -> tuple[str, dict[str, Any] | None, JobError | None]:
        try:
            kind = get_kind(job.kind)
            params = validate_params(kind, job.params, self.context)
            actor = Actor(job.actor, job.owner_key, job.on_behalf_of)
            result = kind.run(self.engine, params, actor, progress)
            if not isinstance(result, dict):
                raise TypeError(f"{job.kind} returned {type(result).__name__}, not a dict")
            json.dumps(result, allow_nan=False)  # NaN or a non-JSON value: a bug, not a result
            return "succeeded", result, None
        except JobCancelled:
            return "cancelled", None, None
        except JobInterrupted:
            return "failed", None, store.INTERRUPTED
        except GISError as exc:
            return "failed", None, _refused(exc)
        except Exception:
            log.exception("job %s (%s) failed unexpectedly", job.id, job.kind,
                          extra={"job_id": job.id, "job_kind": job.kind})
            return "failed", None, UNEXPECTED

    def _watch(self) -> None:
        while not self._stopping.wait(self.tick):
            try:
                self._sync()
            except Exception:
                log.exception("could not record job progress")

    def _sync(self) -> None:
        """Write the progress that changed; pass on cancellations asked elsewhere."""
        with self._lock:
            entries = list(self._running.items())
        if not entries:
            return
        changed = [(job_id, entry, entry.progress.snapshot()) for job_id, entry in entries]
        changed = [c for c in changed if c[2].version != c[1].written]
        with self.engine.begin() as conn:
            store.write_progress(conn, [(job_id, snap) for job_id, _, snap in changed])
            cancelled = store.cancel_requested(conn, [job_id for job_id, _ in entries])
        for _, entry, snap in changed:
            entry.written = snap.version
        for job_id, entry in entries:
            if job_id in cancelled:
                entry.progress.cancel.set()
