"""red-line human-activity monitoring: runs, suspected patches (the work list), their history

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _geom() -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4490,
                                      spatial_index=False, nullable=False)


def upgrade() -> None:
    op.create_table(
        "monitor_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("profile_version", sa.Text(), nullable=False),
        sa.Column("raster_a", sa.Text(), nullable=False),
        sa.Column("raster_b", sa.Text(), nullable=False),
        sa.Column("date_a", sa.Text(), nullable=False),
        sa.Column("date_b", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("grid", postgresql.JSONB(), nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=True),
        sa.Column("geom", _geom(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="One row per land-cover comparison; geom is the compared extent.",
    )
    op.create_index("monitor_runs_geom_gist", "monitor_runs", ["geom"],
                    postgresql_using="gist")
    op.create_table(
        "monitor_patches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("feature_id", sa.BigInteger(), nullable=True),
        sa.Column("feature_key", sa.Text(), nullable=False),
        sa.Column("feature_name", sa.Text(), nullable=True),
        sa.Column("zone", sa.Text(), nullable=True),
        sa.Column("division", sa.Text(), nullable=True),
        sa.Column("township", sa.Text(), nullable=True),
        sa.Column("village", sa.Text(), nullable=True),
        sa.Column("village_code", sa.Text(), nullable=True),
        sa.Column("village_distance_m", sa.Float(), nullable=True),
        sa.Column("date_a", sa.Text(), nullable=False),
        sa.Column("date_b", sa.Text(), nullable=False),
        sa.Column("transitions", postgresql.JSONB(), nullable=False),
        sa.Column("pixels", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geom", _geom(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_run", sa.BigInteger(), sa.ForeignKey("monitor_runs.id"),
                  nullable=False),
        sa.Column("last_run", sa.BigInteger(), sa.ForeignKey("monitor_runs.id"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("status IN ('open', 'field_check', 'decided', 'closed')",
                           name="monitor_patches_status"),
        sa.CheckConstraint("layer IN ('eco_redline', 'basic_farmland')",
                           name="monitor_patches_layer"),
        sa.PrimaryKeyConstraint("id"),
        comment="Suspected new construction or bare land in the red line or permanent basic "
                "farmland: the field-inspection work list, decisions attached.",
    )
    op.create_index("monitor_patches_geom_gist", "monitor_patches", ["geom"],
                    postgresql_using="gist")
    op.create_index("monitor_patches_period", "monitor_patches",
                    ["date_a", "date_b", "status"])
    op.create_table(
        "monitor_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patch_id", sa.BigInteger(), sa.ForeignKey("monitor_patches.id"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"),
                  nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        comment="Append-only history of every change to a monitoring patch.",
    )
    op.create_index("monitor_events_patch", "monitor_events", ["patch_id", "id"])


def downgrade() -> None:
    op.drop_table("monitor_events")
    op.drop_index("monitor_patches_geom_gist", table_name="monitor_patches",
                  postgresql_using="gist")
    op.drop_table("monitor_patches")
    op.drop_index("monitor_runs_geom_gist", table_name="monitor_runs", postgresql_using="gist")
    op.drop_table("monitor_runs")
