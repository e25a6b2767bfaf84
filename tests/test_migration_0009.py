"""Migration 0009 on a database that already holds what the checks now refuse: it must not
fail, must say what it found and did, and must leave the ledger's history true.

A separate database in the session's cluster, brought to revision 0008 (before the checks),
filled with a NaN quota draw, a NaN quota, an infinite stored area and history rows whose
actor was typed by a client; then upgraded to head.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gis.analysis.reserve import invalid_entries, ledger, reverse, village_report
from gis.db.migrate import current_revision, head_revision, upgrade
from gis.db.quarantine import list_invalid_values
from gis.identity import Actor

GIS = Path(sys.executable).with_name("gis")
SQUARE = "ST_Multi(ST_GeomFromText('POLYGON((106.3 39.0, 106.31 39.0, 106.31 39.01, " \
         "106.3 39.01, 106.3 39.0))', 4490))"


@pytest.fixture(scope="module")
def old_db(engine: Engine) -> Iterator[Engine]:
    name = f"onemap_mig_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(engine.url).set(database=name)
    db = create_engine(url)
    with db.begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
    upgrade(db, "0008")
    with db.begin() as conn:
        conn.execute(text(
            "INSERT INTO village_plans (village_code, village_name, township_name, "
            "planned_construction_m2, flexible_quota_m2, geom, area_m2) VALUES "
            f"('640202100201', '星光村', '星海镇', 120000, 6000, {SQUARE}, 1000000), "
            f"('640202100202', '隆惠村', '星海镇', 100000, 'NaN', {SQUARE}, 'Infinity')"))
        conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose, "
            "recorded_by, imported) VALUES "
            "('640202100201', 'P-OK', 1000, '2025-01-01', 'key_industry', NULL, false), "
            "('640202100201', 'P-NAN', 'NaN', '2025-02-01', 'key_industry', NULL, false), "
            "('640202100201', 'P-OLD', 500, '2024-01-01', 'major_project', 'import', true)"))
        conn.execute(text(
            "INSERT INTO recon_runs (division, profile, profile_version) "
            "VALUES ('640202', 'dawukou', '1')"))
        conn.execute(text(
            "INSERT INTO recon_findings (kind, division, parcel_keys, parcels, area_m2, geom, "
            f"first_run, last_run) VALUES ('missing_owner', '640202', 'k', '[]', 10, {SQUARE}, "
            "1, 1)"))
        conn.execute(text(
            "INSERT INTO recon_events (finding_id, actor, action) "
            "VALUES (1, '局长 王某', 'decided')"))
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def test_upgrade_reaches_head_without_failing(old_db: Engine) -> None:
    assert current_revision(old_db) == head_revision()


def test_invalid_values_are_listed_with_what_was_done(old_db: Engine) -> None:
    found = {(v.table_name, v.column_name, v.original): v.action
             for v in list_invalid_values(old_db)}
    assert found[("village_plans", "flexible_quota_m2", "NaN")] == "set to NULL (unknown)"
    assert found[("village_plans", "area_m2", "Infinity")] == "recomputed from the geometry"
    assert "excluded from the balance" in found[("quota_draws", "area_m2", "NaN")]
    with old_db.connect() as conn:
        area = conn.execute(text("SELECT area_m2 FROM village_plans "
                                 "WHERE village_code = '640202100202'")).scalar_one()
    assert 900_000 < area < 1_000_000  # 0.01° x 0.01° at 39°N, from the geometry


def test_nan_draw_is_kept_flagged_and_out_of_the_balance(old_db: Engine) -> None:
    rows = {r.project_code: r for r in ledger(old_db, "640202100201")}
    assert rows["P-NAN"].invalid_value == "NaN" and rows["P-NAN"].area_m2 is None
    report = {r.village_code: r for r in village_report(old_db, "640202")}
    star = report["640202100201"]
    assert star.drawn_m2 == pytest.approx(1500) and star.remaining_m2 == pytest.approx(4500)
    assert star.invalid_entries == 1 and not star.overdrawn
    # the NaN quota now reads as unknown: no quota, not compliant, nothing can be drawn
    assert report["640202100202"].quota_m2 == 0 and not report["640202100202"].compliant
    assert [r.project_code for r in invalid_entries(old_db, "640202")] == ["P-NAN"]


def test_invalid_draw_can_be_reversed_with_who_and_why(old_db: Engine) -> None:
    nan = next(r for r in ledger(old_db, "640202100201") if r.project_code == "P-NAN")
    undo = reverse(old_db, nan.id, "迁移发现面积为NaN，经核实该项目未使用指标",
                   Actor("规划科 张工", "abcd1234"))
    assert undo.entry == "reversal" and undo.area_m2 == 0 and undo.reverses == nan.id
    again = next(r for r in ledger(old_db, "640202100201") if r.id == nan.id)
    assert again.reversed_by == undo.id


def test_history_typed_by_clients_is_marked_unverified(old_db: Engine) -> None:
    with old_db.connect() as conn:
        event = conn.execute(text("SELECT actor, actor_verified FROM recon_events")).one()
        draws = dict(conn.execute(text(
            "SELECT project_code, actor_verified FROM quota_draws WHERE entry = 'draw'")).all())
    assert event == ("局长 王某", False)
    assert draws == {"P-OK": False, "P-NAN": False, "P-OLD": True}


def test_cli_lists_them(old_db: Engine) -> None:
    env = {**os.environ, "GIS_DATABASE_URL": old_db.url.render_as_string(hide_password=False),
           "COLUMNS": "200"}
    listed = subprocess.run([str(GIS), "reserve", "ledger", "--invalid", "--division",
                             "640202", "--json"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [r["project_code"] for r in json.loads(listed.stdout)] == ["P-NAN"]
    values = subprocess.run([str(GIS), "db", "invalid"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert values.returncode == 0 and "flexible_quota_m2" in values.stdout, values.stderr
