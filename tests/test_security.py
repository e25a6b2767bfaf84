"""Issue 21, defects 4 to 6: the headers every answer carries, the CSP nonce on every script
of a page, hosts refused or pinned to the public base URL, a bad key refused even where no
key is needed, no database address and no server path in answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.auth import issue_key, revoke_key
from gis.settings import ApiSettings

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PAGES = ("/", "/siting", "/reconciliation", "/quota")


def _nonce(response) -> str:
    match = re.search(r"script-src 'self' 'nonce-([^']+)'", response.headers[
        "content-security-policy"])
    assert match, response.headers["content-security-policy"]
    return match[1]


def test_pages_have_a_fresh_nonce_on_every_script(settings, engine) -> None:
    with TestClient(create_app(settings)) as client:
        for page in PAGES:
            first, second = client.get(page), client.get(page)
            assert first.status_code == 200, (page, first.text[:300])
            nonce = _nonce(first)
            script_src = first.headers["content-security-policy"].split("script-src")[1]
            assert "unsafe-inline" not in script_src.split(";")[0]
            tags = re.findall(r"<script\b[^>]*>", first.text)
            assert tags and all(f'nonce="{nonce}"' in tag for tag in tags), (page, tags)
            assert _nonce(second) != nonce and nonce not in second.text
            for header, value in (("x-frame-options", "DENY"),
                                  ("x-content-type-options", "nosniff"),
                                  ("referrer-policy", "no-referrer")):
                assert first.headers[header] == value
            assert "frame-ancestors 'none'" in first.headers["content-security-policy"]


def test_data_answers_and_docs_have_their_own_policies(settings, engine) -> None:
    with TestClient(create_app(settings)) as client:
        data = client.get("/ogc/collections")
        assert data.headers["content-security-policy"].startswith("default-src 'none'")
        assert data.headers["x-content-type-options"] == "nosniff"
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]
        schema = client.get("/openapi.json").json()
        # errors are documented as what they are: problem details
        responses = schema["paths"]["/api/v1/monitoring/patches"]["get"]["responses"]
        assert "application/problem+json" in responses["422"]["content"]
        assert "503" in responses


def test_untrusted_hosts_are_refused(settings, engine) -> None:
    with TestClient(create_app(settings)) as client:
        refused = client.get("/ogc/collections", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "evil.example" not in str(client.get("/ogc/collections?f=json").json())
        assert client.get("/health", headers={"Host": "localhost:8000"}).status_code == 200


def test_links_use_the_public_base_url(settings, engine) -> None:
    public = settings.with_changes(api={"public_base_url": "https://gis.example.cn"})
    with TestClient(create_app(public)) as client:
        body = client.get("/ogc/collections?f=json").json()
        hrefs = [link["href"] for link in body["links"]]
        hrefs += [link["href"] for c in body["collections"] for link in c["links"]]
        assert hrefs and all(h.startswith("https://gis.example.cn/") for h in hrefs), hrefs
        assert client.get("/health").headers["strict-transport-security"]
        # the public host is trusted, an attacker's is not
        assert client.get("/health", headers={"Host": "gis.example.cn"}).status_code == 200
        assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400


def test_public_base_url_must_be_an_origin() -> None:
    with pytest.raises(ValueError, match="origin"):
        ApiSettings(public_base_url="https://gis.example.cn/onemap")
    assert ApiSettings(public_base_url="https://gis.example.cn/").public_base_url == (
        "https://gis.example.cn")


def test_a_bad_or_revoked_key_is_401_where_no_key_is_needed(settings, engine) -> None:
    revoked = issue_key(engine, "security-revoked", "planner")
    revoke_key(engine, "security-revoked")
    open_routes = ("/health", "/api/v1/rules", "/api/v1/layers", "/ogc/", "/ogc/collections",
                   "/", "/openapi.json", "/docs", "/portal/api/search?q=a")
    with TestClient(create_app(settings)) as client:
        for url in open_routes:
            assert client.get(url).status_code == 200, url
            for key in (revoked, "om_garbage", "x"):
                response = client.get(url, headers={"X-API-Key": key})
                assert response.status_code == 401, (url, key, response.status_code)
                assert response.headers["content-type"].startswith("application/problem+json")


def test_answers_show_no_server_paths(settings, sample_db, role_keys) -> None:
    configured = settings.with_changes(data={"raster_dir": SAMPLES,
                                             "dem_path": SAMPLES / "dem.tif"})
    square = {"type": "Polygon", "coordinates": [[[106.3, 39.0], [106.31, 39.0],
                                                  [106.31, 39.01], [106.3, 39.01],
                                                  [106.3, 39.0]]]}
    with TestClient(create_app(configured), headers=role_keys["planner"]) as client:
        terrain = client.post("/api/v1/terrain/stats", json={"geometry": square})
        assert terrain.status_code == 200, terrain.text
        assert terrain.json()["dem"] == "dem.tif"
        run = client.post("/api/v1/monitoring/runs", json={
            "raster_a": "landcover_2020.tif", "raster_b": "landcover_2023.tif",
            "profile": "dawukou"})
        assert run.status_code == 201, run.text
        runs = client.get("/api/v1/monitoring/runs").json()["items"]
        for answer in (run.json(), runs[0]):
            assert (answer["raster_a"], answer["raster_b"]) == ("landcover_2020.tif",
                                                                "landcover_2023.tif")
        for text in (terrain.text, run.text, str(runs)):
            assert str(SAMPLES) not in text
        health = client.get("/health").json()["postgis"]
        assert 'POSTGIS="3' in health and "=/" not in health and "_PATH" not in health
