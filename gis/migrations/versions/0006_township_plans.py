"""township spatial plans (乡级国土空间规划): the reserved construction-land indicator

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "township_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("township_code", sa.Text(), nullable=False, comment="乡镇代码"),
        sa.Column("township_name", sa.Text(), nullable=False, comment="乡镇(街道)"),
        sa.Column("county_code", sa.Text(), nullable=True, comment="县级代码"),
        sa.Column("status", sa.Text(), nullable=True, comment="规划状态"),
        sa.Column("planned_construction_m2", sa.Float(), nullable=True,
                  comment="规划建设用地总面积(平方米)"),
        sa.Column("reserved_indicator_m2", sa.Float(), nullable=True,
                  comment="预留建设用地指标(平方米)"),
        sa.Column("approved_date", sa.Date(), nullable=True, comment="批复日期"),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4490, dimension=2,
                                       spatial_index=False, from_text="ST_GeomFromEWKT",
                                       name="geometry", nullable=False),
            nullable=False,
        ),
        sa.Column("area_m2", sa.Float(), nullable=False,
                  comment="Ellipsoidal area (GRS80/CGCS2000), m²"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("township_code", name="township_plans_natural_key"),
        comment="乡级国土空间规划 / Township spatial plans",
    )
    op.create_index("township_plans_geom_gist", "township_plans", ["geom"], unique=False,
                    postgresql_using="gist")
    op.execute(
        "CREATE TRIGGER township_plans_area_insert BEFORE INSERT ON township_plans FOR EACH ROW "
        "WHEN (NEW.area_m2 IS NULL) EXECUTE FUNCTION onemap_fill_area()"
    )
    op.execute(
        "CREATE TRIGGER township_plans_area_update BEFORE UPDATE OF geom ON township_plans "
        "FOR EACH ROW WHEN (NEW.area_m2 IS NOT DISTINCT FROM OLD.area_m2) "
        "EXECUTE FUNCTION onemap_fill_area()"
    )


def downgrade() -> None:
    op.drop_index("township_plans_geom_gist", table_name="township_plans",
                  postgresql_using="gist")
    op.drop_table("township_plans")
