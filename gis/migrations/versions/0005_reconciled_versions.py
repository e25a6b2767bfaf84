"""reconciled forest and grassland layers: versions produced by applying decisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recon_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("division", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        comment="Each apply of decisions makes a new version; the originals are never edited.",
    )
    op.create_table(
        "recon_parcels",
        sa.Column("version_id", sa.BigInteger(), sa.ForeignKey("recon_versions.id"),
                  nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("parcel_key", sa.Text(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column("township", sa.Text(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geom", geoalchemy2.types.Geometry(
            geometry_type="MULTIPOLYGON", srid=4490, spatial_index=False, nullable=False),
            nullable=False),
        sa.PrimaryKeyConstraint("version_id", "layer", "parcel_key"),
    )
    op.create_index("recon_parcels_geom_gist", "recon_parcels", ["geom"],
                    postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("recon_parcels")
    op.drop_table("recon_versions")
