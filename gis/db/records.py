"""The application's own tables: the import audit, API keys, siting runs and their
re-evaluations, the quota ledger, quarantined values and background jobs; the reconciliation
and monitoring work lists are :mod:`gis.db.worklist_records` (imported here, so every table
of the application is registered by importing this module).

The schema is owned by Alembic migrations (``gis/migrations``); these definitions are what
the code queries with, and ``tests/test_catalogue.py`` checks that the migrated database and
the metadata agree, so the two cannot drift apart silently.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from gis.db.metadata import STORAGE_SRID, actor_columns, metadata
from gis.db.worklist_records import (  # noqa: F401 - the work lists' tables, registered here too
    EXIT_PLAN_STATUSES,
    monitor_events,
    monitor_exit_plans,
    monitor_field_results,
    monitor_patches,
    monitor_runs,
    recon_events,
    recon_field_results,
    recon_findings,
    recon_parcels,
    recon_runs,
    recon_versions,
)
from gis.rules.models import VERDICT_ORDER

invalid_values = sa.Table(
    "invalid_values",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("row_key", sa.Text, nullable=False),
    sa.Column("column_name", sa.Text, nullable=False),
    sa.Column("original", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("found_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    comment="Values found non-finite or out of range by migration 0009, with what was "
            "done; listed by `gis db invalid`.",
)

layer_loads = sa.Table(
    "layer_loads",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("layer_id", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("source_layer", sa.Text),
    sa.Column("source_crs", sa.Text),
    sa.Column("encoding", sa.Text),
    sa.Column("features", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("unchanged", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Integer, nullable=False),
    sa.Column("repaired", sa.Integer, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    comment="One row per successful `gis load`: the audit trail of imports.",
)


api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False, unique=True),
    sa.Column("key_hash", sa.Text, nullable=False),
    sa.Column("rate_limit_per_minute", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("role IN ('planner', 'forestry', 'admin')", name="api_keys_role"),
    sa.Index("api_keys_active_name", "name", unique=True,
             postgresql_where=sa.text("revoked_at IS NULL")),
    comment="API keys (SHA-256 of the secret only); see gis.auth.",
)

siting_runs = sa.Table(
    "siting_runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("profile_version", sa.Text, nullable=False),
    sa.Column("activity", sa.Text, nullable=False),
    sa.Column("new_construction_land", sa.Boolean, nullable=False),
    sa.Column("temporary", sa.Boolean, nullable=False),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("requested_by", sa.Text),
    sa.Column("actor_key", sa.Text),
    sa.Column("on_behalf_of", sa.Text),
    sa.Column("inputs", JSONB, nullable=False),
    sa.Column("result", JSONB, nullable=False),
    sa.Column("footprint", Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False),
              nullable=False),
    # Migration 0013: the project as the application states it, the control-line versions
    # the overlay read, and the run a re-run repeats.
    sa.Column("project_code", sa.Text,
              comment="项目代码: the project's code on the investment approval platform"),
    sa.Column("project_name", sa.Text, comment="项目名称"),
    sa.Column("applicant", sa.Text, comment="申请单位: who applies for the land"),
    sa.Column("purpose", sa.Text, comment="建设用途 / 项目用途, as the application states it"),
    sa.Column("control_line_versions", JSONB(none_as_null=True),
              comment="The control-line versions the overlay read: [{layer, version, basis, "
                      "document_no, approved_by, effective_date}]"),
    sa.Column("rerun_of", sa.Text, sa.ForeignKey("siting_runs.id",
                                                 name="siting_runs_rerun_of_fkey"),
              comment="The run this one repeats against the data current when it ran"),
    sa.CheckConstraint("control_line_versions IS NULL "
                       "OR jsonb_typeof(control_line_versions) = 'array'",
                       name="siting_runs_control_line_versions_array"),
    sa.Index("siting_runs_created_at", "created_at"),
    sa.Index("siting_runs_footprint_gist", "footprint", postgresql_using="gist"),
    sa.Index("siting_runs_project", "project_code", "created_at",
             postgresql_where=sa.text("project_code IS NOT NULL")),
    sa.Index("siting_runs_verdict", "verdict", "created_at"),
    sa.Index("siting_runs_rerun_of", "rerun_of",
             postgresql_where=sa.text("rerun_of IS NOT NULL")),
    comment="Audit trail of siting checks: never updated, never deleted by the app.",
)


quota_draws = sa.Table(
    "quota_draws",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("village_code", sa.Text, nullable=False),
    sa.Column("project_code", sa.Text, nullable=False),
    sa.Column("project_name", sa.Text),
    #: Positive for a draw, the negated draw for a reversal; NULL only for an invalid row.
    sa.Column("area_m2", sa.Float),
    sa.Column("draw_date", sa.Date, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    #: The purpose in words: what an ``other`` draw was for (the rule's 等, 000:856-858),
    #: optional with a named purpose (migration 0016).
    sa.Column("purpose_note", sa.Text, comment=(
        "具体用途: what an 'other' draw was for (required then), optional otherwise")),
    sa.Column("recorded_by", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("imported", sa.Boolean, server_default=sa.false(), nullable=False),
    sa.Column("entry", sa.Text, server_default="draw", nullable=False),
    sa.Column("reverses", sa.BigInteger, sa.ForeignKey("quota_draws.id",
                                                       name="quota_draws_reverses_fkey")),
    sa.Column("reason", sa.Text),
    #: The non-finite value a row held before migration 0009 (then area_m2 is NULL).
    sa.Column("invalid_value", sa.Text),
    *actor_columns(),
    sa.CheckConstraint("entry IN ('draw', 'reversal')", name="quota_draws_entry"),
    sa.CheckConstraint(
        "(invalid_value IS NULL AND entry = 'draw' AND reverses IS NULL "
        " AND area_m2 > 0 AND area_m2 < 'Infinity'::float8)"
        " OR (invalid_value IS NULL AND entry = 'reversal' AND reverses IS NOT NULL "
        " AND reason IS NOT NULL AND area_m2 <= 0 AND area_m2 > '-Infinity'::float8)"
        " OR (invalid_value IS NOT NULL AND entry = 'draw' AND area_m2 IS NULL)",
        name="ck_quota_draws_area_m2_finite"),
    sa.CheckConstraint("purpose IN ('key_industry', 'major_project', 'ecological_restoration', "
                       "'other')", name="quota_draws_purpose"),
    # coalesce: a NULL note would make the test NULL, which a CHECK lets through.
    sa.CheckConstraint("purpose <> 'other' OR coalesce(length(btrim(purpose_note)), 0) > 0",
                       name="quota_draws_other_stated"),
    sa.CheckConstraint("length(purpose_note) <= 200", name="quota_draws_purpose_note_length"),
    sa.Index("quota_draws_village", "village_code"),
    sa.Index("quota_draws_reversed_once", "reverses", unique=True,
             postgresql_where=sa.text("reverses IS NOT NULL")),
    comment="Ledger of draws on village flexible quotas (机动指标); rows are never updated: "
            "a wrong draw is undone by a reversal entry.",
)


#: Job states; the last three are final.
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("params", JSONB, nullable=False),
    # The owner: the authenticated actor who started it (a retry keeps the owner).
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_key", sa.Text),
    sa.Column("on_behalf_of", sa.Text),
    # Who created this row: the owner, or whoever asked for the retry.
    sa.Column("submitted_by", sa.Text, nullable=False),
    sa.Column("submitted_by_key", sa.Text),
    sa.Column("status", sa.Text, server_default="queued", nullable=False),
    sa.Column("stage", sa.Text),
    sa.Column("done", sa.BigInteger, server_default="0", nullable=False),
    sa.Column("total", sa.BigInteger),
    sa.Column("result", JSONB),
    sa.Column("error", JSONB),
    sa.Column("cancel_requested", sa.Boolean, server_default=sa.false(), nullable=False),
    sa.Column("cancelled_by", sa.Text),
    sa.Column("cancelled_by_key", sa.Text),
    sa.Column("attempt", sa.Integer, server_default="1", nullable=False),
    sa.Column("retry_of", sa.Text, sa.ForeignKey("jobs.id", name="jobs_retry_of_fkey")),
    sa.Column("runner", sa.Integer,
              comment="Advisory-lock key of the process that runs the job; a job whose "
                      "runner holds no lock was left by a process that is gone"),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.CheckConstraint("id ~ '^[0-9a-f]{32}$'", name="jobs_id_hex"),
    sa.CheckConstraint(sa.column("status").in_(JOB_STATUSES), name="jobs_status"),
    sa.CheckConstraint("jsonb_typeof(params) = 'object'", name="jobs_params_object"),
    sa.CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name="jobs_progress"),
    sa.CheckConstraint("attempt >= 1 AND (retry_of IS NULL) = (attempt = 1)",
                       name="jobs_attempt"),
    sa.CheckConstraint("(status IN ('succeeded', 'failed', 'cancelled')) "
                       "= (finished_at IS NOT NULL)", name="jobs_finished"),
    sa.CheckConstraint("(status <> 'succeeded' OR result IS NOT NULL) "
                       "AND (status <> 'failed' OR error IS NOT NULL)", name="jobs_outcome"),
    sa.Index("jobs_owner", "actor_key", "created_at"),
    sa.Index("jobs_created", "created_at"),
    sa.Index("jobs_active", "runner",
             postgresql_where=sa.text("status IN ('queued', 'running')")),
    sa.Index("jobs_retried_once", "retry_of", unique=True,
             postgresql_where=sa.text("retry_of IS NOT NULL")),
    comment="Background jobs (gis.jobs): long analyses run outside the request, their "
            "progress, result or error; a retry is a new row (retry_of).",
)

siting_reevaluations = sa.Table(
    "siting_reevaluations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("batch", sa.Text, nullable=False,
              comment="One id per re-evaluation pass: the rows one command or request made"),
    sa.Column("run_id", sa.Text, sa.ForeignKey("siting_runs.id",
                                               name="siting_reevaluations_run_fkey"),
              nullable=False),
    sa.Column("evaluated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
              nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("profile_version", sa.Text, nullable=False,
              comment="Version of the profile the run was judged under this time"),
    sa.Column("previous_verdict", sa.Text, nullable=False,
              comment="The verdict before: the latest re-evaluation's, else the original"),
    sa.Column("previous_path", sa.Text),
    sa.Column("verdict", sa.Text, nullable=False),
    sa.Column("approval_path", sa.Text),
    sa.Column("result", JSONB, nullable=False,
              comment="Rule findings, approval path and rule warnings under the current rules"),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_key", sa.Text),
    sa.CheckConstraint("batch ~ '^[0-9a-f]{32}$'", name="siting_reevaluations_batch_hex"),
    *(sa.CheckConstraint(sa.column(c).in_(VERDICT_ORDER), name=f"siting_reevaluations_{c}")
      for c in ("verdict", "previous_verdict")),
    sa.CheckConstraint("verdict <> previous_verdict "
                       "OR approval_path IS DISTINCT FROM previous_path",
                       name="siting_reevaluations_changed"),
    sa.Index("siting_reevaluations_run", "run_id", "id"),
    sa.Index("siting_reevaluations_batch", "batch"),
    comment="Stored siting runs whose verdict or approval path changed when judged again "
            "under later rules (from their stored overlaps); append-only, and the runs "
            "themselves are never changed.",
)
