"""What a job looks like to its caller (the API's response model).

A failed job's error is stored with its title and message rendered in every language
(``JobError.texts``), not as a catalogue key and parameters: parameters can be localized
objects that JSON cannot hold, and a stored error should read as it did when the job failed
even after the catalogue's wording changes. The API answers in the caller's language
(:meth:`Job.in_language`); ``title`` and ``message`` as stored are the English (logs, and
rows written before errors were stored in both languages, which are shown as they are).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from gis.messages import LANGS, Lang

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
    #: ``{"zh": {"title": ..., "message": ...}, "en": {...}}``: stored with the job, not
    #: shown (the API shows ``title`` and ``message`` in the caller's language instead).
    texts: dict[str, dict[str, str]] | None = Field(default=None, exclude=True)

    @classmethod
    def of(cls, title: Callable[[Lang], str], message: Callable[[Lang], str], retryable: bool,
           details: dict[str, Any] | None = None) -> JobError:
        """An error whose ``title(lang)`` and ``message(lang)`` (a catalogue message's
        ``render``, a GISError's) are rendered in every language."""
        texts = {lang: {"title": title(lang), "message": message(lang)} for lang in LANGS}
        return cls(title=texts["en"]["title"], message=texts["en"]["message"],
                   retryable=retryable, details=details, texts=texts)

    def stored(self) -> dict[str, Any]:
        """The error as the job's row keeps it (with ``texts``)."""
        return {**self.model_dump(), "texts": self.texts}

    def in_language(self, lang: Lang) -> JobError:
        """The error as a reader of ``lang`` sees it (as stored when it has no texts)."""
        shown = (self.texts or {}).get(lang)
        if not shown:
            return self
        return self.model_copy(update={"title": shown["title"], "message": shown["message"]})


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

    def in_language(self, lang: Lang) -> Job:
        """The job as a reader of ``lang`` sees it: its error in that language. (A progress
        stage is stored in the default language only, as the job showed it.)"""
        if self.error is None:
            return self
        job = self.model_copy(update={"error": self.error.in_language(lang)})
        job._owner_key = self._owner_key
        return job
