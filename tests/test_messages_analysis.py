"""Messages of the analyses, the work lists, the rules and the jobs, in both languages.

Real failures are driven through the API on the sample one-map: without ``Accept-Language``
(as the portal and the bureaus' clients send it: Chinese by default) each problem's title and
detail are Chinese with no English sentence in them; with ``Accept-Language: en`` the detail is
the historical English text that scripts and tests match on. A failed job keeps its error in
both languages and answers in the caller's. The siting warnings carry both languages; the
command line follows ``GIS_LANG``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import Engine

from api.app import create_app
from gis.analysis.siting_models import AdvisoryModel
from gis.analysis.worklist import Event
from gis.jobs.models import JobError
from gis.messages import Code, Codes, Named, msg, text
from gis.messages import _load as load_yaml
from gis.settings import Settings
from tests.test_messages import english_sentence

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
GIS = Path(sys.executable).with_name("gis")
HAN = re.compile(r"[\u4e00-\u9fff]")
OUR_FILES = ("analysis.yaml", "worklists.yaml", "rules.yaml", "jobs.yaml")
SITING = "/api/v1/analysis/siting"
JOBS = "/api/v1/jobs"
EN = {"Accept-Language": "en"}
#: What a browser showing the portal in Chinese sends.
BROWSER_ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
#: A footprint in Dawukou, in the red line's core zone (the sample one-map).
DAWUKOU = mapping(box(106.205, 39.005, 106.21, 39.01))


def chinese(message: str) -> None:
    """A Chinese message: Chinese characters, and no run of English words."""
    assert HAN.search(message), message
    assert english_sentence(message) is None, (english_sentence(message), message)


def refused(client: TestClient, method: str, path: str, status: int,
            headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[dict, dict]:
    """The same refused request without a language (Chinese) and in English: both answer
    ``status`` as problem details, the Chinese is Chinese; returns (zh, en) bodies."""
    zh = client.request(method, path, headers=headers or {}, **kwargs)
    en = client.request(method, path, headers={**(headers or {}), **EN}, **kwargs)
    for response in (zh, en):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    chinese(zh.json()["title"])
    chinese(zh.json()["detail"])
    assert not HAN.search(en.json()["title"]), en.json()
    return zh.json(), en.json()


@pytest.fixture(scope="module")
def configured(settings: Settings) -> Settings:
    return settings.with_changes(data={"raster_dir": SAMPLES, "dem_path": SAMPLES / "dem.tif"})


@pytest.fixture(scope="module")
def client(sample_db: Engine, configured: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(configured)) as c:
        yield c


# -- the catalogue entries of this area ---------------------------------------------------


def test_every_key_of_this_area_is_used() -> None:
    """Each message of this area's files is raised, shown or stored somewhere."""
    source = "\n".join(p.read_text(encoding="utf-8")
                       for folder in ("gis", "api") for p in (ROOT / folder).rglob("*.py"))
    for name in OUR_FILES:
        for key in load_yaml(name):
            assert f'"{key}"' in source, (name, key)


def test_parameters_that_name_codes() -> None:
    """Codes clients send stay codes in English (as the messages always listed them) and
    read as their labels in Chinese."""
    assert Code("finding_decision", "keep_forest").render("en") == "keep_forest"
    assert Code("finding_decision", "keep_forest").render("zh") == "保留林地"
    assert Code("finding_decision", "keep_forest", with_code=True).render("zh") \
        == "保留林地（keep_forest）"
    roles = Codes.of("role", ["admin", "forestry"], english="admin or forestry", sep="或")
    assert (roles.render("en"), roles.render("zh")) == ("admin or forestry", "管理员或林草")
    assert Named("大武口区", "Dawukou").render("en") == "Dawukou"
    event = Event(at="2024-01-01T00:00:00", actor="cli:wang", on_behalf_of="李科长",
                  actor_verified=False, action="decided", details=None, reason=None)
    assert event.who() == "cli:wang (代 李科长) [未核实]"
    assert event.who("en") == "cli:wang (for 李科长) [unverified]"


