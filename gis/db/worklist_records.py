"""The work lists' tables: reconciliation (``recon_*``) and red-line monitoring
(``monitor_*``), their append-only histories, the field inspections' results and the exit
plans of legacy activities (003:235).

Part of the application's records (:mod:`gis.db.records` re-exports every name); the schema
is owned by the migrations (0004, 0005, 0007, 0009, 0012, 0015), which
``tests/test_catalogue.py`` compares with these definitions.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from gis.db.metadata import STORAGE_SRID, actor_columns, finite_check, metadata

#: The states of a legacy activity's exit plan (``monitor_exit_plans.status``).
EXIT_PLAN_STATUSES = ("active", "completed", "superseded")


def event_version() -> sa.Column:
    """The item's version after an event (migration 0012): which change a conflict was
    against. NULL for events written before it, whose versions were not recorded."""
    return sa.Column("version", sa.Integer,
                     comment="The item's version after this event; NULL for events written "
                             "before migration 0012")


def event_table(name: str, item: str, items: str, comment: str) -> sa.Table:
    """A work list's append-only history: one row per change of an item (``item`` refers to
    ``items.id``) with who made it, the reason and the item's version after it. Both work
    lists share the shape, so the transitions are written once (gis.analysis.worklist)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(item, sa.BigInteger, sa.ForeignKey(f"{items}.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"),
                  nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("details", JSONB),
        sa.Column("reason", sa.Text),
        *actor_columns(),
        event_version(),
        sa.Index(f"{name}_{item.removesuffix('_id')}", item, "id"),
        comment=comment,
    )


recon_runs = sa.Table(
    "recon_runs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("division", sa.Text, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("profile_version", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("summary", JSONB),
)

recon_findings = sa.Table(
    "recon_findings",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, server_default="open", nullable=False),
    sa.Column("decision", sa.Text),
    sa.Column("division", sa.Text, nullable=False),
    sa.Column("township", sa.Text),
    sa.Column("village", sa.Text),
    sa.Column("parcel_keys", sa.Text, nullable=False),
    sa.Column("parcels", JSONB, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
              nullable=False),
    sa.Column("version", sa.Integer, server_default="1", nullable=False),
    sa.Column("first_run", sa.BigInteger, sa.ForeignKey("recon_runs.id"), nullable=False),
    sa.Column("last_run", sa.BigInteger, sa.ForeignKey("recon_runs.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.CheckConstraint("status IN ('open', 'field_check', 'decided', 'applied', 'closed')",
                       name="recon_findings_status"),
    finite_check("recon_findings", "area_m2"),
    sa.Index("recon_findings_geom_gist", "geom", postgresql_using="gist"),
    sa.Index("recon_findings_division", "division", "status", "kind"),
    comment="The reconciliation work list (台账): one row per finding, decisions attached.",
)

recon_events = event_table("recon_events", "finding_id", "recon_findings",
                           "Append-only history of every change to a finding.")


recon_versions = sa.Table(
    "recon_versions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("division", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("summary", JSONB),
    *actor_columns(),
    comment="Each apply of decisions makes a new version; the originals are never edited.",
)

recon_parcels = sa.Table(
    "recon_parcels",
    metadata,
    sa.Column("version_id", sa.BigInteger, sa.ForeignKey("recon_versions.id"),
              primary_key=True),
    sa.Column("layer", sa.Text, primary_key=True),
    sa.Column("parcel_key", sa.Text, primary_key=True),
    sa.Column("attributes", JSONB, nullable=False),
    sa.Column("township", sa.Text),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
              nullable=False),
    finite_check("recon_parcels", "area_m2"),
    sa.Index("recon_parcels_geom_gist", "geom", postgresql_using="gist"),
)


