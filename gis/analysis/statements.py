"""Static SQL statements of the analyses, kept as files in ``gis/analysis/sql``.

The project's one SQL policy: a long statement that does not change at run time lives in a
``.sql`` file (readable, diffable, commented in SQL), loaded here through importlib.resources
so it works from an installed package too; statements composed at run time are SQLAlchemy
Core or ``psycopg.sql`` objects, never strings joined in Python (see docs/architecture.md).
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def statement(name: str) -> str:
    """The text of ``sql/<name>`` (read once per process)."""
    return resources.files("gis.analysis").joinpath("sql", name).read_text(encoding="utf-8")
