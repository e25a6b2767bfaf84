"""Background jobs: long analyses run outside the request that asked for them.

A job is a row of the ``jobs`` table (migration 0010): its kind, validated params, owner
(the authenticated actor), status, progress, result or error. :mod:`gis.jobs.registry` lists
the kinds (``reconciliation.detect``, ``monitoring.run``, ``siting.batch``), each with a
params model, the roles that may start it and the function that runs it;
:class:`gis.jobs.runner.JobRunner` runs them in worker threads of the server process;
:mod:`gis.jobs.service` is what the API calls. No HTTP in here.
"""

from __future__ import annotations

from gis.jobs.models import Job, JobError, JobProgressInfo
from gis.jobs.registry import KINDS, get_kind
from gis.jobs.runner import JobRunner
from gis.jobs.service import (
    cancel_job,
    get_job,
    list_jobs,
    retry_job,
    spreadsheet,
    start_job,
)

__all__ = ["KINDS", "Job", "JobError", "JobProgressInfo", "JobRunner", "cancel_job",
           "get_job", "get_kind", "list_jobs", "retry_job", "spreadsheet", "start_job"]
