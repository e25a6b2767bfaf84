"""Issue 21, defects 1 and 3: no input crashes a request. NUL bytes, offsets past any list,
non-finite or unclosed geometries, too many vertices, over-long raster names and a filter
without properties are 4xx problem details in the request's language, never a 500; `gis
load` of such a file ends in one line and exit 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.rules import load_profile

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PROBLEM = "application/problem+json"
SQUARE = [[106.38, 39.0], [106.39, 39.0], [106.39, 39.01], [106.38, 39.01], [106.38, 39.0]]
HUGE = "10000000000000000000"


def _refused(response, status: int = 422) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


@pytest.fixture(scope="module")
def client(settings, sample_db, role_keys):
    configured = settings.with_changes(data={"raster_dir": SAMPLES,
                                             "dem_path": SAMPLES / "dem.tif"})
    with TestClient(create_app(configured), headers=role_keys["admin"]) as c:
        yield c


def test_nul_bytes_are_refused_everywhere(client) -> None:
    """A NUL byte cannot be stored in PostgreSQL text: each was a 500 (DataError)."""
    en = {"Accept-Language": "en"}
    cases = [
        client.get("/portal/api/search", params={"q": "星\x00海"}, headers=en),
        client.get("/api/v1/reserve/villages/64%0002/ledger", headers=en),
        client.post("/api/v1/reserve/villages/640202001/draws", headers=en, json={
            "project_code": "P-\x00", "area_m2": 10, "purpose": "key_industry"}),
        client.get("/api/v1/analysis/siting/abc%00def", headers=en),
        client.get("/api/v1/jobs/abc%00", headers=en),
        client.post("/api/v1/reconciliation/findings/1/decision", headers=en, json={
            "decision": "no_change", "reason": "查\x00看", "version": 1}),
        client.post("/api/v1/monitoring/runs", headers=en, json={
            "raster_a": "landcover_2020.tif\x00", "raster_b": "landcover_2023.tif"}),
    ]
    for response in cases:
        body = _refused(response)
        assert "NUL" in body["detail"], body
    # An escaped backslash before "u0000" is text, not a NUL: it goes through to the model.
    text_only = client.post("/api/v1/reconciliation/findings/1/decision",
                            headers={**en, "Content-Type": "application/json"},
                            content=json.dumps({"decision": "no_change", "reason": "a\\u0000",
                                                "version": 1}))
    assert text_only.status_code == 404  # no finding 1: the reason itself was accepted
    ogc = client.get("/ogc/collections/admin_divisions/items", params={"filter": "name='\x00'"})
    _refused(ogc, 400)


def test_offsets_ids_and_versions_out_of_range_are_refused(client) -> None:
    for url in ("/api/v1/monitoring/patches", "/api/v1/monitoring/runs",
                "/api/v1/monitoring/exit-plans/overdue", "/api/v1/reconciliation/findings"):
        _refused(client.get(url, params={"offset": HUGE}))
        assert client.get(url, params={"offset": 0}).status_code == 200
    # found by schemathesis: an id beyond bigint names nothing (404), a version beyond the
    # integer column is refused (both were 500s from the driver)
    _refused(client.get("/api/v1/reconciliation/findings/-77510091937082048512"), 404)
    _refused(client.get(f"/api/v1/monitoring/patches/{HUGE}"), 404)
    _refused(client.post("/api/v1/monitoring/patches/1/exit-plan/completion",
                         json={"version": -2164904153, "reason": "x"}))
    _refused(client.post("/api/v1/reconciliation/findings/1/status",
                         json={"status": "open", "version": 2**31}))
    # only integer parameters are range-checked: a long number searched for stays text
    assert client.get("/portal/api/search", params={"q": "9" * 25}).status_code == 200


def test_a_filter_without_properties_is_a_400_without_a_key(settings, sample_db) -> None:
    with TestClient(create_app(settings)) as anonymous:
        for expression in ("1=1", "1<>2", "'a'='a'"):
            response = anonymous.get("/ogc/collections/admin_divisions/items",
                                     params={"filter": expression})
            assert response.status_code in (200, 400), response.text
            assert response.status_code != 500


NAN_RING = {"type": "Polygon", "coordinates": [[[106.38, 39.0], [106.39, float("nan")],
                                                [106.39, 39.01], [106.38, 39.0]]]}
OPEN_RING = {"type": "Polygon", "coordinates": [[[106.38, 39.0], [106.39, 39.0]]]}
BAD_TYPE = {"type": "Polygon\x00", "coordinates": []}


@pytest.mark.parametrize("geometry", [NAN_RING, OPEN_RING, "POLYGON((106 39, 106.1 39, 106.1 "
                                      "39.1))", "POLYGON((106 39, nan 39, 106.1 39.1, 106 39))"])
def test_bad_footprints_are_4xx_in_siting_and_terrain(client, geometry) -> None:
    body = json.dumps({"geometry": geometry, "activity": "LA1", "new_construction_land": False},
                      allow_nan=True)
    headers = {"Content-Type": "application/json"}
    for url in ("/api/v1/analysis/siting", "/api/v1/terrain/stats"):
        response = client.post(url, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text)


def _geojson_file(geometry: dict) -> bytes:
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]},
                      allow_nan=True).encode()


def test_footprint_upload_refuses_nan_open_rings_and_too_many_vertices(client) -> None:
    limit = load_profile("ningxia").siting.max_vertices
    ring = [[106.38 + 0.01 * i / limit, 39.0 + 0.001 * (i % 2)] for i in range(limit)]
    ring += [[106.39, 39.01], [106.38, 39.01], ring[0]]
    for geometry in (NAN_RING, {"type": "Polygon", "coordinates": [SQUARE[:3]]},
                     {"type": "Polygon", "coordinates": [ring]}):
        response = client.post("/api/v1/footprints/parse", params={"filename": "f.geojson"},
                               content=_geojson_file(geometry))
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    ok = client.post("/api/v1/footprints/parse", params={"filename": "f.geojson"},
                     content=_geojson_file({"type": "Polygon", "coordinates": [SQUARE]}))
    assert ok.status_code == 200, ok.text


def test_long_raster_names_are_refused(client) -> None:
    name = "a" * 300 + ".tif"
    for response in (
        client.post("/api/v1/monitoring/runs", json={"raster_a": name,
                                                      "raster_b": "landcover_2023.tif"}),
        client.post("/api/v1/jobs", json={"kind": "monitoring.run", "params": {
            "raster_a": name, "raster_b": "landcover_2023.tif"}}),
    ):
        _refused(response)


@pytest.mark.parametrize("geometry", [OPEN_RING | {"coordinates": [SQUARE[:3]]}, NAN_RING])
def test_gis_load_of_bad_geometry_is_one_line_exit_2(settings, engine, tmp_path,
                                                     geometry) -> None:
    path = tmp_path / "redline.geojson"
    path.write_bytes(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"redline_code": "X1", "zone": "core"},
        "geometry": geometry}]}, allow_nan=True).encode())
    gis = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "gis"
    done = subprocess.run([str(gis), "load", str(path), "--layer", "eco_redline"],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "GIS_LANG": "en"})
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
