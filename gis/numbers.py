"""Numbers that enter the system are finite and in range, checked where they enter.

A NaN compares false with everything, so one NaN in a sum turns every later ``x > remaining``
test false and switches a quota off; ``1e309`` parses to infinity. The request models use
:data:`FiniteFloat`-style fields (``allow_inf_nan=False``), the library checks again with
:func:`require_finite`, and the database's CHECK constraints (migration 0009) are the last line.
"""

from __future__ import annotations

import math
from typing import Any

from gis.errors import InputError
from gis.messages import Message, msg

#: Larger than any area this system handles (Ningxia is about 66,400 km² = 6.64e10 m²): a
#: larger figure is a unit error, not a project.
MAX_AREA_M2 = 1e11


def require_finite(value: Any, what: str | Message, *, minimum: float | None = None,
                   exclusive_minimum: float | None = None,
                   maximum: float | None = MAX_AREA_M2) -> float:
    """``value`` as a float if it is a finite number within the bounds, else InputError
    naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(msg("number.not_a_number", what=what, value=value))
    number = float(value)
    if not math.isfinite(number):
        raise InputError(msg("number.not_finite", what=what, value=value))
    if minimum is not None and number < minimum:
        raise InputError(msg("number.below", what=what, limit=minimum, value=number))
    if exclusive_minimum is not None and number <= exclusive_minimum:
        raise InputError(msg("number.not_above", what=what, limit=exclusive_minimum,
                             value=number))
    if maximum is not None and number > maximum:
        raise InputError(msg("number.above", what=what, limit=maximum, value=number))
    return number
