"""The history of siting checks over the API and the CLI: every run keeps the project, who
ran it (from the key) and when; the listing filters by project, text, verdict and Beijing
days for planners only; a re-run checks the stored footprint against the current data, and
the comparison names what changed."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import text

from api.app import create_app
from gis.localtime import BEIJING
from gis.units import geodesic_area
from tests.test_cli_usage import run_gis

GENERAL_FOOT = box(106.23, 39.005, 106.24, 39.01)   # in the red line's general zone
OPEN_FOOT = box(106.50, 39.10, 106.51, 39.11)        # on no control line
CODE = "2025-640202-48-01-000042"


@pytest.fixture(scope="module")
def client(settings, layers, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def _post(client: TestClient, geom, **kw):
    body = {"geometry": mapping(geom), "crs": "CRS84", "activity": "NMP3",
            "new_construction_land": True, "profile": "dawukou", **kw}
    response = client.post("/api/v1/analysis/siting", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def runs(client):
    first = _post(client, GENERAL_FOOT, project_code=CODE, project_name="沟口供水工程",
                  applicant="大武口区水务局", purpose="供水设施")
    other = _post(client, OPEN_FOOT, project_code="2025-640202-48-01-000099",
                  project_name="星海镇道路", applicant="星海镇人民政府", purpose="道路")
    return first, other


def test_a_run_keeps_its_project_and_who_ran_it(client, runs, layers) -> None:
    first, _ = runs
    assert first["project"] == {"project_code": CODE, "project_name": "沟口供水工程",
                                "applicant": "大武口区水务局", "purpose": "供水设施"}
    assert first["requested_by"] == "test-planner"
    with layers.connect() as conn:
        row = conn.execute(text("SELECT project_code, applicant, requested_by, actor_key "
                                "FROM siting_runs WHERE id = :id"), {"id": first["id"]}).one()
    assert row[:3] == (CODE, "大武口区水务局", "test-planner") and row[3]
    again = client.get(f"/api/v1/analysis/siting/{first['id']}").json()
    assert again["project"] == first["project"]


def test_the_listing_filters(client, runs) -> None:
    first, other = runs
    def ids(**params):
        response = client.get("/api/v1/analysis/siting", params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]
    assert ids(project_code=CODE) == [first["id"]]
    assert ids(q="供水") == [first["id"]]
    assert ids(q="星海镇人民") == [other["id"]]
    assert ids(q="100%_") == []  # LIKE characters are matched literally
    assert first["id"] in ids(verdict="justification_required")
    clear = ids(verdict="no_conflict")
    assert other["id"] in clear and first["id"] not in clear
    today = datetime.now(BEIJING).date()
    assert {first["id"], other["id"]} <= set(ids(**{"from": str(today), "to": str(today)}))
    assert ids(**{"to": str(today - timedelta(days=1))}) == []
    page = client.get("/api/v1/analysis/siting", params={"limit": 1}).json()
    assert page["total"] >= 2 and len(page["items"]) == 1
    row = client.get("/api/v1/analysis/siting", params={"project_code": CODE}).json()["items"][0]
    assert row["area_m2"] == pytest.approx(geodesic_area(GENERAL_FOOT).m2, rel=1e-6)
    assert row["project_name"] == "沟口供水工程" and row["activity_zh"]


@pytest.mark.parametrize(("params", "fragment"), [
    ({"verdict": "maybe"}, "verdict"),
    ({"from": "2025-02-01", "to": "2025-01-01"}, "after"),
    ({"from": "yesterday"}, "from"),
    ({"limit": 0}, "limit"),
])
def test_bad_filters_are_problem_details(client, params, fragment) -> None:
    response = client.get("/api/v1/analysis/siting", params=params,
                          headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fragment in json.dumps(response.json())


def test_the_history_is_for_planners(settings, layers, role_keys, runs) -> None:
    with TestClient(create_app(settings)) as anonymous:
        assert anonymous.get("/api/v1/analysis/siting").status_code == 401
        assert anonymous.get("/api/v1/analysis/siting",
                             headers=role_keys["forestry"]).status_code == 403
        assert anonymous.get("/api/v1/analysis/siting",
                             headers=role_keys["admin"]).status_code == 200
        rerun = anonymous.post(f"/api/v1/analysis/siting/{runs[0]['id']}/rerun",
                               headers=role_keys["forestry"])
        assert rerun.status_code == 403


def test_rerun_against_new_data_and_what_changed(client, runs, layers) -> None:
    """The red line is redrawn so the general zone no longer covers the footprint: the
    re-run is a new run naming the old one, and the comparison says the verdict, the
    approval path and the red-line area changed."""
    first, _ = runs
    unchanged = client.post(f"/api/v1/analysis/siting/{first['id']}/rerun")
    assert unchanged.status_code == 201, unchanged.text
    same = client.get("/api/v1/analysis/siting/compare",
                      params={"a": first["id"], "b": unchanged.json()["id"]}).json()
    assert same["changed"] is False and same["footprint_difference_m2"] == 0
    with layers.begin() as conn:
        conn.execute(text("UPDATE eco_redline SET geom = ST_Multi(ST_MakeEnvelope("
                          "106.22, 39.00, 106.23, 39.02, 4490)) WHERE redline_code = 'HX-002'"))
    try:
        again = client.post(f"/api/v1/analysis/siting/{first['id']}/rerun")
        assert again.status_code == 201, again.text
        body = again.json()
        assert body["rerun_of"] == first["id"] and body["project"] == first["project"]
        assert again.headers["location"].endswith(body["id"])
        assert body["verdict"] == "no_conflict"
        cmp = client.get("/api/v1/analysis/siting/compare",
                         params={"a": body["id"], "b": first["id"]}).json()
    finally:
        with layers.begin() as conn:
            conn.execute(text("UPDATE eco_redline SET geom = ST_Multi(ST_MakeEnvelope("
                              "106.22, 39.00, 106.26, 39.02, 4490)) "
                              "WHERE redline_code = 'HX-002'"))
    assert cmp["before"] == first["id"] and cmp["after"] == body["id"]  # earlier first
    assert cmp["changed"] and cmp["same_project"]
    assert (cmp["verdict_before"], cmp["verdict_after"]) == ("justification_required",
                                                            "no_conflict")
    assert cmp["path_before"] and cmp["path_after"] is None
    redline = next(o for o in cmp["overlaps"] if o["layer"] == "eco_redline")
    assert redline["before_m2"] == pytest.approx(geodesic_area(GENERAL_FOOT).m2, rel=1e-3)
    assert redline["after_m2"] == 0 and redline["change_m2"] == pytest.approx(
        -redline["before_m2"])
    assert {r["rule_id"] for r in cmp["rules"]}  # the red-line findings went
    # the old run keeps its result
    assert client.get(f"/api/v1/analysis/siting/{first['id']}").json()["verdict"] == \
        "justification_required"
    listed = client.get("/api/v1/analysis/siting", params={"project_code": CODE}).json()
    assert listed["items"][0]["id"] == body["id"] and listed["items"][0]["rerun_of"] == first["id"]


def test_compare_and_rerun_errors(client, runs) -> None:
    first, _ = runs
    same = client.get("/api/v1/analysis/siting/compare",
                      params={"a": first["id"], "b": first["id"]},
                      headers={"Accept-Language": "en"})
    assert same.status_code == 422 and "two different" in same.json()["detail"]
    missing = client.get("/api/v1/analysis/siting/compare", params={"a": first["id"], "b": "nope"})
    assert missing.status_code == 404
    assert client.post("/api/v1/analysis/siting/nope/rerun").status_code == 404


def _gis(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_gis(*args, env={"GIS_LANG": "en", **env})


def test_gis_check_siting_stores_the_project(settings, layers, tmp_path) -> None:
    """The command line's checks are in the history too, with the OS user as who ran them."""
    footprint = tmp_path / "fp.geojson"
    footprint.write_text(json.dumps(mapping(OPEN_FOOT)), encoding="utf-8")
    checked = _gis("check", "siting", str(footprint), "--activity", "LA1", "--new-land",
                   "--profile", "dawukou", "--project-code", "CLI-0001",
                   "--project-name", "命令行项目", "--json")
    assert checked.returncode == 0, checked.stderr
    run_id = json.loads(checked.stdout)["id"]
    found = json.loads(_gis("check", "history", "--project", "CLI-0001", "--json").stdout)
    assert [r["id"] for r in found["items"]] == [run_id]
    assert found["items"][0]["project_name"] == "命令行项目"
    assert found["items"][0]["requested_by"].startswith("cli:")
    too_long = _gis("check", "siting", str(footprint), "--activity", "LA1", "--new-land",
                    "--profile", "dawukou", "--project-code", "X" * 65)
    assert too_long.returncode == 2 and "--project-code" in too_long.stderr


def test_gis_check_history(runs) -> None:
    first, _ = runs
    found = _gis("check", "history", "--project", CODE, "--json")
    assert found.returncode == 0, found.stderr
    page = json.loads(found.stdout)
    assert first["id"] in [r["id"] for r in page["items"]]
    table = _gis("check", "history", "--q", "供水", GIS_LANG="zh")
    assert table.returncode == 0, table.stderr
    assert "沟口供水工程" in table.stdout and "需专题论证" in table.stdout
    bad = _gis("check", "history", "--verdict", "maybe")
    assert bad.returncode == 2 and "verdict" in bad.stderr.lower()
    dates = _gis("check", "history", "--from", "2025-02-01", "--to", "2025-01-01")
    assert dates.returncode == 2