# -- siting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "status", "english"), [
    ({"activity": "NOPE"}, 422, "unknown activity code 'NOPE'; use one of LA1, "),
    ({"geometry": "POINT (106.3 39)"}, 422, "a project footprint must be a polygon, not a Point"),
    ({"geometry": ""}, 422, "the footprint is empty"),
    ({"geometry": "GEOMETRYCOLLECTION EMPTY"}, 422, "the footprint geometry is empty"),
    ({"geometry": "POLYGON ((106.2 39, 106.3"}, 422,
     "the footprint is neither GeoJSON nor valid WKT: "),
    ({"geometry": '{"type": "Polygon",'}, 422, "the footprint is not valid JSON: "),
    ({"geometry": {"type": "FeatureCollection", "features": []}}, 422,
     "the FeatureCollection has no features"),
    ({"geometry": "LINESTRING (106.2 39, 106.21 39.01)"}, 422,
     "the footprint is a line; give its width in metres (line_width_m)"),
    ({"profile": "nowhere"}, 404, "unknown rule profile 'nowhere'; available: dawukou, "),
    ({"geometry": mapping(box(110, 30, 110.01, 30.01))}, 422,
     "the footprint lies outside Dawukou"),
])
def test_siting_refusals(client: TestClient, role_keys, body: dict, status: int,
                         english: str) -> None:
    request = {"geometry": DAWUKOU, "activity": "LA1", "new_construction_land": True,
               "profile": "dawukou", **body}
    _zh, en = refused(client, "POST", SITING, status, role_keys["planner"], json=request)
    assert en["detail"].startswith(english), en["detail"]


def test_a_footprint_with_nan_coordinates(client: TestClient, role_keys) -> None:
    """Python's JSON reader takes NaN: the footprint is refused, never a 500 or a NaN area."""
    ring = [[106.205, 39.005], [106.21, 39.005], ["NaN", 39.01], [106.205, 39.005]]
    body = json.dumps({"geometry": {"type": "Polygon", "coordinates": [ring]},
                       "activity": "LA1", "new_construction_land": True,
                       "profile": "dawukou"}).replace('"NaN"', "NaN")
    headers = {**role_keys["planner"], "Content-Type": "application/json"}
    _zh, en = refused(client, "POST", SITING, 422, headers, content=body)
    assert en["detail"] == ("the footprint has coordinates that are not finite numbers (NaN "
                            "or Infinity)")


def test_siting_warnings_in_both_languages(client: TestClient, role_keys) -> None:
    """Warnings composed by code come from the catalogue in both languages; the rule texts
    they quote stay the profile's."""
    line = {"geometry": "LINESTRING (106.18 39.0075, 106.23 39.0075)", "line_width_m": 10,
            "activity": "NMP1", "new_construction_land": True, "profile": "dawukou"}
    response = client.post(SITING, json=line, headers=role_keys["planner"])
    assert response.status_code == 201, response.text
    warnings = response.json()["warnings"]
    assert warnings, response.json()
    for warning in warnings:
        chinese(warning["message_zh"])
        assert not HAN.search(warning["message_en"].replace("亩", "")), warning
    crossing = [w for w in warnings if w["code"] == "linear_crossing_redline"]
    assert crossing and crossing[0]["message_en"].startswith(
        "Linear infrastructure crosses the red line: ")
    advisory = AdvisoryModel.of("steep_slope", msg(
        "siting.advice.steep_slope", threshold=25.0, steep_mu=12.5, share=0.25, mean=14.0,
        max=31.0, basis=msg("siting.advice.slope_basis_parameter")))
    assert advisory.message_en == (
        "25.0% of the footprint (12.50 mu) is steeper than 25° (mean 14.0°, max 31.0°); the "
        "threshold is a technical parameter of the rule profile (terrain.steep_slope_deg), "
        "not a cited rule")
    assert "25°" in advisory.message_zh and "技术参数" in advisory.message_zh


def test_terrain_refusals(client: TestClient, settings: Settings) -> None:
    body = {"geometry": mapping(box(110, 30, 110.01, 30.01)), "crs": "EPSG:4490"}
    zh, en = refused(client, "POST", "/api/v1/terrain/stats", 422, json=body)
    assert en["detail"] == "the footprint lies outside the DEM dem.tif"
    assert "dem.tif" in zh["detail"]
    with TestClient(create_app(settings)) as unconfigured:
        zh, en = refused(unconfigured, "POST", "/api/v1/terrain/stats", 500, json=body)
    assert en["detail"] == "no DEM is configured on this server (GIS_DEM_PATH)"


