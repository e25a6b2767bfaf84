"""The job kinds this service runs, and parameter validation against them.

Adding a kind is one module with a params model, the roles and a run function, and one line
here; the API, the runner and the table need nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from gis.errors import InputError
from gis.jobs import detect_job, monitoring_job, siting_job
from gis.jobs.kind import JobKind, ParamsContext, ParamsError
from gis.messages import Code, Codes, Foreign, Message, msg, validation_message

KINDS: dict[str, JobKind] = {k.name: k for k in (
    detect_job.KIND,
    monitoring_job.KIND,
    siting_job.KIND,
)}


def get_kind(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise InputError(msg("job.unknown_kind", kind=name,
                             kinds=Codes.of("job_kind", sorted(KINDS), with_code=True))
                         ) from None


def _problem(error: Mapping[str, Any]) -> Message:
    """One pydantic error in the catalogue's words, as the API explains request fields."""
    field = ".".join(str(part) for part in error.get("loc", ())) or "params"
    return msg("job.params_field", field=field, problem=validation_message(error))


def _reason(error: Mapping[str, Any]) -> Foreign:
    """Why the params were refused: pydantic's words in English (as they always were), the
    validator's catalogue message or the field's problem in Chinese."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ParamsError) and isinstance(cause.message, Message):
        return Foreign(error["msg"], cause.message)
    return Foreign(error["msg"], _problem(error))


def validate_params(kind: JobKind, params: Any, context: ParamsContext) -> BaseModel:
    """``params`` as the kind's model, or an InputError listing what is wrong (422). Checks
    that need the server's settings (the raster directory) get them through ``context``."""
    name = Code("job_kind", kind.name)
    if not isinstance(params, dict):
        raise InputError(msg("job.params_not_object", kind=name))
    try:
        return kind.params.model_validate(params, context=context)
    except ValidationError as exc:
        found = exc.errors(include_url=False, include_input=False)
        errors = [{"loc": ["params", *e["loc"]], "msg": e["msg"]} for e in found]
        raise InputError(msg("job.params_invalid", kind=name, reason=_reason(found[0])),
                         errors=errors) from None
