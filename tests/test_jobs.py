"""Background jobs over HTTP on the sample one-map: start, poll, cancel, retry, restart.

Where a job must be caught mid-way, the test holds a real table lock the analysis needs
(``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE``) so the job waits at a known point: cancelling
then does not depend on how fast the machine is. The restart case kills a real server process
(SIGKILL) and starts the app again.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from api.app import create_app
from gis.analysis import forest_grass as fg
from gis.analysis.siting_batch import check_file
from gis.auth import authenticate, issue_key
from gis.jobs import store
from gis.messages import text as message_text
from gis.settings import Settings
from tests.server_fixtures import uvicorn_process

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
JOBS = "/api/v1/jobs"
RECON_TABLES = ("recon_runs", "recon_findings", "recon_events")
#: A job stores its progress stage as it shows it: in the default language (Chinese).
DETECTING = message_text("recon.stage.detecting", "zh", division="640104")
UPDATING = message_text("worklist.stage.updating", "zh")
ENGLISH = {"Accept-Language": "en"}


def checking(count: int) -> str:
    return message_text("siting.batch.stage", "zh", count=count)


# ---------------------------------------------------------------------------- helpers
def square(x: float, y: float, size: float = 0.002) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": f"方块 {x:.3f},{y:.3f}"}}


def squares(n: int) -> dict[str, Any]:
    """``n`` small footprints in Dawukou (some in the Helan Mountain red line)."""
    return {"type": "FeatureCollection",
            "features": [square(106.25 + (i % 20) * 0.01, 38.95 + (i // 20) * 0.01)
                         for i in range(n)]}


def batch(footprints: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "siting.batch", "params": {
        "footprints": footprints, "activity": "DEV", "new_construction_land": True,
        "profile": "dawukou", **extra}}


def wait_for(client: Any, job_id: str, until: Callable[[dict], bool],
             timeout: float = 120) -> tuple[dict, list[dict]]:
    """Poll the job until ``until(job)``; also returns every state seen on the way."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{JOBS}/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        seen.append(job)
        if until(job):
            return job, seen
        assert time.monotonic() < deadline, f"job {job_id} never got there: {job}"
        time.sleep(0.05)


def _as(client: TestClient, headers: dict[str, str]) -> Any:
    """The module's client sending ``headers`` (for wait_for)."""

    class _With:
        def get(self, url: str) -> Any:
            return client.get(url, headers=headers)

    return _With()


def finished(job: dict) -> bool:
    return job["status"] in ("succeeded", "failed", "cancelled")


def job_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM jobs")).scalar_one()


def fingerprint(engine: Engine, tables: tuple[str, ...]) -> dict[str, tuple[int, str | None]]:
    """Row count and an md5 over every row of each table: equal means unchanged."""
    with engine.connect() as conn:
        return {t: tuple(conn.execute(text(
            f"SELECT count(*), md5(string_agg(x::text, '|' ORDER BY x::text)) FROM {t} AS x"
        )).one()) for t in tables}


@contextmanager
def table_locked(engine: Engine, table: str) -> Iterator[Connection]:
    """Hold an ACCESS EXCLUSIVE lock on ``table`` until the block ends (or ``rollback``)."""
    conn = engine.connect()
    try:
        conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield conn
    finally:
        conn.rollback()
        conn.close()


@contextmanager
def server_process() -> Iterator[tuple[subprocess.Popen, str]]:
    """``uvicorn api.asgi:app`` in its own process (the settings fixture's environment)."""
    with uvicorn_process() as started:
        yield started


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def db(sample_db: Engine) -> Engine:
    return sample_db


@pytest.fixture(scope="module")
def configured(settings: Settings) -> Settings:
    return settings.with_changes(data={"raster_dir": SAMPLES})


@pytest.fixture(scope="module")
def client(db: Engine, configured: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(configured)) as c:
        yield c


@pytest.fixture(scope="module")
def keys(role_keys: dict[str, dict[str, str]], db: Engine) -> dict[str, dict[str, str]]:
    """The session's role keys and a second planner's."""
    other = issue_key(db, "jobs-other-planner", "planner", 100_000)
    return {**role_keys, "other_planner": {"X-API-Key": other}}


