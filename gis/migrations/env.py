"""Alembic environment: runs on the connection handed over by ``gis.db.migrate``."""

from __future__ import annotations

from alembic import context

from gis.layers.schema import full_metadata

metadata = full_metadata()  # every table, for autogenerate comparisons

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `gis db migrate` (gis.db.migrate.upgrade)")


def _include_object(obj, name, type_, reflected, compare_to):
    # PostGIS owns these; they are not ours to compare.
    return not (type_ == "table" and name in {"spatial_ref_sys"})


context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=_include_object,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
