"""The one SQLAlchemy ``MetaData`` of the application and the column conventions its tables
share: finite-number CHECKs and the authenticated-actor columns.

Tables register here from two modules: the application's own records
(:mod:`gis.db.records`: audit trails, ledgers, work lists, keys, jobs) and the layer tables
derived from the catalogue (:mod:`gis.layers.schema`, whose ``full_metadata()`` returns the
metadata with both registered, for code that walks every table).
"""

from __future__ import annotations

import sqlalchemy as sa

#: Storage CRS of every geometry column: CGCS2000 geographic.
STORAGE_SRID = 4490

metadata = sa.MetaData()


def finite_check(table: str, column: str, minimum: float | None = 0) -> sa.CheckConstraint:
    """``column`` is a finite number (>= ``minimum``). NaN sorts above every number in
    PostgreSQL, so ``< 'Infinity'`` refuses NaN and +Infinity alike. Named
    ``ck_<table>_<column>_finite``; see migration 0009."""
    value, infinity = sa.column(column), sa.cast(sa.literal("Infinity"), sa.Float)
    low = value > -infinity if minimum is None else value >= minimum
    return sa.CheckConstraint(sa.and_(low, value < infinity), name=f"ck_{table}_{column}_finite")


def actor_columns() -> list[sa.Column]:
    """Who acted (see gis.identity): the authenticated actor's key id, the free-text name
    acted for, and whether the actor was authenticated (false for rows written before
    migration 0009, when a request field could name anyone)."""
    return [
        sa.Column("actor_key", sa.Text),
        sa.Column("on_behalf_of", sa.Text),
        sa.Column("actor_verified", sa.Boolean, server_default=sa.true(), nullable=False),
    ]