@pytest.fixture(scope="module")
def projects(db: Engine) -> dict[str, Any]:
    """The sample projects' footprints as a FeatureCollection named by project."""
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT name, ST_AsGeoJSON(geom, 9) FROM projects ORDER BY name")).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(g), "properties": {"name": n}}
        for n, g in rows]}


# ---------------------------------------------------------------------------- detection
def test_detection_job_runs_to_completion(client: TestClient, db: Engine, keys) -> None:
    with table_locked(db, "recon_runs") as lock:  # the job waits before its second stage
        started = client.post(JOBS, headers=keys["forestry"], json={
            "kind": "reconciliation.detect", "params": {"division": "640104"},
            "actor": "王工"})
        assert started.status_code == 202, started.text
        job = started.json()
        assert started.headers["location"] == f"{JOBS}/{job['id']}"
        assert job["status"] in ("queued", "running") and job["attempt"] == 1
        # the owner is the key's holder; the typed name is only "on behalf of"
        assert (job["actor"], job["on_behalf_of"], job["submitted_by"]) == (
            "test-forestry", "王工", "test-forestry")
        assert job["params"] == {"division": "640104", "profile": None, "full": False}
        forestry = _as(client, keys["forestry"])
        running, _ = wait_for(forestry, job["id"], lambda j: j["progress"]["stage"] is not None)
        assert running["status"] == "running"
        assert running["progress"]["stage"] == DETECTING
        lock.rollback()
        done, _ = wait_for(forestry, job["id"], finished)
    assert done["status"] == "succeeded", done
    assert done["progress"]["stage"] == UPDATING
    assert done["started_at"] <= done["finished_at"] and done["error"] is None
    result = done["result"]
    with db.connect() as conn:
        stored = conn.execute(text("SELECT summary FROM recon_runs WHERE id = :id"),
                              {"id": result["run_id"]}).scalar_one()
    assert result == stored  # exactly what detect returned (it stores its summary)
    assert result["new"] == 4 and sum(result["detected"].values()) == 4
    again = fg.detect(db, "640104")  # the same detection, called directly
    assert again.detected == result["detected"] and again.new == 0
    assert again.kept == result["new"]
    # A job may ask for the whole division to be scanned even though nothing changed.
    forced = client.post(JOBS, headers=keys["forestry"], json={
        "kind": "reconciliation.detect", "params": {"division": "640104", "full": True}})
    assert forced.status_code == 202, forced.text
    done, _ = wait_for(_as(client, keys["forestry"]), forced.json()["id"], finished)
    assert done["status"] == "succeeded", done
    assert (done["result"]["mode"], done["result"]["full_reason"], done["result"]["new"]) == (
        "full", "forced", 0)
    assert again.run_id == result["run_id"] + 1


def test_cancelled_detection_leaves_the_database_as_it_was(client: TestClient, db: Engine,
                                                            keys) -> None:
    before = fingerprint(db, RECON_TABLES)
    forestry = keys["forestry"]
    with table_locked(db, "recon_runs") as lock:
        job = client.post(JOBS, headers=forestry, json={
            "kind": "reconciliation.detect", "params": {"division": "640104"}}).json()
        running, _ = wait_for(_as(client, forestry), job["id"],
                              lambda j: j["progress"]["stage"] is not None)
        assert running["progress"]["stage"] == DETECTING
        cancel = client.post(f"{JOBS}/{job['id']}/cancel", headers=forestry)
        assert cancel.status_code == 202 and cancel.json()["cancel_requested"]
        assert cancel.json()["status"] == "running" and cancel.json()["cancelled_by"] \
            == "test-forestry"
        lock.rollback()  # the job inserts its run row, then stops at its next stage
        done, _ = wait_for(_as(client, forestry), job["id"], finished)
    assert done["status"] == "cancelled" and done["result"] is None and done["error"] is None
    assert done["finished_at"] is not None
    assert fingerprint(db, RECON_TABLES) == before
    # cancelling again changes nothing; a retry runs it again as a new job
    again = client.post(f"{JOBS}/{job['id']}/cancel", headers=forestry)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_a_job_interrupted_by_shutdown_fails_retryable_and_rolls_back(
        configured: Settings, db: Engine, keys) -> None:
    before = fingerprint(db, RECON_TABLES)
    with table_locked(db, "recon_runs") as lock:
        app = create_app(configured)
        with TestClient(app, headers=keys["forestry"]) as forestry:
            job = forestry.post(JOBS, json={"kind": "reconciliation.detect",
                                            "params": {"division": "640104"}}).json()
            wait_for(forestry, job["id"], lambda j: j["progress"]["stage"] is not None)
            runner = app.state.job_runner

            def release_once_stopping() -> None:
                while not runner.stopping:
                    time.sleep(0.01)
                lock.rollback()

            releaser = threading.Thread(target=release_once_stopping)
            releaser.start()
        releaser.join()
    with TestClient(create_app(configured), headers=keys["forestry"]) as forestry:
        done = forestry.get(f"{JOBS}/{job['id']}", headers=ENGLISH).json()
        shown = forestry.get(f"{JOBS}/{job['id']}").json()  # the caller's language: Chinese
    assert done["status"] == "failed"
    assert done["error"]["message"] == "interrupted by a server restart"
    assert shown["error"]["message"] == message_text("job.interrupted", "zh")
    assert done["error"]["retryable"] is True
    assert fingerprint(db, RECON_TABLES) == before


