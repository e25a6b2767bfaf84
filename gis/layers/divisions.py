"""What the administrative divisions say about the whole map: the extent of the data loaded
(where maps open) and the county-level divisions (the pickers of the work-list pages).

A database that is not migrated yet has no divisions table: that is "no divisions", said
explicitly (``None``, ``[]``), so the pages still open on Ningxia. Any other database error
propagates: a map silently opening in the wrong place would hide it.
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from gis.layers.catalogue import get_layer
from gis.layers.schema import table_for

DIVISIONS = "admin_divisions"


class Division(BaseModel):
    code: str
    name: str


def _migrated(conn: Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.func.to_regclass(table.name))).scalar() is not None


def divisions_extent(engine: Engine) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of every division loaded, in degrees; ``None`` when there
    is none (an empty or not yet migrated database)."""
    table = table_for(get_layer(DIVISIONS))
    extent = sa.func.ST_Extent(table.c.geom)
    with engine.connect() as conn:
        if not _migrated(conn, table):
            return None
        row = conn.execute(sa.select(sa.func.ST_XMin(extent), sa.func.ST_YMin(extent),
                                     sa.func.ST_XMax(extent), sa.func.ST_YMax(extent))).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def districts(engine: Engine) -> list[Division]:
    """The county-level divisions (区/县) loaded, by code; ``[]`` before the migration."""
    table = table_for(get_layer(DIVISIONS))
    with engine.connect() as conn:
        if not _migrated(conn, table):
            return []
        rows = conn.execute(sa.select(table.c.code, table.c.name)
                            .where(table.c.level == "district").order_by(table.c.code)).all()
    return [Division(code=r.code, name=r.name) for r in rows]
