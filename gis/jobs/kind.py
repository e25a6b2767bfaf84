"""What a job kind is: its parameters, who may start it, and the function that runs it.

Kinds are data, registered in :mod:`gis.jobs.registry`, so the API needs no code per kind:
it validates the parameters with the kind's pydantic model (before anything is stored), checks
the caller's role against the kind's roles, and the runner calls ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationInfo
from sqlalchemy import Engine

from gis.errors import GISError
from gis.identity import Actor
from gis.messages import Message
from gis.progress import Progress

#: ``run(engine, params, actor, progress)`` -> the job's result, JSON-serialisable. It must
#: write in one transaction and report progress only before or inside it: a progress call
#: raises when the job is cancelled, and after a commit that would report ``cancelled`` for
#: work that was done.
RunFunction = Callable[[Engine, Any, Actor, Progress], dict[str, Any]]
#: ``precheck(engine, params)``: checks that need the database (a division that exists),
#: made at submission so a job that cannot run is refused rather than stored.
Precheck = Callable[[Engine, Any], None]
#: ``spreadsheet(result)`` -> xlsx bytes, for kinds whose result is a table.
Spreadsheet = Callable[[dict[str, Any]], bytes]


class ParamsError(ValueError):
    """What a params model's validator raises: pydantic reports a ValueError as the field's
    error, and :func:`gis.jobs.registry.validate_params` shows the catalogue ``message`` in
    the reader's language (pydantic's own words, "Value error, ...", stay the English)."""

    def __init__(self, message: Message | str) -> None:
        super().__init__(str(message))
        self.message = message

    @classmethod
    def of(cls, exc: GISError) -> ParamsError:
        """A library error (an unknown profile, a CRS) as a params error."""
        return cls(exc.catalogued or exc.message)


@dataclass(frozen=True)
class ParamsContext:
    """What parameter validation may need from the server's settings (passed to pydantic as
    its validation context)."""

    raster_dir: Path | None = None


def params_context(info: ValidationInfo) -> ParamsContext:
    """The context a kind's validator was called with (the default one when validated
    without, e.g. in a notebook)."""
    context = info.context
    if isinstance(context, ParamsContext):
        return context
    return ParamsContext()


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    params: type[BaseModel]
    #: Roles that may start it besides ``admin``, who may start every kind.
    roles: frozenset[str]
    run: RunFunction
    precheck: Precheck | None = None
    spreadsheet: Spreadsheet | None = None

    def may_start(self, role: str) -> bool:
        return role == "admin" or role in self.roles