def test_an_unexpected_error_fails_generic_logged_and_rolled_back(
        client: TestClient, db: Engine, keys, caplog: pytest.LogCaptureFixture) -> None:
    """The job's database connection is killed while it waits inside its transaction: a
    real failure that is not the user's (no GISError)."""
    before = fingerprint(db, RECON_TABLES)
    forestry = keys["forestry"]
    with table_locked(db, "recon_runs") as lock:
        job = client.post(JOBS, headers=forestry, json={
            "kind": "reconciliation.detect", "params": {"division": "640104"}}).json()
        deadline = time.monotonic() + 60
        while True:  # the job's backend, waiting for the lock on the runs (to read the last
            # detection, incremental re-detection, or to insert its run)
            with db.connect() as conn:
                pid = conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%recon_runs%' "
                    "AND pid <> pg_backend_pid()")).scalar()
            if pid is not None:
                break
            assert time.monotonic() < deadline, "the job never waited for recon_runs"
            time.sleep(0.05)
        with db.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": pid}).scalar_one()
        lock.rollback()
        done, _ = wait_for(_as(client, {**forestry, **ENGLISH}), job["id"], finished)
    assert done["status"] == "failed" and done["result"] is None
    assert done["error"] == {"title": "Internal error",
                             "message": "an unexpected error occurred; it has been logged",
                             "retryable": True, "details": None}
    logged = [r for r in caplog.records if r.name == "gis.jobs" and r.exc_info
              and job["id"] in r.getMessage()]
    assert logged, "the traceback is logged"
    assert fingerprint(db, RECON_TABLES) == before


# ---------------------------------------------------------------------------- siting batch
def test_siting_batch_result_and_spreadsheet(client: TestClient, db: Engine, keys,
                                             projects: dict[str, Any], tmp_path: Path) -> None:
    planner = keys["planner"]
    started = client.post(JOBS, headers=planner, json=batch(projects, id_field="name"))
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    done, _ = wait_for(_as(client, planner), job_id, finished)
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"stage": checking(len(projects["features"])),
                                "done": len(projects["features"]),
                                "total": len(projects["features"])}
    result = done["result"]
    # the same rows the command line's batch check gives for the same footprints
    source = tmp_path / "projects.geojson"
    source.write_text(json.dumps(projects, ensure_ascii=False), encoding="utf-8")
    table = check_file(db, source, "DEV", True, False, "dawukou", "name", None, "CRS84")
    expected = table.astype(object).where(table.notna(), None).to_dict("records")
    assert result["columns"] == list(table.columns)
    assert result["rows"] == expected and result["count"] == len(expected) == 7
    assert sum(result["verdicts"].values()) == 7 and "prohibited" in result["verdicts"]
    sheet = client.get(f"{JOBS}/{job_id}/result.xlsx", headers=planner)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    read = pd.read_excel(io.BytesIO(sheet.content))
    assert list(read.columns) == result["columns"] and len(read) == 7
    assert sorted(read["id"]) == sorted(r["id"] for r in expected)
    # a detection job has no spreadsheet
    detection = client.post(JOBS, headers=keys["forestry"], json={
        "kind": "reconciliation.detect", "params": {"division": "640104"}}).json()
    assert client.get(f"{JOBS}/{detection['id']}/result.xlsx",
                      headers=keys["forestry"]).status_code == 404
    wait_for(_as(client, keys["forestry"]), detection["id"], finished)


