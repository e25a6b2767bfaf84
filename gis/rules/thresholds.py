"""Comparing figures with the profiles' thresholds exactly, at the boundary too.

Binary floating point holds neither 0.05 nor 6,000.3: ``6000.3 / 120006`` is
0.049999999999999996, so a plan arranging exactly "不少于5%" (000:854-858) was judged short,
and ``quota - drawn`` could leave a remainder a hair below what a draw asks for. Here every
figure is the decimal it is written as (a float by its shortest ``repr``: ``0.05`` is 5/100),
areas to the centi-square-metre (0.01 m², the precision areas are stated to; sums of stored
floats carry noise below it), and shares are compared as exact rationals, never divided in
floats. Thresholds, comparators and tolerances come from the rule profiles; nothing here is
a rule.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

Number = float | int | str | Decimal | Fraction

#: Areas are compared to the centi-square-metre.
CENTI = Decimal("0.01")
#: 1 亩 = 10000/15 m² exactly (gis.units.M2_PER_MU is its float).
MU_PER_M2 = Fraction(15, 10000)
KM2_PER_M2 = Fraction(1, 1_000_000)


def exact(value: Number) -> Fraction:
    """``value`` as the decimal it is written as (a float by its shortest repr)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def area(m2: Number | None) -> Fraction:
    """An area in m² to the centi-square-metre (half to even); ``None`` (no figure) is 0."""
    if m2 is None:
        return Fraction(0)
    if isinstance(m2, Fraction):
        value = Decimal(m2.numerator) / Decimal(m2.denominator)
    elif isinstance(m2, float):
        value = Decimal(repr(m2)) if math.isfinite(m2) else Decimal("NaN")
    else:
        value = Decimal(m2)
    if not value.is_finite():
        raise ValueError(f"not a finite area: {m2!r}")
    return Fraction(value.quantize(CENTI, rounding=ROUND_HALF_EVEN))


def total(areas: list[Number | None]) -> Fraction:
    """The sum of areas, each to the centi-square-metre (so stored noise never adds up)."""
    return sum((area(a) for a in areas), Fraction(0))


def compare(value: Number, comparator: str, threshold: Number,
            tolerance: Number = 0) -> bool:
    """Whether ``value`` satisfies ``comparator threshold`` within ``tolerance``, exactly:
    ``>=`` holds at ``threshold - tolerance``, ``<=`` at ``threshold + tolerance``, and
    ``approx`` on both ends of ``threshold ± tolerance`` (inclusive)."""
    v, t, tol = exact(value), exact(threshold), exact(tolerance)
    if comparator == ">=":
        return v >= t - tol
    if comparator == ">":
        return v > t - tol
    if comparator == "<=":
        return v <= t + tol
    if comparator == "<":
        return v < t + tol
    if comparator == "approx":
        return t - tol <= v <= t + tol
    raise ValueError(f"unknown comparator {comparator!r}")


def share(part_m2: Number | None, base_m2: Number | None) -> Fraction | None:
    """``part / base`` of two areas (each to the centi-square-metre), exactly; ``None`` when
    the base is not positive (no share can be computed)."""
    base = area(base_m2)
    if base <= 0:
        return None
    return area(part_m2) / base


__all__ = ["CENTI", "KM2_PER_M2", "MU_PER_M2", "area", "compare", "exact",
           "share", "total"]
