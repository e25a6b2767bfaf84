"""API basics: health with the PostGIS version, the catalogue, problem details on errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app


@pytest.fixture(scope="module")
def client(settings, engine):
    with TestClient(create_app(settings)) as c:
        yield c


def test_health_reports_postgis(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "POSTGIS=\"3" in body["postgis"]


def test_layers_listing(client: TestClient) -> None:
    response = client.get("/api/v1/layers")
    assert response.status_code == 200
    ids = {layer["id"] for layer in response.json()}
    assert "forest_parcels" in ids and len(ids) == 13
    red = client.get("/api/v1/layers/eco_redline").json()
    assert red["title_zh"] == "生态保护红线"
    assert any(f["name"] == "zone" for f in red["fields"])


def test_unknown_layer_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/layers/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["title"] == "未知图层"  # Chinese by default
    assert "eco_redline" in body["detail"]
    english = client.get("/api/v1/layers/nope", headers={"Accept-Language": "en"}).json()
    assert english["title"] == "Unknown layer"


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_portal_home_is_the_viewer(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "一张图" in response.text and 'id="om-config"' in response.text


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/health" in client.get("/openapi.json").json()["paths"]
