"""Issue 15: the defects that were silently wrong, each through the real entry point (the API
over HTTP on a uvicorn process, the ``gis`` executable in a subprocess, the database itself).

- a NaN (or Infinity, or 1e309) area switched a village's quota off;
- stored siting checks answered anyone who knew the id;
- the history named whoever the client typed, and API draws recorded no one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from gis.auth import issue_key, revoke_key
from gis.identity import os_user

GIS = Path(sys.executable).with_name("gis")
#: A sample village (星光村, Dawukou) with a flexible quota and no draws in the samples.
VILLAGE = "640202100201"
SITING = {"geometry": {"type": "Polygon", "coordinates": [[
    [106.3350, 39.0002], [106.3357, 39.0002], [106.3357, 39.0006], [106.3350, 39.0006],
    [106.3350, 39.0002]]]}, "activity": "LA1", "new_construction_land": True,
    "profile": "dawukou"}


def gis(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GIS), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", "GIS_LANG": "en"})


def village(url: str, code: str = VILLAGE) -> dict:
    rows = httpx.get(f"{url}/api/v1/reserve/villages", params={"division": code[:6]}).json()
    return next(r for r in rows if r["village_code"] == code)


def ledger_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM quota_draws")).scalar_one()


# ------------------------------------------------------------------ non-finite numbers
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309",
                                     "0", "-5", "1e12"])
def test_draw_area_must_be_finite_and_in_range(live_server, sample_db, role_keys,
                                               literal) -> None:
    before = ledger_count(sample_db)
    body = '{"project_code": "P-NAN", "purpose": "key_industry", "area_m2": ' + literal + "}"
    answer = httpx.post(f"{live_server}/api/v1/reserve/villages/{VILLAGE}/draws",
                        content=body, headers={**role_keys["planner"],
                                               "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["loc"][-1] == "area_m2"
    assert ledger_count(sample_db) == before


def test_quota_still_binds_after_a_nan_attempt(live_server, sample_db, role_keys) -> None:
    """The audit's sequence: NaN draw, then a 1e9 m² draw against a 6,000 m² quota."""
    url = f"{live_server}/api/v1/reserve/villages/{VILLAGE}/draws"
    headers = {**role_keys["planner"], "Content-Type": "application/json"}
    nan = httpx.post(url, headers=headers, content=(
        '{"project_code": "P-1", "purpose": "key_industry", "area_m2": NaN}'))
    assert nan.status_code == 422
    huge = httpx.post(url, headers=headers, json={
        "project_code": "P-2", "purpose": "key_industry", "area_m2": 1e9})
    assert huge.status_code == 422 and "不予登记" in huge.json()["detail"]
    state = village(live_server)
    assert state["overdrawn"] is False and state["drawn_m2"] == 0
    assert state["remaining_m2"] == pytest.approx(state["quota_m2"])


def test_database_refuses_non_finite_numbers(sample_db) -> None:
    """The last line: CHECK constraints, whatever path a value takes."""
    statements = [
        "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose) "
        f"VALUES ('{VILLAGE}', 'X', 'NaN', current_date, 'key_industry')",
        "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose) "
        f"VALUES ('{VILLAGE}', 'X', 'Infinity', current_date, 'key_industry')",
        f"UPDATE village_plans SET flexible_quota_m2 = 'NaN' WHERE village_code = '{VILLAGE}'",
        f"UPDATE village_plans SET flexible_quota_m2 = -1 WHERE village_code = '{VILLAGE}'",
        "UPDATE eco_redline SET area_m2 = 'Infinity'",
        "UPDATE survey_patches SET patch_area_m2 = 'NaN'",
    ]
    for sql in statements:
        with pytest.raises(IntegrityError, match="finite"), sample_db.begin() as conn:
            conn.execute(text(sql))


