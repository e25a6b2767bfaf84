"""quota ledger: the purpose "other", with the purpose stated

The rules give the flexible quota's purposes as examples closed by 等 ("为重点产业发展、重大
工程项目、生态保护修复等预留弹性空间", 000:856-858, 001:1146-1148): the list is open. A draw
for another purpose is recorded as ``other`` and states in ``purpose_note`` what it is for,
so an auditor reading the ledger sees what "other" was; a named purpose may carry a note too.
The database holds the line the library draws: ``other`` without a non-blank note, or a note
over 200 characters, is refused whoever writes the row.

The downgrade restores the three-purpose CHECK, which ``other`` rows would break: it refuses
while any exist (they are the ledger, and dropping or relabelling them would falsify it).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

THREE = "purpose IN ('key_industry', 'major_project', 'ecological_restoration')"
FOUR = "purpose IN ('key_industry', 'major_project', 'ecological_restoration', 'other')"


def upgrade() -> None:
    op.add_column("quota_draws", sa.Column(
        "purpose_note", sa.Text(), nullable=True,
        comment="具体用途: what an 'other' draw was for (required then), optional otherwise"))
    op.drop_constraint("quota_draws_purpose", "quota_draws", type_="check")
    op.create_check_constraint("quota_draws_purpose", "quota_draws", FOUR)
    # coalesce: a NULL note would make the test NULL, which a CHECK lets through.
    op.create_check_constraint(
        "quota_draws_other_stated", "quota_draws",
        "purpose <> 'other' OR coalesce(length(btrim(purpose_note)), 0) > 0")
    op.create_check_constraint("quota_draws_purpose_note_length", "quota_draws",
                               "length(purpose_note) <= 200")


def downgrade() -> None:
    others = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM quota_draws WHERE purpose = 'other'")).scalar_one()
    if others:
        raise RuntimeError(
            f"cannot downgrade below 0016: quota_draws holds {others} row(s) with purpose "
            "'other', which revision 0015 cannot record; the ledger is never edited, so "
            "restore a backup taken before 0016 instead")
    op.drop_constraint("quota_draws_purpose_note_length", "quota_draws", type_="check")
    op.drop_constraint("quota_draws_other_stated", "quota_draws", type_="check")
    op.drop_constraint("quota_draws_purpose", "quota_draws", type_="check")
    op.create_check_constraint("quota_draws_purpose", "quota_draws", THREE)
    op.drop_column("quota_draws", "purpose_note")
