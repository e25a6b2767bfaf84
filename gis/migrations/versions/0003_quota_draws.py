"""quota ledger: draws on a village plan's flexible construction-land quota

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_draws",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("village_code", sa.Text(), nullable=False),
        sa.Column("project_code", sa.Text(), nullable=False),
        sa.Column("project_name", sa.Text(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("draw_date", sa.Date(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("area_m2 > 0", name="quota_draws_positive"),
        sa.CheckConstraint(
            "purpose IN ('key_industry', 'major_project', 'ecological_restoration')",
            name="quota_draws_purpose"),
        sa.PrimaryKeyConstraint("id"),
        comment="Ledger of draws on village flexible quotas (机动指标); rows are never updated.",
    )
    op.create_index("quota_draws_village", "quota_draws", ["village_code"])


def downgrade() -> None:
    op.drop_index("quota_draws_village", table_name="quota_draws")
    op.drop_table("quota_draws")
