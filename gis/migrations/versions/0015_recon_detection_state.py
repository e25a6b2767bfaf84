"""what each division's latest detection read, for incremental re-detection (issue 24)

``recon_detection_state`` holds, per division, the run the state belongs to, fingerprints of
what the scan depends on besides the parcels (the profile and the detection statements; the
administrative divisions) and the highest event id when it ran (findings applied after it
were on the work list of that run). ``recon_parcel_state`` lists every forest, grassland
and survey parcel that detection read, with its row version (PostgreSQL's ``xmin``): a
re-detection compares the current row versions with these by equality, so any insert,
update or delete shows, whichever write path made it, whatever the clocks say and even if
its transaction was still open when the previous detection ran. Both go with the run (and
with each other) when the work list is emptied.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recon_detection_state",
        sa.Column("division", sa.Text(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("profile_fingerprint", sa.Text(), nullable=False),
        sa.Column("admin_fingerprint", sa.Text(), nullable=False),
        sa.Column("event_mark", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["recon_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("division"),
        comment="Per division: the detection run the parcel state belongs to, and what else "
                "its scan depended on (issue 24, incremental re-detection).",
    )
    op.create_table(
        "recon_parcel_state",
        sa.Column("division", sa.Text(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("row_version", sa.BigInteger(), nullable=False,
                  comment="The row's xmin when the detection read it"),
        sa.ForeignKeyConstraint(["division"], ["recon_detection_state.division"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("division", "layer", "id"),
        comment="The parcels a division's latest detection read, with their row versions.",
    )


def downgrade() -> None:
    op.drop_table("recon_parcel_state")
    op.drop_table("recon_detection_state")
