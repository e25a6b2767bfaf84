"""``division_name_at`` (migration 0017): the township or village a finding is named after.

Detection names each finding's township and village by the division holding its
representative point. The function must give the same name for the same data, whatever
order the rows were written in (a point on a shared border lies in both divisions), and it
must stay parallel-safe: that is what lets PostgreSQL run every finding's lookups and
measures in its parallel workers (a LATERAL subquery with a LIMIT never runs there).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

#: Two townships sharing the edge x = 80.31 and a village inside the eastern one, far from
#: Ningxia so that no division another test loaded can hold the points. The
#: western township is written first but has the higher code.
DIVISIONS = (
    ("640104902", "西镇", "township", (80.30, 30.40, 80.31, 30.41)),
    ("640104901", "东镇", "township", (80.31, 30.40, 80.32, 30.41)),
    ("640104901201", "东村", "village", (80.315, 30.40, 80.32, 30.41)),
)


def _square(x0: float, y0: float, x1: float, y1: float) -> str:
    return (f"ST_Multi(ST_GeomFromText('POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, "
            f"{x0} {y1}, {x0} {y0}))', 4490))")


@pytest.mark.parametrize(("level", "x", "y", "expected"), [
    ("township", 80.305, 30.405, "西镇"),   # inside the western township only
    ("township", 80.312, 30.405, "东镇"),   # inside the eastern one only
    ("township", 80.31, 30.405, "东镇"),    # on the shared edge: the lower code
    ("township", 80.40, 30.405, None),      # outside every township
    ("village", 80.318, 30.405, "东村"),
    ("village", 80.305, 30.405, None),      # a township is not a village
])
def test_the_division_holding_the_point(engine: Engine, level: str, x: float, y: float,
                                        expected: str | None) -> None:
    with engine.connect() as conn:
        for code, name, kind, box in DIVISIONS:
            conn.execute(text(
                "INSERT INTO admin_divisions (code, name, level, geom) "
                f"VALUES (:code, :name, :level, {_square(*box)})"),
                {"code": code, "name": name, "level": kind})
        found = conn.execute(text(
            "SELECT division_name_at(:level, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"),
            {"level": level, "x": x, "y": y}).scalar_one()
        conn.rollback()
    assert found == expected


def test_it_is_parallel_safe_and_stable(engine: Engine) -> None:
    with engine.connect() as conn:
        parallel, volatility = conn.execute(text(
            "SELECT proparallel, provolatile FROM pg_proc "
            "WHERE proname = 'division_name_at'")).one()
    assert (parallel, volatility) == ("s", "s")
