"""forest-grass reconciliation: runs, findings (the work list) and their event history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recon_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("division", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("profile_version", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "recon_findings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("division", sa.Text(), nullable=False),
        sa.Column("township", sa.Text(), nullable=True),
        sa.Column("village", sa.Text(), nullable=True),
        sa.Column("parcel_keys", sa.Text(), nullable=False),
        sa.Column("parcels", postgresql.JSONB(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geom", geoalchemy2.types.Geometry(
            geometry_type="MULTIPOLYGON", srid=4490, spatial_index=False, nullable=False),
            nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_run", sa.BigInteger(), sa.ForeignKey("recon_runs.id"), nullable=False),
        sa.Column("last_run", sa.BigInteger(), sa.ForeignKey("recon_runs.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'field_check', 'decided', 'applied', 'closed')",
            name="recon_findings_status"),
        sa.PrimaryKeyConstraint("id"),
        comment="The reconciliation work list (台账): one row per finding, decisions attached.",
    )
    op.create_index("recon_findings_geom_gist", "recon_findings", ["geom"],
                    postgresql_using="gist")
    op.create_index("recon_findings_division", "recon_findings", ["division", "status", "kind"])
    op.create_table(
        "recon_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("finding_id", sa.BigInteger(), sa.ForeignKey("recon_findings.id"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"),
                  nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        comment="Append-only history of every change to a finding.",
    )
    op.create_index("recon_events_finding", "recon_events", ["finding_id", "id"])


def downgrade() -> None:
    op.drop_table("recon_events")
    op.drop_table("recon_findings")
    op.drop_table("recon_runs")