def test_running_batch_cancelled_after_its_first_progress_update(client: TestClient,
                                                                 db: Engine, keys) -> None:
    planner = keys["planner"]
    runs = fingerprint(db, ("siting_runs",))
    with table_locked(db, "eco_redline") as lock:  # the first footprint's overlay waits
        job = client.post(JOBS, headers=planner, json=batch(squares(200))).json()
        running, _ = wait_for(_as(client, planner), job["id"],
                              lambda j: j["progress"]["stage"] is not None)
        assert running["progress"] == {"stage": checking(200), "done": 0, "total": 200}
        unfinished = client.get(f"{JOBS}/{job['id']}/result.xlsx", headers=planner)
        assert unfinished.status_code == 409
        assert client.post(f"{JOBS}/{job['id']}/cancel", headers=planner).status_code == 202
        lock.rollback()
        done, _ = wait_for(_as(client, planner), job["id"], finished)
    assert done["status"] == "cancelled" and done["result"] is None
    assert done["progress"]["done"] < 200
    assert fingerprint(db, ("siting_runs",)) == runs  # nothing written
    assert client.get(f"{JOBS}/{job['id']}/result.xlsx", headers=planner).status_code == 409
    # a cancelled job can be retried, once
    retried = client.post(f"{JOBS}/{job['id']}/retry", headers=planner)
    assert retried.status_code == 202 and retried.json()["retry_of"] == job["id"]
    assert retried.json()["attempt"] == 2
    twice = client.post(f"{JOBS}/{job['id']}/retry", headers=planner)
    assert twice.status_code == 409 and retried.json()["id"] in twice.json()["detail"]
    client.post(f"{JOBS}/{retried.json()['id']}/cancel", headers=planner)
    ended, _ = wait_for(_as(client, planner), retried.json()["id"], finished)
    assert ended["status"] in ("cancelled", "succeeded")


def test_queued_job_cancelled_never_starts(settings: Settings, db: Engine, keys) -> None:
    one_worker = settings.with_changes(api={"job_workers": 1})
    with table_locked(db, "eco_redline") as lock, \
            TestClient(create_app(one_worker), headers=keys["planner"]) as planner:
        busy = planner.post(JOBS, json=batch(squares(3))).json()
        wait_for(planner, busy["id"], lambda j: j["status"] == "running")
        queued = planner.post(JOBS, json=batch(squares(3))).json()
        assert planner.get(f"{JOBS}/{queued['id']}").json()["status"] == "queued"
        cancel = planner.post(f"{JOBS}/{queued['id']}/cancel")
        assert cancel.status_code == 200
        assert cancel.json()["status"] == "cancelled" and cancel.json()["finished_at"]
        lock.rollback()
        done, _ = wait_for(planner, busy["id"], finished)
        assert done["status"] == "succeeded" and done["result"]["count"] == 3
        after = planner.get(f"{JOBS}/{queued['id']}").json()
        assert after["status"] == "cancelled" and after["started_at"] is None
        assert after["progress"] == {"stage": None, "done": 0, "total": None}
        # a finished job cannot be cancelled, a succeeded one not retried
        ended = planner.post(f"{JOBS}/{busy['id']}/cancel", headers=ENGLISH)
        assert ended.status_code == 409 and "succeeded" in ended.json()["detail"]
        assert planner.post(f"{JOBS}/{busy['id']}/retry").status_code == 409


# ---------------------------------------------------------------------------- monitoring
def test_monitoring_job(client: TestClient, db: Engine, keys) -> None:
    started = client.post(JOBS, headers=keys["planner"], json={
        "kind": "monitoring.run", "params": {"raster_a": "landcover_2020.tif",
                                             "raster_b": "landcover_2023.tif",
                                             "profile": "dawukou"}})
    assert started.status_code == 202, started.text
    done, _ = wait_for(_as(client, keys["planner"]), started.json()["id"], finished)
    assert done["status"] == "succeeded", done
    with db.connect() as conn:
        stored = conn.execute(text("SELECT summary FROM monitor_runs WHERE id = :id"),
                              {"id": done["result"]["run_id"]}).scalar_one()
    assert done["result"] == stored and stored["found"]["eco_redline/general"] == 2
    # an input the analysis refuses ends the job failed, with its title and message
    swapped = client.post(JOBS, headers=keys["forestry"], json={
        "kind": "monitoring.run", "params": {"raster_a": "landcover_2023.tif",
                                             "raster_b": "landcover_2020.tif"}})
    failed, _ = wait_for(_as(client, {**keys["forestry"], **ENGLISH}), swapped.json()["id"],
                         finished)
    assert failed["status"] == "failed" and failed["result"] is None
    assert failed["error"]["title"] == "Invalid input"
    assert "earlier" in failed["error"]["message"] and failed["error"]["retryable"] is False


