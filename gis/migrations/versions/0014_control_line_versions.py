"""control-line versions and the survey's official areas

Control lines (red line, permanent basic farmland, urban development boundary) keep every
version: ``control_line_versions`` records each one's basis (an approval, or which automatic
adjustment, 003:237-239), document number, approving body and effective date, and every row
of the three layers carries its ``version``; the natural key is unique per version. Rows
already loaded become version 1 of their layer with the basis ``unrecorded`` and no
effective date (in force from the start: nothing says since when). The SQL function
``control_line_version(layer, day)`` names the version in force on a day (today in China
when NULL), so every reader of a layer can ask the database the same question.

Survey patches (三调) get the survey's official area fields: KCDLBM (deducted class), KCXS
(deduction coefficient), KCMJ (deducted area) and TBDLMJ (图斑地类面积, the patch area less
the deducted 田坎), each area with the finite-number CHECK every float column has.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: The versioned layers and their natural keys (as in the catalogue at this revision).
LINES = {"eco_redline": ["redline_code"], "basic_farmland": ["parcel_code"],
         "urban_boundary": ["boundary_code"]}
BASES = ("approval", "protected_area_change", "mining_right", "unrecorded")
VERSION_COMMENT = "版本 (control_line_versions)"
#: (column, type, comment, finite) of the survey's official area fields.
SURVEY_FIELDS = (
    ("deducted_class_code", sa.Text(), "扣除地类编码", False),
    ("deduction_coefficient", sa.Float(), "扣除地类系数", True),
    ("deducted_area_m2", sa.Float(), "扣除地类面积(平方米)", True),
    ("official_area_m2", sa.Float(), "图斑地类面积(平方米)", True),
)

IN_FORCE = """
CREATE OR REPLACE FUNCTION control_line_version(layer_id text, day date DEFAULT NULL)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT version FROM control_line_versions
    WHERE layer = layer_id
      AND (effective_date IS NULL
           OR effective_date <= coalesce(day, (now() AT TIME ZONE 'Asia/Shanghai')::date))
    ORDER BY coalesce(effective_date, '-infinity'::date) DESC, version DESC
    LIMIT 1
$$
"""


def upgrade() -> None:
    op.create_table(
        "control_line_versions",
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False,
                  comment="依据: approval, protected_area_change, mining_right, unrecorded"),
        sa.Column("document_no", sa.Text(), nullable=True, comment="批准文号"),
        sa.Column("approved_by", sa.Text(), nullable=True, comment="批准机关"),
        sa.Column("effective_date", sa.Date(), nullable=True,
                  comment="生效日期 (NULL: in force from the start)"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True, comment="The file loaded"),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("loaded_by", sa.Text(), nullable=True),
        sa.CheckConstraint(sa.column("layer").in_(list(LINES)),
                           name="control_line_versions_layer"),
        sa.CheckConstraint(sa.column("basis").in_(BASES), name="control_line_versions_basis"),
        sa.CheckConstraint("version >= 1", name="control_line_versions_positive"),
        sa.PrimaryKeyConstraint("layer", "version"),
        comment="Every version of the control lines: basis, document, approving body and "
                "effective date; rows are never deleted",
    )
    versions = sa.table("control_line_versions", sa.column("layer"), sa.column("version"),
                        sa.column("basis"), sa.column("features"), sa.column("note"))
    for table, key in LINES.items():
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=True,
                                       comment=VERSION_COMMENT))
        layer = sa.table(table, sa.column("version"))
        op.execute(layer.update().values(version=1))
        rows = sa.select(sa.func.count()).select_from(sa.table(table)).scalar_subquery()
        op.execute(versions.insert().from_select(
            ["layer", "version", "basis", "features", "note"],
            sa.select(sa.literal(table), sa.literal(1), sa.literal("unrecorded"), rows,
                      sa.literal("loaded before versions were kept (migration 0014)"))
            .where(rows > 0)))
        op.alter_column(table, "version", nullable=False)
        op.drop_constraint(f"{table}_natural_key", table, type_="unique")
        op.create_unique_constraint(f"{table}_natural_key", table, ["version", *key])
        op.create_index(f"{table}_version", table, ["version"])
    op.execute(sa.text(IN_FORCE))
    for name, type_, comment, finite in SURVEY_FIELDS:
        op.add_column("survey_patches", sa.Column(name, type_, nullable=True, comment=comment))
        if finite:
            value, infinity = sa.column(name), sa.cast(sa.literal("Infinity"), sa.Float)
            op.create_check_constraint(f"ck_survey_patches_{name}_finite", "survey_patches",
                                       sa.and_(value >= 0, value < infinity))


def downgrade() -> None:
    for name, _, _, _ in SURVEY_FIELDS:
        op.drop_column("survey_patches", name)
    op.execute(sa.text("DROP FUNCTION IF EXISTS control_line_version(text, date)"))
    for table, key in LINES.items():
        op.execute(sa.table(table, sa.column("version")).delete().where(
            sa.column("version") != sa.select(sa.func.max(sa.column("version"))).select_from(
                sa.table(table)).scalar_subquery()))
        op.drop_index(f"{table}_version", table_name=table)
        op.drop_constraint(f"{table}_natural_key", table, type_="unique")
        op.create_unique_constraint(f"{table}_natural_key", table, key)
        op.drop_column(table, "version")
    op.drop_table("control_line_versions")
