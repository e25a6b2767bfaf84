"""background jobs: one table for long work run outside the request (gis.jobs)

A job is a row, so a server restart loses nothing: what a previous process left ``queued`` or
``running`` is found at start-up (its runner's advisory lock is gone) and marked failed,
retryable. The owner is the authenticated actor (as in 0009); who asked for a retry or a
cancellation is recorded next to it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STATUSES = "'queued', 'running', 'succeeded', 'failed', 'cancelled'"
FINISHED = "'succeeded', 'failed', 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_key", sa.Text(), nullable=True),
        sa.Column("on_behalf_of", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_by_key", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("done", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=True),
        sa.Column("error", postgresql.JSONB(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cancelled_by", sa.Text(), nullable=True),
        sa.Column("cancelled_by_key", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("retry_of", sa.Text(), nullable=True),
        sa.Column("runner", sa.Integer(), nullable=True,
                  comment="Advisory-lock key of the process that runs the job; a job whose "
                          "runner holds no lock was left by a process that is gone"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("id ~ '^[0-9a-f]{32}$'", name="jobs_id_hex"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="jobs_status"),
        sa.CheckConstraint("jsonb_typeof(params) = 'object'", name="jobs_params_object"),
        sa.CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name="jobs_progress"),
        sa.CheckConstraint("attempt >= 1 AND (retry_of IS NULL) = (attempt = 1)",
                           name="jobs_attempt"),
        sa.CheckConstraint(f"(status IN ({FINISHED})) = (finished_at IS NOT NULL)",
                           name="jobs_finished"),
        sa.CheckConstraint("(status <> 'succeeded' OR result IS NOT NULL) "
                           "AND (status <> 'failed' OR error IS NOT NULL)",
                           name="jobs_outcome"),
        sa.ForeignKeyConstraint(["retry_of"], ["jobs.id"], name="jobs_retry_of_fkey"),
        sa.PrimaryKeyConstraint("id"),
        comment="Background jobs (gis.jobs): long analyses run outside the request, their "
                "progress, result or error; a retry is a new row (retry_of).",
    )
    op.create_index("jobs_owner", "jobs", ["actor_key", "created_at"])
    op.create_index("jobs_created", "jobs", ["created_at"])
    op.create_index("jobs_active", "jobs", ["runner"],
                    postgresql_where=sa.text("status IN ('queued', 'running')"))
    # One retry per job: retrying again continues from the newest attempt.
    op.create_index("jobs_retried_once", "jobs", ["retry_of"], unique=True,
                    postgresql_where=sa.text("retry_of IS NOT NULL"))


def downgrade() -> None:
    op.drop_table("jobs")