def test_terrain_command_follows_gis_lang(tmp_path: Path) -> None:
    """``gis terrain stats`` needs no database: its refusal in each terminal language."""
    footprint = tmp_path / "far.geojson"
    footprint.write_text(json.dumps(mapping(box(110, 30, 110.01, 30.01))), encoding="utf-8")
    args = [str(GIS), "terrain", "stats", str(footprint), "--dem", str(SAMPLES / "dem.tif")]
    shown = {}
    for lang in ("zh", "en"):
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "GIS_LANG": lang})
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        shown[lang] = " ".join(proc.stderr.split())
    assert "the footprint lies outside the DEM dem.tif" in shown["en"]
    assert text("terrain.outside_dem", "zh", name="dem.tif") in shown["zh"]


# -- the work lists -------------------------------------------------------------------------


def _finding(client: TestClient, forestry: dict[str, str]) -> dict:
    run = client.post("/api/v1/reconciliation/runs", json={"division": "640104"},
                      headers=forestry)
    assert run.status_code == 201, run.text
    page = client.get("/api/v1/reconciliation/findings", params={"division": "640104"},
                      headers=forestry).json()
    return page["items"][0]


def test_reconciliation_decisions(client: TestClient, role_keys) -> None:
    forestry = role_keys["forestry"]
    finding = _finding(client, forestry)
    url = f"/api/v1/reconciliation/findings/{finding['id']}/decision"
    decide = {"decision": "keep_forest", "reason": "乔木林", "version": finding["version"]}
    zh, en = refused(client, "POST", url, 422, forestry, json={**decide, "reason": "   "})
    assert en["detail"] == "a decision needs its reason"
    zh, en = refused(client, "POST", url, 422, forestry, json={**decide, "decision": "burn"})
    assert en["detail"] == ("unknown decision 'burn'; decisions: keep_forest, keep_grass, "
                            "split_by_line, reassign_owner, correct_certificate, no_change")
    assert "保留林地（keep_forest）" in zh["detail"]
    ok = client.post(url, json=decide, headers=forestry)
    assert ok.status_code == 200, ok.text
    zh, en = refused(client, "POST", url, 409, forestry, json=decide)
    # who changed it, from the event that made the version (the key's holder), and when
    assert en["detail"].startswith(f"finding {finding['id']} was changed by test-forestry at ")
    assert en["detail"].endswith(
        f" (UTC+8, decided; now version {finding['version'] + 1}, you had "
        f"{finding['version']}); reload and decide again")
    assert "已由 test-forestry 于" in zh["detail"] and "（作出决定）" in zh["detail"]
    status = f"/api/v1/reconciliation/findings/{finding['id']}/status"
    zh, en = refused(client, "POST", status, 422, forestry,
                     json={"status": "closed", "version": finding["version"] + 1})
    assert en["detail"].startswith("status can be set to ['field_check', 'open']; ")
    zh, en = refused(client, "GET", "/api/v1/reconciliation/findings", 422, forestry,
                     params={"kind": "nope"})
    assert en["detail"].startswith("unknown kind 'nope'; kinds: forest_grass_overlap, ")
    zh, en = refused(client, "GET", "/api/v1/reconciliation/findings/999999", 404, forestry)
    assert en["detail"] == "no finding 999999"
    zh, en = refused(client, "GET", "/api/v1/reconciliation/export.csv", 422, forestry)
    assert en["detail"] == "export formats are ['gpkg', 'xlsx'], not 'csv'"


