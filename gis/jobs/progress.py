"""A job's progress, and how a running job learns it should stop.

The analyses report through :class:`gis.progress.Progress`; :class:`JobProgress` implements it
for a job by recording the stage and counts in memory only. The runner's progress thread
writes what changed to the job's row at most every tick (0.5 s), so an analysis never waits
on the database to report a step and a row is never written hundreds of times a second.

Stopping is cooperative: the next ``stage``/``advance`` call after a cancellation (or the
server shutting down) raises. The exceptions derive from ``BaseException``, like
``KeyboardInterrupt``, so that analysis code catching ``Exception`` (or ``GISError``, which
the batch siting check does per footprint) cannot swallow them; the ``with
engine.begin()`` around an analysis's writes rolls back on them, so a stopped job leaves the
database as it was.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gis.messages import DEFAULT_LANG, Message

#: Longest stage description kept (the analyses' are one line).
MAX_STAGE = 300


class JobCancelled(BaseException):
    """The job's owner (or an admin) cancelled it."""


class JobInterrupted(BaseException):
    """The server is shutting down; the job ends failed and retryable."""


@dataclass(frozen=True)
class Snapshot:
    stage: str | None
    done: int
    total: int | None
    #: Grows with every change, so the writer knows what it has already written.
    version: int


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"progress {what} must be a whole number >= 0, not {value!r}")
    return value


class JobProgress:
    """:class:`gis.progress.Progress` for one job (thread-safe: the runner's progress thread
    reads it while the analysis advances it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._done = 0
        self._total: int | None = None
        self._version = 0
        self.cancel = threading.Event()
        self.interrupt = threading.Event()

    def check(self) -> None:
        """Raise if the job should stop (called on every report)."""
        if self.interrupt.is_set():
            raise JobInterrupted
        if self.cancel.is_set():
            raise JobCancelled

    def stage(self, description: str | Message, total: int | None = None) -> None:
        self.check()
        total = None if total is None else _count(total, "total")
        # The job's row keeps one text: a catalogue message is stored in the default language.
        shown = description.render(DEFAULT_LANG) if isinstance(description, Message) else str(
            description)
        with self._lock:
            self._stage = shown[:MAX_STAGE]
            self._done = 0
            self._total = total
            self._version += 1

    def advance(self, steps: int = 1) -> None:
        self.check()
        steps = _count(steps, "steps")
        with self._lock:
            self._done += steps
            self._version += 1

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._stage, self._done, self._total, self._version)