# ---------------------------------------------------------------------------- refusals
def test_bad_params_are_422_and_store_nothing(client: TestClient, settings: Settings,
                                              db: Engine, keys) -> None:
    before = job_count(db)
    planner, forestry = keys["planner"], keys["forestry"]
    refused = [
        (planner, {"kind": "no.such.kind", "params": {}}),
        (planner, batch(squares(2), activity="NOPE")),
        (planner, batch(squares(2), crs="EPSG:999999")),
        (planner, batch(squares(2), id_field="missing")),
        (planner, batch({"type": "FeatureCollection", "features": []})),
        (planner, batch({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.3, 39.0]}}]})),
        (planner, {**batch(squares(2)), "params": {**batch(squares(2))["params"],
                                                    "actor": "局长"}}),
        (forestry, {"kind": "reconciliation.detect", "params": {"division": "64020x"}}),
        (forestry, {"kind": "reconciliation.detect", "params": {"division": "999999"}}),
        (forestry, {"kind": "reconciliation.detect", "params": {"division": "640202",
                                                                 "profile": "nowhere"}}),
        (forestry, {"kind": "monitoring.run", "params": {
            "raster_a": "../samples/landcover_2020.tif", "raster_b": "/etc/passwd"}}),
        (forestry, {"kind": "monitoring.run", "params": {
            "raster_a": "landcover_2020.tif", "raster_b": "missing.tif"}}),
        (forestry, {"kind": "monitoring.run", "params": {
            "raster_a": "landcover_2020.tif", "raster_b": "landcover_2023.tif",
            "date_a": "last year"}}),
        # the owner is never a request field
        (forestry, {"kind": "reconciliation.detect", "params": {"division": "640202"},
                    "owner": "局长"}),
    ]
    for headers, body in refused:
        response = client.post(JOBS, headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # a coordinate that is not a finite number (Python's JSON reader accepts NaN)
    body = json.dumps(batch(squares(1))).replace("106.25", "NaN", 1)
    assert "NaN" in body
    nan = client.post(JOBS, headers={**planner, "Content-Type": "application/json"},
                      content=body)
    assert nan.status_code == 422, nan.text
    nan_errors = nan.json()["details"]["errors"]
    assert nan_errors[0]["loc"][:3] == ["params", "footprints", "features"]
    # no raster directory configured: the synchronous endpoint's answer
    with TestClient(create_app(settings), headers=forestry) as unconfigured:
        refused_run = unconfigured.post(JOBS, json={"kind": "monitoring.run", "params": {
            "raster_a": "landcover_2020.tif", "raster_b": "landcover_2023.tif"}})
        assert refused_run.status_code == 500
        assert "GIS_RASTER_DIR" in refused_run.json()["detail"]
    assert job_count(db) == before


def test_roles_per_kind(client: TestClient, db: Engine, keys) -> None:
    before = job_count(db)
    detect = {"kind": "reconciliation.detect", "params": {"division": "640202"}}
    assert client.post(JOBS, json=detect).status_code == 401
    assert client.post(JOBS, headers=keys["planner"], json=detect).status_code == 403
    assert client.post(JOBS, headers=keys["forestry"],
                       json=batch(squares(1))).status_code == 403
    assert client.get(JOBS).status_code == 401
    assert job_count(db) == before
    # admins may start every kind
    admin = client.post(JOBS, headers=keys["admin"], json=batch(squares(1)))
    assert admin.status_code == 202 and admin.json()["actor"] == "test-admin"
    wait_for(_as(client, keys["admin"]), admin.json()["id"], finished)


def test_someone_elses_job_is_not_found(client: TestClient, keys) -> None:
    mine = client.post(JOBS, headers=keys["planner"], json=batch(squares(1))).json()
    wait_for(_as(client, keys["planner"]), mine["id"], finished)
    url = f"{JOBS}/{mine['id']}"
    other = keys["other_planner"]
    for method, path in (("get", url), ("post", f"{url}/cancel"), ("post", f"{url}/retry"),
                         ("get", f"{url}/result.xlsx")):
        response = client.request(method.upper(), path, headers=other)
        assert response.status_code == 404, (path, response.text)
    assert client.get(url).status_code == 401
    assert client.get(f"{JOBS}/{'0' * 32}", headers=keys["planner"]).status_code == 404
    assert client.get(f"{JOBS}/not-an-id", headers=keys["planner"]).status_code == 404
    theirs = client.get(JOBS, headers=other).json()
    assert theirs["total"] == 0 and theirs["items"] == []
    own = client.get(JOBS, headers=keys["planner"], params={"limit": 1}).json()
    assert own["total"] >= 1 and len(own["items"]) == 1
    assert own["items"][0]["params"] is None and own["items"][0]["result"] is None
    assert all(j["actor"] == "test-planner" for j in
               client.get(JOBS, headers=keys["planner"], params={"limit": 1000}).json()["items"])
    everyone = client.get(JOBS, headers=keys["admin"], params={"limit": 1000}).json()
    assert {j["actor"] for j in everyone["items"]} >= {"test-planner", "test-forestry"}
    assert client.get(url, headers=keys["admin"]).status_code == 200
    assert client.get(JOBS, headers=keys["planner"],
                      params={"status": "nope"}).status_code == 422


# ---------------------------------------------------------------------------- restart
def _runner_alive(engine: Engine, runner: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
            "AND classid = CAST(:ns AS bigint)::oid AND objid = CAST(:r AS bigint)::oid"),
            {"ns": store.LOCK_NAMESPACE, "r": runner}).scalar_one())


