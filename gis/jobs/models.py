"""What a job looks like to its caller (the API's response model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, PrivateAttr

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
#: A job that failed or was cancelled may be retried (as a new job).
RETRYABLE: frozenset[str] = frozenset({"failed", "cancelled"})


class JobProgressInfo(BaseModel):
    stage: str | None
    done: int
    total: int | None


class JobError(BaseModel):
    title: str
    message: str
    #: A hint: the same job may succeed when retried (a restart, an unexpected error), as
    #: opposed to an input the analysis refused. Any failed job may be retried.
    retryable: bool
    details: dict[str, Any] | None = None


class Job(BaseModel):
    id: str
    kind: str
    status: Status
    #: The owner: the API key's holder (or ``cli:<user>``) who started it; a retry keeps it.
    actor: str
    on_behalf_of: str | None
    #: Who created this row: the owner, or whoever asked for the retry.
    submitted_by: str
    progress: JobProgressInfo
    #: Left out (null) in listings; GET the job for them.
    params: dict[str, Any] | None
    result: dict[str, Any] | None
    error: JobError | None
    cancel_requested: bool
    cancelled_by: str | None
    attempt: int
    retry_of: str | None
    #: The job that retried this one, if any (a job is retried at most once).
    retried_as: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    _owner_key: str | None = PrivateAttr(default=None)

    @property
    def owner_key(self) -> str | None:
        """The owner's API key id (None for jobs started by a local process)."""
        return self._owner_key

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
