"""finite numbers in every area and quota column; verified actors; ledger reversals

Every double-precision column gets a CHECK that refuses NaN, infinities and negative areas
(in PostgreSQL NaN sorts above every number, so ``x < 'Infinity'`` refuses both NaN and
+Infinity). Rows stored before these checks that would violate them are not a reason to
fail the migration: each is listed in ``invalid_values`` with its original value and what was
done (attributes set to NULL, i.e. unknown; stored areas recomputed from the geometry; quota
draws kept, excluded from the balance, and shown as invalid in the ledger).

History rows whose actor came from a request field are marked ``actor_verified = false``:
until this revision the reconciliation and monitoring work lists stored whatever name the
client sent, so no earlier row can be trusted to name who acted.

Statements over the listed tables are SQLAlchemy constructs (``sa.table``/``sa.column``,
``sa.update``, ``insert().from_select``, CHECK conditions as expressions), so every name is
quoted by SQLAlchemy rather than pasted into SQL text.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Layer tables as of this revision (each has a NOT NULL area_m2 derived from geom).
LAYER_TABLES = ("admin_divisions", "eco_redline", "basic_farmland", "cultivated_land",
                "urban_boundary", "village_plans", "township_plans", "village_plan_zones",
                "forest_parcels", "grassland_parcels", "survey_patches", "forest_farm_areas",
                "projects")
#: Stored areas derived from a geometry: recomputed when invalid.
DERIVED_AREAS = [(t, "area_m2") for t in LAYER_TABLES] + [
    ("recon_findings", "area_m2"), ("recon_parcels", "area_m2"), ("monitor_patches", "area_m2")]
#: Loaded or measured quantities (nullable): set to NULL (unknown) when invalid.
QUANTITIES = [
    ("urban_boundary", "baseline_2020_m2"),
    ("village_plans", "planned_construction_m2"), ("village_plans", "flexible_quota_m2"),
    ("township_plans", "planned_construction_m2"), ("township_plans", "reserved_indicator_m2"),
    ("forest_parcels", "certificate_area_mu"), ("grassland_parcels", "certificate_area_mu"),
    ("survey_patches", "patch_area_m2"), ("forest_farm_areas", "nominal_area_mu"),
    ("monitor_patches", "village_distance_m"),
]
#: Tables whose rows name who acted.
ACTOR_TABLES = ("recon_events", "monitor_events", "monitor_runs", "recon_versions")

INVALID_VALUES = sa.table("invalid_values", *(sa.column(name) for name in (
    "table_name", "row_key", "column_name", "original", "action")))


def _valid(value: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """``value >= 0 AND value < 'Infinity'``: a finite, non-negative number."""
    return sa.and_(value >= 0, value < sa.cast(sa.literal("Infinity"), sa.Float))


def _table(name: str, column: str) -> sa.TableClause:
    """The table with the columns the statements here use (the row key's, ``geom``)."""
    keys = ("version_id", "layer", "parcel_key") if name == "recon_parcels" else ("id",)
    return sa.table(name, sa.column(column), sa.column("geom"),
                    *(sa.column(key) for key in keys))


def _row_key(table: sa.TableClause) -> sa.ColumnElement[str]:
    """How a row is named in ``invalid_values.row_key``: its id, or its composite key."""
    if table.name == "recon_parcels":
        return (sa.cast(table.c.version_id, sa.Text) + "/" + table.c.layer + "/"
                + table.c.parcel_key)
    return sa.cast(table.c.id, sa.Text)


def _quarantine(table: sa.TableClause, column: str, action: str) -> None:
    """List the rows of ``table`` whose ``column`` is not valid, with what is done to them."""
    value = table.c[column]
    rows = sa.select(sa.literal(table.name, sa.Text), _row_key(table),
                     sa.literal(column, sa.Text), sa.cast(value, sa.Text),
                     sa.literal(action, sa.Text)).where(sa.not_(_valid(value)))
    op.execute(sa.insert(INVALID_VALUES).from_select(
        ["table_name", "row_key", "column_name", "original", "action"], rows))


def _check(table: str, column: str) -> None:
    op.create_check_constraint(f"ck_{table}_{column}_finite", table,
                               _valid(sa.column(column)))


def upgrade() -> None:
    op.create_table(
        "invalid_values",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("column_name", sa.Text(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="Values found non-finite or out of range by migration 0009, with what was "
                "done; listed by `gis db invalid`.",
    )
    for name, column in DERIVED_AREAS:
        table = _table(name, column)
        _quarantine(table, column, "recomputed from the geometry")
        op.execute(sa.update(table).where(sa.not_(_valid(table.c[column]))).values(
            {table.c[column]: sa.func.ST_Area(sa.func.geography(table.c.geom), sa.true())}))
        _check(name, column)
    for name, column in QUANTITIES:
        table = _table(name, column)
        _quarantine(table, column, "set to NULL (unknown)")
        op.execute(sa.update(table).where(sa.not_(_valid(table.c[column])))
                   .values({table.c[column]: sa.null()}))
        _check(name, column)

    # The quota ledger: reversal entries, invalid rows kept but out of the balance, actors.
    for name, type_ in (("entry", sa.Text()), ("reverses", sa.BigInteger()),
                        ("reason", sa.Text()), ("invalid_value", sa.Text()),
                        ("actor_key", sa.Text()), ("on_behalf_of", sa.Text())):
        op.add_column("quota_draws", sa.Column(name, type_, nullable=True))
    op.add_column("quota_draws", sa.Column("actor_verified", sa.Boolean(),
                                           server_default=sa.true(), nullable=False))
    op.execute("UPDATE quota_draws SET entry = 'draw'")
    op.alter_column("quota_draws", "entry", nullable=False, server_default="draw")
    op.create_foreign_key("quota_draws_reverses_fkey", "quota_draws", "quota_draws",
                          ["reverses"], ["id"])
    op.create_index("quota_draws_reversed_once", "quota_draws", ["reverses"], unique=True,
                    postgresql_where=sa.text("reverses IS NOT NULL"))
    op.alter_column("quota_draws", "area_m2", nullable=True)
    op.execute(sa.text(
        "INSERT INTO invalid_values (table_name, row_key, column_name, original, action) "
        "SELECT 'quota_draws', id::text, 'area_m2', area_m2::text, 'kept in the ledger as invalid, "
        "excluded from the balance' FROM quota_draws "
        "WHERE NOT (area_m2 > 0 AND area_m2 < 'Infinity'::float8)"))
    op.execute(sa.text(
        "UPDATE quota_draws SET invalid_value = area_m2::text, area_m2 = NULL "
        "WHERE NOT (area_m2 > 0 AND area_m2 < 'Infinity'::float8)"))
    # Draws made through the API or the CLI recorded no one; imports record the importer.
    op.execute("UPDATE quota_draws SET actor_verified = false WHERE NOT imported")
    op.drop_constraint("quota_draws_positive", "quota_draws", type_="check")
    op.create_table_comment(
        "quota_draws", "Ledger of draws on village flexible quotas (机动指标); rows are never "
        "updated: a wrong draw is undone by a reversal entry.")
    op.create_check_constraint("quota_draws_entry", "quota_draws",
                               "entry IN ('draw', 'reversal')")
    op.create_check_constraint(
        "ck_quota_draws_area_m2_finite", "quota_draws",
        "(invalid_value IS NULL AND entry = 'draw' AND reverses IS NULL "
        " AND area_m2 > 0 AND area_m2 < 'Infinity'::float8)"
        " OR (invalid_value IS NULL AND entry = 'reversal' AND reverses IS NOT NULL "
        " AND reason IS NOT NULL AND area_m2 <= 0 AND area_m2 > '-Infinity'::float8)"
        " OR (invalid_value IS NOT NULL AND entry = 'draw' AND area_m2 IS NULL)")

    for table in ACTOR_TABLES:
        op.add_column(table, sa.Column("actor_key", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("on_behalf_of", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("actor_verified", sa.Boolean(),
                                       server_default=sa.true(), nullable=False))
        op.execute(sa.update(sa.table(table, sa.column("actor_verified")))
                   .values(actor_verified=sa.false()))
    op.add_column("siting_runs", sa.Column("actor_key", sa.Text(), nullable=True))
    op.add_column("siting_runs", sa.Column("on_behalf_of", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drops the checks and the new columns. Values set to NULL or recomputed stay so (their
    originals are in ``invalid_values``, which is dropped too). Refused while the ledger holds
    reversal entries: dropping them would silently change balances."""
    reversals = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM quota_draws WHERE entry = 'reversal'")).scalar_one()
    if reversals:
        raise RuntimeError(f"the quota ledger holds {reversals} reversal entries that revision "
                           "0008 cannot represent; not downgrading")
    op.drop_column("siting_runs", "on_behalf_of")
    op.drop_column("siting_runs", "actor_key")
    for table in ACTOR_TABLES:
        for column in ("actor_verified", "on_behalf_of", "actor_key"):
            op.drop_column(table, column)
    op.drop_constraint("ck_quota_draws_area_m2_finite", "quota_draws", type_="check")
    op.drop_constraint("quota_draws_entry", "quota_draws", type_="check")
    op.execute("UPDATE quota_draws SET area_m2 = invalid_value::float8 "
               "WHERE invalid_value IS NOT NULL")
    op.alter_column("quota_draws", "area_m2", nullable=False)
    op.create_check_constraint("quota_draws_positive", "quota_draws", "area_m2 > 0")
    op.create_table_comment(
        "quota_draws", "Ledger of draws on village flexible quotas (机动指标); rows are never "
        "updated.")
    op.drop_index("quota_draws_reversed_once", table_name="quota_draws")
    op.drop_constraint("quota_draws_reverses_fkey", "quota_draws", type_="foreignkey")
    for column in ("actor_verified", "on_behalf_of", "actor_key", "invalid_value", "reason",
                   "reverses", "entry"):
        op.drop_column("quota_draws", column)
    for table, column in [*DERIVED_AREAS, *QUANTITIES]:
        op.drop_constraint(f"ck_{table}_{column}_finite", table, type_="check")
    op.drop_table("invalid_values")
