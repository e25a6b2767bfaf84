"""siting re-evaluations: stored runs judged again under the rules as they stand later

A siting run keeps the verdict it was given (``siting_runs`` is never updated). When the
rules change, ``gis check reevaluate`` (or ``POST /api/v1/analysis/siting/reevaluations``)
applies the current profile to each run's stored overlaps and records here the runs whose
verdict or approval path changed, with when, under which profile version, by whom, and the
new findings; the run's report and ``GET`` show the latest as a notice beside the original.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

VERDICTS = ("no_conflict", "permitted_with_conditions", "justification_required",
            "prohibited")


def upgrade() -> None:
    op.create_table(
        "siting_reevaluations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("batch", sa.Text(), nullable=False,
                  comment="One id per re-evaluation pass: the rows one command or request made"),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("profile_version", sa.Text(), nullable=False,
                  comment="Version of the profile the run was judged under this time"),
        sa.Column("previous_verdict", sa.Text(), nullable=False,
                  comment="The verdict before: the latest re-evaluation's, else the original"),
        sa.Column("previous_path", sa.Text(), nullable=True),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("approval_path", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=False,
                  comment="Rule findings, approval path and rule warnings under the current rules"),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_key", sa.Text(), nullable=True),
        sa.CheckConstraint("batch ~ '^[0-9a-f]{32}$'", name="siting_reevaluations_batch_hex"),
        sa.CheckConstraint(sa.column("verdict").in_(VERDICTS),
                           name="siting_reevaluations_verdict"),
        sa.CheckConstraint(sa.column("previous_verdict").in_(VERDICTS),
                           name="siting_reevaluations_previous_verdict"),
        sa.CheckConstraint("verdict <> previous_verdict "
                           "OR approval_path IS DISTINCT FROM previous_path",
                           name="siting_reevaluations_changed"),
        sa.ForeignKeyConstraint(["run_id"], ["siting_runs.id"],
                                name="siting_reevaluations_run_fkey"),
        sa.PrimaryKeyConstraint("id"),
        comment="Stored siting runs whose verdict or approval path changed when judged again "
                "under later rules (from their stored overlaps); append-only, and the runs "
                "themselves are never changed.",
    )
    op.create_index("siting_reevaluations_run", "siting_reevaluations", ["run_id", "id"])
    op.create_index("siting_reevaluations_batch", "siting_reevaluations", ["batch"])


def downgrade() -> None:
    op.drop_table("siting_reevaluations")
