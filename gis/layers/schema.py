"""SQLAlchemy tables of the catalogue's layers, derived from the catalogue.

The database schema itself is owned by Alembic migrations (``gis/migrations``); a test checks
that the migrated database and this metadata agree, so the catalogue and the migrations cannot
drift apart silently. The application's other tables are in :mod:`gis.db.records`; importing
this module registers them too, so ``metadata`` here always describes the whole schema.
"""

from __future__ import annotations

import threading
from functools import cache

import sqlalchemy as sa
from geoalchemy2 import Geometry

import gis.db.records  # noqa: F401 - the rest of the schema, registered in the same metadata
from gis.db.metadata import STORAGE_SRID, finite_check, metadata
from gis.layers.catalogue import Layer, load_catalogue

__all__ = ["STORAGE_SRID", "full_metadata", "layer_tables", "metadata", "table_for"]

_SA_TYPES = {
    "text": sa.Text,
    "int": sa.Integer,
    "float": sa.Float,
    "bool": sa.Boolean,
    "date": sa.Date,
}


def _layer_table(layer: Layer) -> sa.Table:
    columns: list[sa.Column] = [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    ]
    for f in layer.fields:
        columns.append(
            sa.Column(f.name, _SA_TYPES[f.type](), nullable=not f.required, comment=f.zh)
        )
    columns += [
        sa.Column(
            "geom",
            Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "area_m2",
            sa.Float,
            nullable=False,
            comment="Ellipsoidal area (GRS80/CGCS2000), m²",
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
            nullable=False,
        ),
    ]
    checks = [finite_check(layer.table, f.name, f.minimum) for f in layer.fields
              if f.type == "float"]
    return sa.Table(
        layer.table,
        metadata,
        *columns,
        finite_check(layer.table, "area_m2"),
        *checks,
        sa.UniqueConstraint(*layer.natural_key, name=f"{layer.table}_natural_key"),
        sa.Index(f"{layer.table}_geom_gist", "geom", postgresql_using="gist"),
        comment=f"{layer.zh} / {layer.en}",
    )


_BUILD_LOCK = threading.Lock()


@cache
def _build_layer_tables() -> dict[str, sa.Table]:
    return {layer.id: _layer_table(layer) for layer in load_catalogue()}


def layer_tables() -> dict[str, sa.Table]:
    """Table objects keyed by layer id (built once). Locked: two server threads building the
    tables at once would both add them to the shared MetaData ("already defined")."""
    with _BUILD_LOCK:
        return _build_layer_tables()


def table_for(layer: Layer) -> sa.Table:
    return layer_tables()[layer.id]


def full_metadata() -> sa.MetaData:
    """The metadata with every table registered: the records and the catalogue's layers (for
    code that walks every table: Alembic's autogenerate, the test session's truncation)."""
    layer_tables()
    return metadata
