"""The values migration 0009 found not finite or out of range, and what it did with each.

Stored before the database refused them (a NaN area, an infinite quota, a negative figure),
such values were not allowed to fail the migration: each was listed in ``invalid_values`` with
its original text, and attributes were set to NULL (unknown), derived areas recomputed from
the geometry, ledger draws kept but excluded from the balance. ``gis db invalid`` shows the
list so that someone reviews it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, select

from gis.db.records import invalid_values


class InvalidValue(BaseModel):
    table_name: str
    row_key: str
    column_name: str
    original: str
    action: str
    found_at: datetime


def list_invalid_values(engine: Engine) -> list[InvalidValue]:
    c = invalid_values.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.table_name, c.row_key, c.column_name, c.original, c.action,
                                   c.found_at).order_by(c.id)).mappings().all()
    return [InvalidValue(**row) for row in rows]
