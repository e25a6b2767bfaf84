"""Siting through the API: run, fetch, reports, rules listing, errors as problem details."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import text

from api.app import create_app
from gis.units import geodesic_area

CORE_FOOTPRINT = box(106.205, 39.005, 106.21, 39.01)


@pytest.fixture(scope="module")
def client(settings, layers, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def _post(client: TestClient, geom, **kw):
    body = {"geometry": mapping(geom), "crs": "CRS84", "activity": "LA1",
            "new_construction_land": True, "profile": "dawukou", **kw}
    return client.post("/api/v1/analysis/siting", json=body)


def test_run_fetch_and_audit(client: TestClient, layers) -> None:
    response = _post(client, CORE_FOOTPRINT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["verdict"] == "prohibited"
    assert response.headers["location"].endswith(body["id"])
    overlap = body["overlaps"][0]
    assert {"layer", "zone", "area_m2", "area_mu", "area_ha", "share", "features"} <= set(overlap)
    assert overlap["area_m2"] == pytest.approx(geodesic_area(CORE_FOOTPRINT).m2, rel=1e-3)
    assert overlap["features"][0]["key"] == "HX-001"
    assert body["rules"][0]["citation"]["seed"] == "003_93e195fdba6286ab.txt"
    assert body["overlap_geojson"]["type"] == "FeatureCollection"
    again = client.get(f"/api/v1/analysis/siting/{body['id']}")
    assert again.status_code == 200 and again.json()["verdict"] == "prohibited"
    with layers.connect() as conn:
        row = conn.execute(text(
            "SELECT profile, profile_version, activity, inputs->>'crs', created_at "
            "FROM siting_runs WHERE id = :id"), {"id": body["id"]}).one()
    assert row[:4] == ("dawukou", "2021.1", "LA1", "CRS84") and row[4] is not None


def test_approval_path_in_response(client: TestClient) -> None:
    body = _post(client, box(106.23, 39.005, 106.24, 39.01), activity="NMP3").json()
    assert body["verdict"] == "justification_required"
    assert body["approval_path"]["id"] == "national_major_with_new_land"


def test_reports(client: TestClient) -> None:
    run_id = _post(client, CORE_FOOTPRINT).json()["id"]
    html = client.get(f"/api/v1/analysis/siting/{run_id}/report.html")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "禁止" in html.text and "核心保护区原则上禁止人为活动" in html.text
    assert "data:image/png;base64," in html.text and "亩" in html.text
    pdf = client.get(f"/api/v1/analysis/siting/{run_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000


def test_rules_listing(client: TestClient) -> None:
    body = client.get("/api/v1/rules/dawukou").json()
    codes = {a["code"]: a for a in body["activities"]}
    assert len([c for c in codes if c.startswith("LA")]) == 9
    assert len([c for c in codes if c.startswith("NMP")]) == 6
    assert codes["HOUSING"]["category"] == "housing"
    assert codes["LA1"]["name_zh"].startswith("管护巡护")
    assert client.get("/api/v1/rules").json()[0]["id"] == "dawukou"
    missing = client.get("/api/v1/rules/beijing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"geometry": "POINT (106.3 39)", "activity": "LA1", "new_construction_land": True},
     422, "polygon"),
    ({"geometry": mapping(CORE_FOOTPRINT), "activity": "NOPE", "new_construction_land": True},
     422, "unknown activity"),
    ({"geometry": mapping(CORE_FOOTPRINT), "activity": "LA1"}, 422, "new_construction_land"),
    ({"geometry": mapping(CORE_FOOTPRINT), "activity": "LA1", "new_construction_land": True,
      "crs": "EPSG:0"}, 422, "CRS"),
    ({"geometry": mapping(CORE_FOOTPRINT), "activity": "LA1", "new_construction_land": True,
      "profile": "nowhere"}, 404, "nowhere"),
])
def test_bad_requests_are_problem_details(client: TestClient, body, status, fragment) -> None:
    response = client.post("/api/v1/analysis/siting", json=body,
                           headers={"Accept-Language": "en"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert fragment.lower() in (problem["detail"] + str(problem.get("errors"))).lower()


def test_unknown_run_and_oversized_body(client: TestClient) -> None:
    assert client.get("/api/v1/analysis/siting/doesnotexist").status_code == 404
    huge = "x" * 21_000_000
    response = client.post("/api/v1/analysis/siting", content=huge,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_construction_and_linear_in_the_request(client: TestClient, layers) -> None:
    """A patrol without facilities in the general zone: 003:243 prescribes a justification
    only for new construction land or "有具体建设活动的项目"; the declarations are stored."""
    patrol = _post(client, box(106.23, 39.005, 106.24, 39.01), new_construction_land=False,
                   construction=False, linear=False)
    assert patrol.status_code == 201, patrol.text
    body = patrol.json()
    assert body["verdict"] == "permitted_with_conditions"
    assert body["approval_path"]["id"] == "limited_without_land_or_construction"
    assert body["approval_path"]["required"] is False
    assert (body["construction"], body["linear"], body["new_construction_land"]) == (
        False, False, False)
    general = next(r for r in body["rules"] if r["rule_id"] == "redline.general_zone")
    assert {c["status"] for c in general["conditions"]} == {"to_confirm"}
    with layers.connect() as conn:
        inputs = conn.execute(text("SELECT inputs FROM siting_runs WHERE id = :id"),
                              {"id": body["id"]}).scalar_one()
    assert inputs["construction"] is False and inputs["linear"] is False
    again = client.get(f"/api/v1/analysis/siting/{body['id']}").json()
    assert again["approval_path"]["id"] == "limited_without_land_or_construction"
    # the default is construction: the same request without the field goes to 003:243's
    # second case, confirmed by the same-level government
    default = _post(client, box(106.23, 39.005, 106.24, 39.01), new_construction_land=False)
    assert default.json()["approval_path"]["id"] == "limited_without_new_land"
    assert default.json()["construction"] is True


def test_a_condition_not_met_is_named(client: TestClient) -> None:
    """LA2 with new construction land: 003:225 "在不扩大现有建设用地……规模的前提下"."""
    body = _post(client, box(106.23, 39.005, 106.24, 39.01), activity="LA2").json()
    assert body["verdict"] == "prohibited" and body["approval_path"] is None
    general = next(r for r in body["rules"] if r["rule_id"] == "redline.general_zone")
    assert {c["id"]: c["status"] for c in general["conditions"]}["no_enlargement"] == "not_met"
    warning = next(w for w in body["warnings"] if w["code"] == "condition_not_met")
    assert "不扩大现有建设用地" in warning["message_zh"] and "not met" in warning["message_en"]