def test_jobs_survive_a_server_restart(configured: Settings, db: Engine, keys) -> None:
    planner = keys["planner"]
    # a row a previous process left queued (its runner holds no lock: the process is gone)
    owner = authenticate(db, planner["X-API-Key"])
    assert owner is not None
    with db.begin() as conn:
        left = store.insert(conn, kind="siting.batch", params=batch(squares(2))["params"],
                            owner=owner.actor(), submitter=owner.actor(), runner=123)
    with table_locked(db, "eco_redline") as lock, server_process() as (server, url):
        with httpx.Client(base_url=url, headers=planner, timeout=30) as http:
            started = http.post(JOBS, json=batch(squares(3)))
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            wait_for(http, job_id, lambda j: j["status"] == "running")
            # another process starting meanwhile leaves the live server's job alone
            with TestClient(create_app(configured), headers=planner) as other:
                assert other.get(f"{JOBS}/{job_id}").json()["status"] == "running"
        with db.connect() as conn:
            runner = conn.execute(text("SELECT runner FROM jobs WHERE id = :id"),
                                  {"id": job_id}).scalar_one()
        assert _runner_alive(db, runner)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _runner_alive(db, runner):  # the dead process's connection closes
            assert time.monotonic() < deadline
            time.sleep(0.05)
        lock.rollback()
    with TestClient(create_app(configured), headers={**planner, **ENGLISH}) as restarted:
        for old in (job_id, left):
            job = restarted.get(f"{JOBS}/{old}").json()
            assert job["status"] == "failed", job
            assert job["error"] == {"title": "Interrupted",
                                    "message": "interrupted by a server restart",
                                    "retryable": True, "details": None}
        retried = restarted.post(f"{JOBS}/{job_id}/retry")
        assert retried.status_code == 202, retried.text
        again = retried.json()
        assert retried.headers["location"] == f"{JOBS}/{again['id']}"
        assert (again["retry_of"], again["attempt"], again["kind"]) == (job_id, 2,
                                                                        "siting.batch")
        assert again["params"] == restarted.get(f"{JOBS}/{job_id}").json()["params"]
        assert again["actor"] == "test-planner"
        done, _ = wait_for(restarted, again["id"], finished)
        assert done["status"] == "succeeded" and done["result"]["count"] == 3
        assert restarted.get(f"{JOBS}/{job_id}").json()["retried_as"] == again["id"]
