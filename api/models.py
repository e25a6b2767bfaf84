"""Request-model field types shared by the routers.

Numbers are declared ``allow_inf_nan=False``: Python's JSON parser accepts ``NaN``,
``Infinity`` and ``1e309`` (which becomes infinity), and one NaN stored in a ledger once
switched a village's quota off. A name the caller types about itself is only ever
"on behalf of"; who acted comes from the API key (see gis.identity).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field

from gis.identity import MAX_ON_BEHALF_OF
from gis.numbers import MAX_AREA_M2

#: Widest buffer accepted for a line footprint (a road or pipeline corridor), m.
MAX_LINE_WIDTH_M = 10_000.0

AreaM2 = Annotated[float, Field(gt=0, le=MAX_AREA_M2, allow_inf_nan=False,
                                description="Area in m²: a finite number > 0")]
LineWidth = Annotated[float | None, Field(
    gt=0, le=MAX_LINE_WIDTH_M, allow_inf_nan=False,
    description="Buffer width for a line footprint, m (finite, > 0)")]
OnBehalfOf = Annotated[str | None, Field(
    max_length=MAX_ON_BEHALF_OF,
    validation_alias=AliasChoices("on_behalf_of", "actor"),
    description="Recorded as 'on behalf of' next to the API key's holder, never in its "
                "place (the old field name `actor` is read the same way)")]
