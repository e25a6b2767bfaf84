"""Request-model field types shared by the routers.

Numbers are declared ``allow_inf_nan=False``: Python's JSON parser accepts ``NaN``,
``Infinity`` and ``1e309`` (which becomes infinity), and one NaN stored in a ledger once
switched a village's quota off. A name the caller types about itself is only ever
"on behalf of"; who acted comes from the API key (see gis.identity).

Two boundaries hold for every route (issue 21): offsets are bounded (:data:`Offset`), and no
NUL character enters through a path, a query or a JSON body (:func:`refuse_nul`, an
application-wide dependency).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, get_args

from fastapi import Query, Request
from pydantic import AliasChoices, Field

from gis.errors import InputError, InvalidParameter, NotFound
from gis.identity import MAX_ON_BEHALF_OF
from gis.messages import msg
from gis.numbers import MAX_AREA_M2

#: Widest buffer accepted for a line footprint (a road or pipeline corridor), m.
MAX_LINE_WIDTH_M = 10_000.0

AreaM2 = Annotated[float, Field(gt=0, le=MAX_AREA_M2, allow_inf_nan=False,
                                description="Area in m²: a finite number > 0")]
LineWidth = Annotated[float | None, Field(
    gt=0, le=MAX_LINE_WIDTH_M, allow_inf_nan=False,
    description="Buffer width for a line footprint, m (finite, > 0)")]
#: The day whose control-line versions a siting check reads (a calendar day in China);
#: None: today.
AsOf = Annotated[date | None, Field(
    description="Check the control-line versions in force on this day (YYYY-MM-DD, China); "
                "default today")]
OnBehalfOf = Annotated[str | None, Field(
    max_length=MAX_ON_BEHALF_OF,
    validation_alias=AliasChoices("on_behalf_of", "actor"),
    description="Recorded as 'on behalf of' next to the API key's holder, never in its "
                "place (the old field name `actor` is read the same way)")]

#: An item's version as a client saw it (an ``integer`` column: 2147483647 at most; a larger
#: one was a 500 in the versioned update).
Version = Annotated[int, Field(ge=1, le=2**31 - 1,
                               description="The version you saw (from the item)")]

#: The largest offset into any list. PostgreSQL's OFFSET is a bigint, and
#: ``offset=10000000000000000000`` was a 500; no list here holds a billion rows.
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET,
                              description="Items to skip (0 to 1000000000)")]

#: ``\u0000`` in JSON text, unless its backslash is itself escaped (``\\u0000`` is the
#: six characters, not a NUL).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_json_nul(body: bytes) -> bool:
    """Whether JSON text decodes to a string holding a NUL character."""
    return _JSON_NUL.search(body) is not None


def _json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


#: PostgreSQL's bigint: an integer outside it can be neither stored nor compared with an id.
INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"^[+-]?\d{19,}$")


def _out_of_range(values: list[str]) -> bool:
    return any(_INTEGER.match(v) and not INT64[0] <= int(v) <= INT64[1] for v in values)


_INTEGER_QUERIES: dict[int, frozenset[str]] = {}


def integer_queries(route: Any) -> frozenset[str]:
    """The names of a route's integer query parameters (its own and its dependencies'): only
    those are range-checked, so a search for a long number stays text."""
    key = id(route)
    if key not in _INTEGER_QUERIES:
        names: set[str] = set()
        stack = [getattr(route, "dependant", None)]
        while stack:
            dependant = stack.pop()
            if dependant is None:
                continue
            for param in dependant.query_params:
                annotation = param.field_info.annotation
                if annotation is int or int in get_args(annotation):
                    names.add(param.alias or param.name)
            stack.extend(dependant.dependencies)
        _INTEGER_QUERIES[key] = frozenset(names)
    return _INTEGER_QUERIES[key]


async def refuse_nul(request: Request) -> None:
    """The boundary every route shares (an application-wide dependency, so routes present
    and future are covered):

    - no NUL character in the path, a query parameter or a JSON body: PostgreSQL text
      cannot hold one, so a NUL in a search, a ledger code, a run id, a project code, a
      reason or a raster name was a 500 (DataError) deep in the library;
    - no integer beyond PostgreSQL's bigint in the path or an integer query parameter (an id
      or an offset of ``10000000000000000000`` was a 500): in the path it names nothing that
      can exist (404), in the query it is a bad parameter.

    Bad parameters are 400 on the OGC API (its rule), 422 elsewhere."""
    key = None
    query = [v for item in request.query_params.multi_items() for v in item]
    integers = integer_queries(request.scope.get("route"))
    numbers = [v for k, v in request.query_params.multi_items() if k in integers]
    path = [str(v) for v in (request.path_params or {}).values()]
    if _out_of_range(path):
        raise NotFound(msg("security.no_such_id"))
    if "\x00" in request.url.path:
        key = "security.nul_in_path"
    elif any("\x00" in v for v in query):
        key = "security.nul_in_query"
    elif _out_of_range(numbers):
        key = "security.integer_out_of_range"
    elif _json(request.headers.get("content-type")) and has_json_nul(await request.body()):
        key = "security.nul_in_body"
    if key is not None:
        error = InvalidParameter if request.url.path.startswith("/ogc") else InputError
        raise error(msg(key))