def test_every_float_column_has_a_finite_check(engine) -> None:
    """No area, share or quota column (every double-precision column of the schema) without
    a CHECK that refuses NaN and infinities: a new column without one fails here."""
    with engine.connect() as conn:
        columns = conn.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'double precision' "
            "AND table_name NOT IN ('spatial_ref_sys')")).all()
        checks = conn.execute(text(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'c'")).all()
    assert columns
    missing = [(t, c) for t, c in columns
               if not any(rel == t and c in d and "Infinity" in d for rel, d in checks)]
    assert missing == []


# ------------------------------------------------------------------ stored siting runs
@pytest.fixture(scope="module")
def stored_run(live_server, role_keys) -> str:
    answer = httpx.post(f"{live_server}/api/v1/analysis/siting", json=SITING,
                        headers=role_keys["planner"], timeout=60)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_stored_runs_need_a_planner_or_admin_key(live_server, sample_db, role_keys,
                                                stored_run) -> None:
    revoked = issue_key(sample_db, "trust-revoked", "planner")
    revoke_key(sample_db, "trust-revoked")
    base = f"{live_server}/api/v1/analysis/siting/{stored_run}"
    for suffix in ("", "/report.html", "/report.pdf"):
        for headers, status in [({}, 401), ({"X-API-Key": revoked}, 401),
                                ({"X-API-Key": "om_garbage_key"}, 401),
                                ({"X-API-Key": "not-a-key-at-all"}, 401),
                                (role_keys["forestry"], 403)]:
            answer = httpx.get(base + suffix, headers=headers, timeout=60)
            assert answer.status_code == status, (suffix, headers, answer.status_code)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "贺兰山" not in answer.text and "coordinates" not in answer.text
        for role in ("planner", "admin"):
            answer = httpx.get(base + suffix, headers=role_keys[role], timeout=60)
            assert answer.status_code == 200, (suffix, role, answer.text[:200])


def test_stored_run_names_who_ran_it(live_server, role_keys, stored_run) -> None:
    run = httpx.get(f"{live_server}/api/v1/analysis/siting/{stored_run}",
                    headers=role_keys["admin"]).json()
    assert run["requested_by"] == "test-planner" and run["on_behalf_of"] is None


# ------------------------------------------------------------------ identity
def test_reconciliation_actor_is_the_key_holder(live_server, sample_db, role_keys) -> None:
    headers = role_keys["forestry"]
    api = f"{live_server}/api/v1/reconciliation"
    run = httpx.post(f"{api}/runs", json={"division": "640202", "actor": "局长 王某"},
                     headers=headers, timeout=120)
    assert run.status_code == 201, run.text
    finding = httpx.get(f"{api}/findings", params={"division": "640202"},
                        headers=headers).json()["items"][0]
    forged = httpx.post(f"{api}/findings/{finding['id']}/decision", headers=headers, json={
        "decision": "no_change", "actor": "局长 王某", "reason": "核实无误",
        "version": finding["version"]})
    assert forged.status_code == 200, forged.text
    history = httpx.get(f"{api}/findings/{finding['id']}", headers=headers).json()["history"]
    assert [(e["action"], e["actor"], e["on_behalf_of"], e["actor_verified"])
            for e in history] == [("detected", "test-forestry", "局长 王某", True),
                                  ("decided", "test-forestry", "局长 王某", True)]
    with sample_db.connect() as conn:  # the key's id is kept for the audit
        keys = conn.execute(text("SELECT DISTINCT actor_key FROM recon_events")).scalars().all()
    assert len(keys) == 1 and keys[0] is not None


def test_draw_records_the_key_holder(live_server, role_keys) -> None:
    url = f"{live_server}/api/v1/reserve/villages/{VILLAGE}/draws"
    made = httpx.post(url, headers=role_keys["planner"], json={
        "project_code": "2026-ID-01", "purpose": "key_industry", "area_m2": 100,
        "on_behalf_of": "规划科 科长"})
    assert made.status_code == 201, made.text
    assert made.json()["recorded_by"] == "test-planner"
    assert made.json()["on_behalf_of"] == "规划科 科长"
    assert made.json()["actor_verified"] is True


def test_reversal_entry_undoes_a_wrong_draw(live_server, role_keys) -> None:
    base = f"{live_server}/api/v1/reserve/villages/{VILLAGE}"
    planner = role_keys["planner"]
    before = village(live_server)["remaining_m2"]
    wrong = httpx.post(f"{base}/draws", headers=planner, json={
        "project_code": "2026-TYPO", "purpose": "major_project", "area_m2": 3000}).json()
    assert village(live_server)["remaining_m2"] == pytest.approx(before - 3000)
    assert httpx.post(f"{base}/draws/{wrong['id']}/reversal", headers=planner,
                      json={"reason": " "}).status_code == 422
    assert httpx.post(f"{base}/draws/{wrong['id']}/reversal", headers=role_keys["forestry"],
                      json={"reason": "x"}).status_code == 403
    assert httpx.post(f"{live_server}/api/v1/reserve/villages/640202100202/draws/"
                      f"{wrong['id']}/reversal", headers=planner,
                      json={"reason": "x"}).status_code == 404  # another village's path
    undo = httpx.post(f"{base}/draws/{wrong['id']}/reversal", headers=planner,
                      json={"reason": "面积录入错误，应为300平方米"})
    assert undo.status_code == 201, undo.text
    entry = undo.json()
    assert entry["entry"] == "reversal" and entry["reverses"] == wrong["id"]
    assert entry["area_m2"] == -3000 and entry["recorded_by"] == "test-planner"
    assert village(live_server)["remaining_m2"] == pytest.approx(before)
    again = httpx.post(f"{base}/draws/{wrong['id']}/reversal", headers=planner,
                       json={"reason": "again"})
    assert again.status_code == 409
    of_reversal = httpx.post(f"{base}/draws/{entry['id']}/reversal", headers=planner,
                             json={"reason": "x"})
    assert of_reversal.status_code == 422
    rows = httpx.get(f"{base}/ledger").json()
    by_id = {r["id"]: r for r in rows}
    assert by_id[wrong["id"]]["reversed_by"] == entry["id"]  # the draw itself is unchanged
    assert by_id[wrong["id"]]["area_m2"] == 3000


def test_cli_records_the_os_user(sample_db) -> None:
    drawn = gis("reserve", "draw", VILLAGE, "--project", "2026-CLI-01", "--area-m2", "10",
                "--purpose", "key_industry", "--on-behalf-of", "张工", "--json")
    assert drawn.returncode == 0, drawn.stderr
    row = json.loads(drawn.stdout)
    assert row["recorded_by"] == f"cli:{os_user()}" and row["on_behalf_of"] == "张工"
    reversed_ = gis("reserve", "reverse", str(row["id"]), "--reason", "重复录入", "--json")
    assert reversed_.returncode == 0, reversed_.stderr
    assert json.loads(reversed_.stdout)["recorded_by"] == f"cli:{os_user()}"


@pytest.mark.parametrize("bad", [float("inf"), -1.0])
def test_load_refuses_non_finite_or_negative_quota(sample_db, tmp_path: Path, bad) -> None:
    """A file whose quota is Infinity (or a -1 "unknown" sentinel) is refused whole, naming
    the row, and the layer stays as it was."""
    import geopandas as gpd
    from shapely.geometry import box

    from gis.testing import table_state

    path = tmp_path / "villages.gpkg"
    gpd.GeoDataFrame({
        "village_code": ["640202109901", "640202109902"], "village_name": ["甲村", "乙村"],
        "township_name": ["星海镇", "星海镇"], "planned_construction_m2": [100000.0, 80000.0],
        "flexible_quota_m2": [5000.0, bad]},
        geometry=[box(106.30, 39.00, 106.31, 39.01), box(106.31, 39.00, 106.32, 39.01)],
        crs="EPSG:4490").to_file(path)
    before = table_state(sample_db, "village_plans")
    proc = gis("load", str(path), "--layer", "village_plans")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "flexible_quota_m2" in proc.stderr and "finite" in proc.stderr
    assert "[2]" in proc.stderr  # the failing row
    assert table_state(sample_db, "village_plans") == before
