"""siting runs: every siting check stored with its inputs, profile version and time

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "siting_runs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("profile_version", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("new_construction_land", sa.Boolean(), nullable=False),
        sa.Column("temporary", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=True),
        sa.Column("inputs", postgresql.JSONB(), nullable=False),
        sa.Column("result", postgresql.JSONB(), nullable=False),
        sa.Column(
            "footprint",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4490,
                                       spatial_index=False, nullable=False),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        comment="Audit trail of siting checks: never updated, never deleted by the app.",
    )
    op.create_index("siting_runs_created_at", "siting_runs", ["created_at"])
    op.create_index("siting_runs_footprint_gist", "siting_runs", ["footprint"],
                    postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("siting_runs_footprint_gist", table_name="siting_runs",
                  postgresql_using="gist")
    op.drop_index("siting_runs_created_at", table_name="siting_runs")
    op.drop_table("siting_runs")