def test_the_portals_409_is_chinese_by_default(client: TestClient, role_keys) -> None:
    """The portal shows the detail of a stale decision as it comes: in Chinese, whether the
    browser says so or says nothing."""
    forestry = role_keys["forestry"]
    page = client.get("/api/v1/reconciliation/findings", headers=forestry,
                      params={"division": "640104", "status": "open"}).json()
    finding = page["items"][0]
    url = f"/api/v1/reconciliation/findings/{finding['id']}/decision"
    decide = {"decision": "keep_grass", "reason": "草地", "version": finding["version"]}
    assert client.post(url, json=decide, headers=forestry).status_code == 200
    for headers in ({}, BROWSER_ZH):
        stale = client.post(url, json=decide, headers={**forestry, **headers})
        assert stale.status_code == 409
        body = stale.json()
        assert body["title"] == "冲突" and body["details"]["current_version"] \
            == finding["version"] + 1
        chinese(body["detail"])
        assert body["detail"].startswith(f"核查问题 {finding['id']} 已由 test-forestry 于 ")
        assert body["detail"].endswith(
            f"（北京时间）修改（作出决定），当前为第 {finding['version'] + 1} 版，您看到的是第 "
            f"{finding['version']} 版；请刷新查看后重新作出决定")
        assert body["details"]["changed_by"] == "test-forestry" and "刷新" in body["detail"]


def test_monitoring_runs_and_decisions(client: TestClient, role_keys) -> None:
    forestry = role_keys["forestry"]
    zh, en = refused(client, "POST", "/api/v1/monitoring/runs", 422, forestry, json={
        "raster_a": "landcover_2023.tif", "raster_b": "landcover_2020.tif"})
    assert en["detail"].startswith("raster A must be the earlier date: A is 2023")
    assert "较早" in zh["detail"]
    zh, en = refused(client, "POST", "/api/v1/monitoring/runs", 422, forestry, json={
        "raster_a": "/etc/passwd", "raster_b": "landcover_2023.tif"})
    assert en["detail"] == "'/etc/passwd' is not a file name under the raster directory"
    run = client.post("/api/v1/monitoring/runs", headers=forestry, json={
        "raster_a": "landcover_2020.tif", "raster_b": "landcover_2023.tif",
        "profile": "dawukou"})
    assert run.status_code == 201, run.text
    patch = client.get("/api/v1/monitoring/patches", headers=forestry).json()["items"][0]
    url = f"/api/v1/monitoring/patches/{patch['id']}/decision"
    decide = {"decision": "violation", "reason": "占用红线建房", "version": patch["version"]}
    zh, en = refused(client, "POST", url, 422, forestry, json={**decide, "reason": " "})
    assert en["detail"] == "a decision needs its reason"
    zh, en = refused(client, "POST", url, 422, forestry, json={**decide, "decision": "fine"})
    assert en["detail"] == ("unknown decision 'fine'; decisions: violation, permitted, legacy, "
                            "false_alarm")
    assert client.post(url, json=decide, headers=forestry).status_code == 200
    zh, en = refused(client, "POST", url, 409, forestry, json=decide)
    assert en["detail"].startswith(f"monitoring patch {patch['id']} was changed by "
                                   "test-forestry at ")
    zh, en = refused(client, "GET", "/api/v1/monitoring/patches", 422, forestry,
                     params={"status": "nope"})
    assert en["detail"] == "unknown status 'nope'; statuses: open, field_check, decided, closed"
    zh, en = refused(client, "GET", "/api/v1/monitoring/runs/999999", 404, forestry)
    assert en["detail"] == "no monitoring run 999999"


# -- jobs -----------------------------------------------------------------------------------


def _batch(**params: Any) -> dict[str, Any]:
    footprints = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": DAWUKOU, "properties": {"name": "一号"}}]}
    return {"kind": "siting.batch", "params": {
        "footprints": footprints, "activity": "DEV", "new_construction_land": True,
        "profile": "dawukou", **params}}


