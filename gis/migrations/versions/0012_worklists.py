"""work lists people can trust: event versions, field results, legacy activities' exit plans

- ``recon_events.version`` and ``monitor_events.version``: the item's version after each
  event, so a refused change (409) can name who made the version the caller did not see.
  Events written before this revision keep NULL: their versions were never recorded, and a
  number reconstructed from their order would be a guess wherever a row was changed outside
  the application.
- ``recon_field_results`` and ``monitor_field_results``: what the surveyors brought back in a
  field-check package (result, surveyor, date, remarks, corrected boundary), one row per item
  and imported file, append-only; each is also an event of its item.
- ``monitor_exit_plans``: the exit plan a ``legacy`` decision on a red-line patch requires
  (003:235: measures, deadline, responsible unit, compensation and resettlement, ecological
  restoration, the rule cited), one active plan per patch; overdue plans are the active ones
  whose deadline has passed.

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-10
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

EVENT_TABLES = ("recon_events", "monitor_events")
EXIT_PLAN_STATUSES = ("active", "completed", "superseded")


def _actor_columns() -> list[sa.Column]:
    return [
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_key", sa.Text(), nullable=True),
        sa.Column("on_behalf_of", sa.Text(), nullable=True),
        sa.Column("actor_verified", sa.Boolean(), server_default=sa.true(), nullable=False),
    ]


def _field_results(name: str, owner: str, items: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(owner, sa.BigInteger(), nullable=False),
        sa.Column("batch", sa.Text(), nullable=False,
                  comment="One id per imported file: the rows it brought in together"),
        sa.Column("source", sa.Text(), nullable=False, comment="The imported file's name"),
        sa.Column("result", sa.Text(), nullable=False,
                  comment="What the surveyor found: one of the work list's decisions"),
        sa.Column("surveyor", sa.Text(), nullable=False),
        sa.Column("survey_date", sa.Date(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("item_version", sa.Integer(), nullable=False,
                  comment="The version the package was made from (checked on import)"),
        sa.Column("geom", geoalchemy2.types.Geometry(
            geometry_type="MULTIPOLYGON", srid=4490, spatial_index=False), nullable=True,
            comment="The corrected boundary, when the surveyor redrew it"),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        *_actor_columns(),
        sa.ForeignKeyConstraint([owner], [f"{items}.id"]),
        sa.PrimaryKeyConstraint("id"),
        comment="Field inspection results imported from a field-check package; append-only.",
    )
    op.create_index(f"{name}_item", name, [owner, "id"])


def upgrade() -> None:
    for table in EVENT_TABLES:
        op.add_column(table, sa.Column(
            "version", sa.Integer(), nullable=True,
            comment="The item's version after this event; NULL for events written before "
                    "migration 0012"))
    _field_results("recon_field_results", "finding_id", "recon_findings")
    _field_results("monitor_field_results", "patch_id", "monitor_patches")
    op.create_table(
        "monitor_exit_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("patch_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("measures", sa.Text(), nullable=False,
                  comment="退出措施: how the activity exits"),
        sa.Column("deadline", sa.Date(), nullable=False, comment="退出时限"),
        sa.Column("responsible_unit", sa.Text(), nullable=False,
                  comment="The local government responsible (属地人民政府)"),
        sa.Column("compensation", sa.Text(), nullable=False, comment="补偿安置 duties"),
        sa.Column("restoration", sa.Text(), nullable=False, comment="生态修复 duties"),
        sa.Column("rule_id", sa.Text(), nullable=False,
                  comment="The profile rule the plan rests on, as it was cited when recorded"),
        sa.Column("citation", postgresql.JSONB(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("profile_version", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        *_actor_columns(),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("closed_by_key", sa.Text(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(sa.column("status").in_(EXIT_PLAN_STATUSES),
                           name="monitor_exit_plans_status"),
        sa.CheckConstraint("(status = 'active') = (closed_at IS NULL)",
                           name="monitor_exit_plans_closed"),
        sa.ForeignKeyConstraint(["patch_id"], ["monitor_patches.id"]),
        sa.PrimaryKeyConstraint("id"),
        comment="Exit plans of legacy activities in the red line (003:235): measures, "
                "deadline, responsible unit, compensation and restoration; one active plan "
                "per patch.",
    )
    op.create_index("monitor_exit_plans_active", "monitor_exit_plans", ["patch_id"],
                    unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_index("monitor_exit_plans_deadline", "monitor_exit_plans", ["deadline"],
                    postgresql_where=sa.text("status = 'active'"))


def downgrade() -> None:
    op.drop_table("monitor_exit_plans")
    op.drop_table("monitor_field_results")
    op.drop_table("recon_field_results")
    for table in EVENT_TABLES:
        op.drop_column(table, "version")
