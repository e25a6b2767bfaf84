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
from gis.layers.catalogue import VERSION_COLUMN, Layer, load_catalogue

__all__ = ["STORAGE_SRID", "control_line_versions", "full_metadata", "layer_tables", "metadata",
           "table_for"]

#: Every version of the control lines (migration 0014): what each was loaded as, never
#: deleted; the rows of a versioned layer carry the ``version`` they belong to.
control_line_versions = sa.Table(
    "control_line_versions",
    metadata,
    sa.Column("layer", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("basis", sa.Text, nullable=False,
              comment="依据: approval, protected_area_change, mining_right, unrecorded"),
    sa.Column("document_no", sa.Text, comment="批准文号"),
    sa.Column("approved_by", sa.Text, comment="批准机关"),
    sa.Column("effective_date", sa.Date, comment="生效日期 (NULL: in force from the start)"),
    sa.Column("note", sa.Text),
    sa.Column("source", sa.Text, comment="The file loaded"),
    sa.Column("features", sa.Integer, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("loaded_by", sa.Text),
    sa.CheckConstraint("layer IN ('eco_redline', 'basic_farmland', 'urban_boundary')",
                       name="control_line_versions_layer"),
    sa.CheckConstraint("basis IN ('approval', 'protected_area_change', 'mining_right', "
                       "'unrecorded')", name="control_line_versions_basis"),
    sa.CheckConstraint("version >= 1", name="control_line_versions_positive"),
    comment="Every version of the control lines: basis, document, approving body and "
            "effective date; rows are never deleted",
)

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
    key = list(layer.natural_key)
    extra: list[sa.SchemaItem] = []
    if layer.versioned:
        # Every version is kept: the natural key is unique within a version (migration 0014).
        columns.append(sa.Column(VERSION_COLUMN, sa.Integer, nullable=False,
                                 comment="版本 (control_line_versions)"))
        key = [VERSION_COLUMN, *key]
        extra.append(sa.Index(f"{layer.table}_version", VERSION_COLUMN))
    return sa.Table(
        layer.table,
        metadata,
        *columns,
        finite_check(layer.table, "area_m2"),
        *checks,
        sa.UniqueConstraint(*key, name=f"{layer.table}_natural_key"),
        sa.Index(f"{layer.table}_geom_gist", "geom", postgresql_using="gist"),
        *extra,
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
