"""siting history: the project a run checked, the control-line versions it used, re-runs

A planner looks a check up by its project, not by a run id: each run now keeps the project's
code (项目代码), name, applicant (申请单位) and purpose (建设用途) as the request gave them,
the versions of the control lines the overlay read (``control_line_versions``: layer, version,
basis, document number, approver, effective date), and, for a check re-run against the
current data, the run it repeats (``rerun_of``). Who ran it stays ``requested_by`` /
``actor_key`` (the authenticated key). Runs stored before this revision keep NULL in all of
them: nothing is guessed for them.

The indexes serve the history listing (``GET /api/v1/analysis/siting``, ``gis check
history``): one project's runs newest first, runs by verdict and time, and the re-runs of a
run.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: (column, comment) of the project fields, all free text as the application carries them.
PROJECT_COLUMNS = (
    ("project_code", "项目代码: the project's code on the investment approval platform"),
    ("project_name", "项目名称"),
    ("applicant", "申请单位: who applies for the land"),
    ("purpose", "建设用途 / 项目用途, as the application states it"),
)


def upgrade() -> None:
    for name, comment in PROJECT_COLUMNS:
        op.add_column("siting_runs", sa.Column(name, sa.Text(), nullable=True, comment=comment))
    op.add_column("siting_runs", sa.Column(
        "control_line_versions", postgresql.JSONB(), nullable=True,
        comment="The control-line versions the overlay read: [{layer, version, basis, "
                "document_no, approved_by, effective_date}]"))
    op.add_column("siting_runs", sa.Column(
        "rerun_of", sa.Text(), nullable=True,
        comment="The run this one repeats against the data current when it ran"))
    op.create_foreign_key("siting_runs_rerun_of_fkey", "siting_runs", "siting_runs",
                          ["rerun_of"], ["id"])
    op.create_check_constraint(
        "siting_runs_control_line_versions_array", "siting_runs",
        "control_line_versions IS NULL OR jsonb_typeof(control_line_versions) = 'array'")
    op.create_index("siting_runs_project", "siting_runs", ["project_code", "created_at"],
                    postgresql_where=sa.text("project_code IS NOT NULL"))
    op.create_index("siting_runs_verdict", "siting_runs", ["verdict", "created_at"])
    op.create_index("siting_runs_rerun_of", "siting_runs", ["rerun_of"],
                    postgresql_where=sa.text("rerun_of IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("siting_runs_rerun_of", table_name="siting_runs")
    op.drop_index("siting_runs_verdict", table_name="siting_runs")
    op.drop_index("siting_runs_project", table_name="siting_runs")
    op.drop_constraint("siting_runs_control_line_versions_array", "siting_runs")
    op.drop_constraint("siting_runs_rerun_of_fkey", "siting_runs")
    for column in ("rerun_of", "control_line_versions",
                   *(name for name, _ in reversed(PROJECT_COLUMNS))):
        op.drop_column("siting_runs", column)
