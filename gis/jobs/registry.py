"""The job kinds this service runs, and parameter validation against them.

Adding a kind is one module with a params model, the roles and a run function, and one line
here; the API, the runner and the table need nothing new.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from gis.errors import InputError
from gis.jobs import detect_job, monitoring_job, siting_job
from gis.jobs.kind import JobKind, ParamsContext

KINDS: dict[str, JobKind] = {k.name: k for k in (
    detect_job.KIND,
    monitoring_job.KIND,
    siting_job.KIND,
)}


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError(f"unknown job kind {name!r}; the kinds are "
                         f"{', '.join(sorted(KINDS))}") from None


def validate_params(kind: JobKind, params: Any, context: ParamsContext) -> BaseModel:
    """``params`` as the kind's model, or an InputError listing what is wrong (422). Checks
    that need the server's settings (the raster directory) get them through ``context``."""
    if not isinstance(params, dict):
        raise InputError(f"the params of a {kind.name} job must be a JSON object")
    try:
        return kind.params.model_validate(params, context=context)
    except ValidationError as exc:
        errors = [{"loc": ["params", *e["loc"]], "msg": e["msg"]}
                  for e in exc.errors(include_url=False, include_input=False)]
        raise InputError(f"the params of a {kind.name} job are not valid: "
                         f"{errors[0]['msg']}", errors=errors) from None