@pytest.mark.parametrize(("role", "body", "english"), [
    ("planner", {"kind": "no.such.kind", "params": {}},
     "unknown job kind 'no.such.kind'; the kinds are monitoring.run, "),
    ("planner", _batch(activity="NOPE"),
     "the params of a siting.batch job are not valid: Value error, unknown activity code "
     "'NOPE'; use one of "),
    ("planner", _batch(id_field="missing"),
     "the params of a siting.batch job are not valid: Value error, property 'missing' is "
     "missing from footprint(s) 1"),
    ("planner", _batch(profile="nowhere"),
     "the params of a siting.batch job are not valid: Value error, unknown rule profile "
     "'nowhere'"),
    ("forestry", {"kind": "reconciliation.detect", "params": {"division": "64020x"}},
     "the params of a reconciliation.detect job are not valid: String should match pattern"),
    ("forestry", {"kind": "reconciliation.detect", "params": {"division": "999999"}},
     "division '999999' is not in admin_divisions; load the administrative divisions first"),
    ("forestry", {"kind": "monitoring.run", "params": {
        "raster_a": "landcover_2020.tif", "raster_b": "missing.tif"}},
     "no raster named 'missing.tif' in the raster directory"),
])
def test_jobs_with_bad_params(client: TestClient, role_keys, role: str, body: dict,
                              english: str) -> None:
    _zh, en = refused(client, "POST", JOBS, 422, role_keys[role], json=body)
    assert en["detail"].startswith(english), en["detail"]


def test_job_refusals_by_role_and_state(client: TestClient, role_keys) -> None:
    detect = {"kind": "reconciliation.detect", "params": {"division": "640104"}}
    zh, en = refused(client, "POST", JOBS, 403, role_keys["planner"], json=detect)
    assert en["detail"] == ("role 'planner' may not start reconciliation.detect jobs; it needs "
                            "admin or forestry")
    assert "管理员或林草" in zh["detail"]
    zh, en = refused(client, "GET", f"{JOBS}/{'0' * 32}", 404, role_keys["planner"])
    assert en["detail"] == f"no job '{'0' * 32}'"
    zh, en = refused(client, "GET", JOBS, 422, role_keys["planner"], params={"status": "nope"})
    assert en["detail"] == ("status must be one of queued, running, succeeded, failed, "
                            "cancelled, not 'nope'")
    zh, en = refused(client, "GET", JOBS, 401)
    assert en["detail"] == "jobs need an API key; send it in the X-API-Key header"


def _wait(client: TestClient, job_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"{JOBS}/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_failed_jobs_error_in_the_callers_language(client: TestClient, role_keys) -> None:
    forestry = role_keys["forestry"]
    started = client.post(JOBS, headers=forestry, json={"kind": "monitoring.run", "params": {
        "raster_a": "landcover_2023.tif", "raster_b": "landcover_2020.tif"}})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    zh = _wait(client, job_id, forestry)
    en = client.get(f"{JOBS}/{job_id}", headers={**forestry, **EN}).json()
    assert zh["status"] == en["status"] == "failed"
    assert (zh["error"]["retryable"], en["error"]["retryable"]) == (False, False)
    assert set(zh["error"]) == {"title", "message", "retryable", "details"}  # texts: stored
    assert zh["error"]["title"] == "输入无效" and en["error"]["title"] == "Invalid input"
    chinese(zh["error"]["message"])
    assert en["error"]["message"] == "raster A must be the earlier date: A is 2023, B is 2020"
    listed = client.get(JOBS, headers={**forestry, **EN}).json()["items"]
    assert next(j for j in listed if j["id"] == job_id)["error"] == en["error"]
    listed = client.get(JOBS, headers=forestry).json()["items"]
    assert next(j for j in listed if j["id"] == job_id)["error"] == zh["error"]
    # a finished job cannot be cancelled: in each language
    zh, en = refused(client, "POST", f"{JOBS}/{job_id}/cancel", 409, forestry)
    assert en["detail"] == f"job {job_id} has already ended (failed); nothing to cancel"
    assert "失败" in zh["detail"]


def test_stored_job_errors() -> None:
    """A job's row keeps the error in both languages; a row from before keeps its English."""
    error = JobError.of(lambda lang: text("job.title.interrupted", lang),
                        msg("job.interrupted").render, retryable=True)
    stored = error.stored()
    assert stored["message"] == "interrupted by a server restart"
    assert stored["texts"]["zh"] == {"title": "已中断", "message": text("job.interrupted")}
    again = JobError(**stored)
    assert again.in_language("zh").message == text("job.interrupted", "zh")
    assert again.in_language("en").model_dump() == {
        "title": "Interrupted", "message": "interrupted by a server restart",
        "retryable": True, "details": None}
    old = JobError(title="Invalid input", message="raster A must be the earlier date",
                   retryable=False)
    assert old.in_language("zh") == old