#: What a division's latest detection read (migration 0015): the run, fingerprints of the
#: profile, statements and administrative divisions, and every parcel's row version; the
#: incremental re-detection (gis.analysis.forest_grass_changes) compares against them.
recon_detection_state = sa.Table(
    "recon_detection_state",
    metadata,
    sa.Column("division", sa.Text, primary_key=True),
    sa.Column("run_id", sa.BigInteger, sa.ForeignKey("recon_runs.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("profile_fingerprint", sa.Text, nullable=False),
    sa.Column("admin_fingerprint", sa.Text, nullable=False),
    sa.Column("event_mark", sa.BigInteger, nullable=False),
    comment="Per division: the detection run the parcel state belongs to, and what else its "
            "scan depended on (issue 24, incremental re-detection).",
)

recon_parcel_state = sa.Table(
    "recon_parcel_state",
    metadata,
    sa.Column("division", sa.Text,
              sa.ForeignKey("recon_detection_state.division", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("layer", sa.Text, primary_key=True),
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("row_version", sa.BigInteger, nullable=False,
              comment="The row's xmin when the detection read it"),
    comment="The parcels a division's latest detection read, with their row versions.",
)


monitor_runs = sa.Table(
    "monitor_runs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("profile_version", sa.Text, nullable=False),
    sa.Column("raster_a", sa.Text, nullable=False),
    sa.Column("raster_b", sa.Text, nullable=False),
    sa.Column("date_a", sa.Text, nullable=False),
    sa.Column("date_b", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    *actor_columns(),
    sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("grid", JSONB, nullable=False),
    sa.Column("summary", JSONB),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
              nullable=False),
    sa.Index("monitor_runs_geom_gist", "geom", postgresql_using="gist"),
    comment="One row per land-cover comparison; geom is the compared extent.",
)

monitor_patches = sa.Table(
    "monitor_patches",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("layer", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, server_default="open", nullable=False),
    sa.Column("decision", sa.Text),
    sa.Column("feature_id", sa.BigInteger),
    sa.Column("feature_key", sa.Text, nullable=False),
    sa.Column("feature_name", sa.Text),
    sa.Column("zone", sa.Text),
    sa.Column("division", sa.Text),
    sa.Column("township", sa.Text),
    sa.Column("village", sa.Text),
    sa.Column("village_code", sa.Text),
    sa.Column("village_distance_m", sa.Float),
    sa.Column("date_a", sa.Text, nullable=False),
    sa.Column("date_b", sa.Text, nullable=False),
    sa.Column("transitions", JSONB, nullable=False),
    sa.Column("pixels", sa.Integer, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
              nullable=False),
    sa.Column("version", sa.Integer, server_default="1", nullable=False),
    sa.Column("first_run", sa.BigInteger, sa.ForeignKey("monitor_runs.id"), nullable=False),
    sa.Column("last_run", sa.BigInteger, sa.ForeignKey("monitor_runs.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.CheckConstraint("status IN ('open', 'field_check', 'decided', 'closed')",
                       name="monitor_patches_status"),
    sa.CheckConstraint("layer IN ('eco_redline', 'basic_farmland')",
                       name="monitor_patches_layer"),
    finite_check("monitor_patches", "area_m2"),
    finite_check("monitor_patches", "village_distance_m"),
    sa.Index("monitor_patches_geom_gist", "geom", postgresql_using="gist"),
    sa.Index("monitor_patches_period", "date_a", "date_b", "status"),
    comment="Suspected new construction or bare land in the red line or permanent basic "
            "farmland: the field-inspection work list, decisions attached.",
)

monitor_events = event_table("monitor_events", "patch_id", "monitor_patches",
                             "Append-only history of every change to a monitoring patch.")


def field_results(name: str, owner: str, items: str) -> sa.Table:
    """The field inspections' results brought back from a field-check package, one row per
    item and import (``gis.analysis.worklist_field``); never updated."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(owner, sa.BigInteger, sa.ForeignKey(f"{items}.id"), nullable=False),
        sa.Column("batch", sa.Text, nullable=False,
                  comment="One id per imported file: the rows it brought in together"),
        sa.Column("source", sa.Text, nullable=False, comment="The imported file's name"),
        sa.Column("result", sa.Text, nullable=False,
                  comment="What the surveyor found: one of the work list's decisions"),
        sa.Column("surveyor", sa.Text, nullable=False),
        sa.Column("survey_date", sa.Date, nullable=False),
        sa.Column("remarks", sa.Text),
        sa.Column("item_version", sa.Integer, nullable=False,
                  comment="The version the package was made from (checked on import)"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
                  comment="The corrected boundary, when the surveyor redrew it"),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        *actor_columns(),
        sa.Index(f"{name}_item", owner, "id"),
        comment="Field inspection results imported from a field-check package; append-only.",
    )


recon_field_results = field_results("recon_field_results", "finding_id", "recon_findings")
monitor_field_results = field_results("monitor_field_results", "patch_id", "monitor_patches")

monitor_exit_plans = sa.Table(
    "monitor_exit_plans",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("patch_id", sa.BigInteger, sa.ForeignKey("monitor_patches.id"), nullable=False),
    sa.Column("status", sa.Text, server_default="active", nullable=False),
    sa.Column("measures", sa.Text, nullable=False, comment="退出措施: how the activity exits"),
    sa.Column("deadline", sa.Date, nullable=False, comment="退出时限"),
    sa.Column("responsible_unit", sa.Text, nullable=False,
              comment="The local government responsible (属地人民政府)"),
    sa.Column("compensation", sa.Text, nullable=False, comment="补偿安置 duties"),
    sa.Column("restoration", sa.Text, nullable=False, comment="生态修复 duties"),
    sa.Column("rule_id", sa.Text, nullable=False,
              comment="The profile rule the plan rests on, as it was cited when recorded"),
    sa.Column("citation", JSONB, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("profile_version", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    *actor_columns(),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_by", sa.Text),
    sa.Column("closed_by_key", sa.Text),
    sa.Column("closed_reason", sa.Text),
    sa.CheckConstraint(sa.column("status").in_(EXIT_PLAN_STATUSES),
                       name="monitor_exit_plans_status"),
    sa.CheckConstraint("(status = 'active') = (closed_at IS NULL)",
                       name="monitor_exit_plans_closed"),
    sa.Index("monitor_exit_plans_active", "patch_id", unique=True,
             postgresql_where=sa.text("status = 'active'")),
    sa.Index("monitor_exit_plans_deadline", "deadline",
             postgresql_where=sa.text("status = 'active'")),
    comment="Exit plans of legacy activities in the red line (003:235): measures, deadline, "
            "responsible unit, compensation and restoration; one active plan per patch.",
)
