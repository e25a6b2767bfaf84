"""Issue 21, defect 2: what each role sees of the work lists, route by route, against the
policy in gis.analysis.worklist_policy (and docs/security.md). Forestry keys must not get the
red line's or the farmland's identities and outlines through monitoring, nor survey owners
through reconciliation; planners and admins see everything."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from shapely.geometry import shape

from api.app import create_app
from gis.analysis import monitoring as mon
from gis.identity import Actor

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
HIDDEN = ("feature_id", "feature_key", "feature_name")
SURVEY_KEPT = {"county_code", "patch_no", "land_use_code", "land_use_name"}


@pytest.fixture(scope="module")
def worklists(settings, sample_db, role_keys):
    """A monitoring run and a reconciliation detection on the samples, a client per role."""
    mon.run(sample_db, SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif",
            "dawukou", date_a="2020", date_b="2023", actor=Actor("遥感组"))
    app = create_app(settings)
    clients = {role: TestClient(app, headers=role_keys[role])
               for role in ("planner", "forestry", "admin")}
    with clients["admin"] as admin, clients["planner"], clients["forestry"]:
        done = admin.post("/api/v1/reconciliation/runs", json={"division": "640202"})
        assert done.status_code == 201, done.text
        yield clients


def _patches(client, **params) -> list[dict]:
    body = client.get("/api/v1/monitoring/patches", params={"geometry": True, **params}).json()
    return body["items"]


def test_monitoring_patches_per_role(worklists) -> None:
    full = _patches(worklists["planner"])
    assert full and all(p["feature_key"] and p["geometry"] for p in full)
    assert _patches(worklists["admin"]) == full
    seen = _patches(worklists["forestry"])
    assert [p["id"] for p in seen] == [p["id"] for p in full]
    for mine, theirs in zip(seen, full, strict=True):
        assert all(mine[f] is None for f in HIDDEN)
        # where, what and how much are theirs too; the outline is the bounding box
        for same in ("layer", "zone", "township", "village", "area_m2", "status", "date_b"):
            assert mine[same] == theirs[same]
        box = shape(mine["geometry"])
        assert box.equals(shapely.box(*shape(theirs["geometry"]).bounds))


def test_monitoring_geojson_detail_and_changes_per_role(worklists) -> None:
    forestry, planner = worklists["forestry"], worklists["planner"]
    geo = forestry.get("/api/v1/monitoring/patches", params={"format": "geojson"}).json()
    assert geo["features"] and all(
        f["properties"][k] is None for f in geo["features"] for k in HIDDEN)
    full_geo = planner.get("/api/v1/monitoring/patches", params={"format": "geojson"}).json()
    assert all(f["properties"]["feature_key"] for f in full_geo["features"])
    patch = _patches(forestry)[0]
    detail = forestry.get(f"/api/v1/monitoring/patches/{patch['id']}").json()
    assert all(detail["patch"][k] is None for k in HIDDEN)
    assert detail["rules"]  # the rules they decide by stay
    changed = forestry.post(f"/api/v1/monitoring/patches/{patch['id']}/status", json={
        "status": "field_check", "version": patch["version"]})
    assert changed.status_code == 200, changed.text
    assert all(changed.json()[k] is None for k in HIDDEN)
    assert planner.get(f"/api/v1/monitoring/patches/{patch['id']}").json()["patch"][
        "feature_key"]


def _sheet(client, url: str) -> list[str]:
    response = client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [c.value for c in next(sheet.iter_rows(max_row=1))]


def test_monitoring_exports_per_role(worklists, tmp_path) -> None:
    import geopandas as gpd

    forestry = _sheet(worklists["forestry"], "/api/v1/monitoring/export.xlsx")
    planner = _sheet(worklists["planner"], "/api/v1/monitoring/export.xlsx")
    assert len(planner) - len(forestry) == 2  # the red-line area / parcel and its name
    assert set(forestry) < set(planner)
    gpkg = worklists["forestry"].get("/api/v1/monitoring/export.gpkg")
    path = tmp_path / "m.gpkg"
    path.write_bytes(gpkg.content)
    frame = gpd.read_file(path)
    full = tmp_path / "full.gpkg"
    full.write_bytes(worklists["planner"].get("/api/v1/monitoring/export.gpkg").content)
    outlines = gpd.read_file(full)
    for mine, theirs in zip(frame.geometry, outlines.geometry, strict=True):
        assert mine.equals(shapely.box(*theirs.bounds))
    package = worklists["forestry"].get("/api/v1/monitoring/field-package.gpkg")
    assert package.status_code == 200, package.text
    path.write_bytes(package.content)
    layers = gpd.list_layers(path)
    spatial = layers[layers["geometry_type"].notna()]["name"]
    assert len(spatial)
    for layer in spatial:
        shapes = gpd.read_file(path, layer=layer).geometry
        assert all(g.equals(g.envelope) for g in shapes if g is not None)


def test_overdue_plans_hide_the_feature(worklists) -> None:
    body = worklists["forestry"].get("/api/v1/monitoring/exit-plans/overdue").json()
    assert all(item["feature_key"] is None for item in body["items"])


def test_reconciliation_survey_rows_per_role(worklists) -> None:
    def survey(client) -> list[dict]:
        items = client.get("/api/v1/reconciliation/findings",
                           params={"limit": 1000, "kind": "class_mismatch"}).json()["items"]
        return [p for f in items for p in f["parcels"] if p["layer"] == "survey_patches"]

    full = survey(worklists["admin"])
    assert full and any(set(p["attributes"]) - SURVEY_KEPT for p in full)
    seen = survey(worklists["forestry"])
    assert len(seen) == len(full)
    for mine, theirs in zip(seen, full, strict=True):
        assert set(mine["attributes"]) <= SURVEY_KEPT
        assert mine["key"] == theirs["key"]
        assert mine["attributes"]["land_use_code"] == theirs["attributes"]["land_use_code"]
    finding = worklists["forestry"].get("/api/v1/reconciliation/findings",
                                        params={"kind": "class_mismatch"}).json()["items"][0]
    detail = worklists["forestry"].get(f"/api/v1/reconciliation/findings/{finding['id']}")
    parcels = detail.json()["finding"]["parcels"]
    assert all(set(p["attributes"]) <= SURVEY_KEPT for p in parcels
               if p["layer"] == "survey_patches")
    # forest and grassland parcels are the forestry bureau's own: shown whole
    forest = [p for p in parcels if p["layer"] == "forest_parcels"]
    assert forest and len(forest[0]["attributes"]) > len(SURVEY_KEPT)
