"""Shared fixtures of the OGC conformance suite (``tests/ogc``): one module per standard,
one test per abstract test of each conformance class ``/ogc/conformance`` declares, named
after the abstract test (``test_<class>__<abstract test>``). The standards' own test data
(Natural Earth) is not a catalogue layer, so the data-driven abstract tests ("test-data")
run the same kinds of predicates on the sample one-map, with the expected features computed
independently of the server (geopandas/shapely over the table, or plain Python)."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from gis.settings import Settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
SPEC = "http://www.opengis.net/spec/"
GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
#: A public collection with numbers, text, a date (its temporal property) and polygons.
VILLAGES = "village_plans"
ITEMS = f"/ogc/collections/{VILLAGES}/items"


@pytest.fixture(scope="module")
def api(settings: Settings, sample_db: Engine) -> Iterator[TestClient]:
    """The API in-process on the samples, as an anonymous client."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def admin(settings: Settings, sample_db: Engine, role_keys) -> Iterator[TestClient]:
    """The same, with an admin key: every collection."""
    with TestClient(create_app(settings), headers=role_keys["admin"]) as client:
        yield client


def frame(engine: Engine, table: str) -> gpd.GeoDataFrame:
    """A layer's rows read straight from the table (the oracle's copy)."""
    return gpd.read_postgis(f"SELECT * FROM {table} ORDER BY id", engine, geom_col="geom")


def ids(body: dict) -> set[int]:
    return {f["id"] for f in body["features"]}


def select(client: TestClient, path: str = ITEMS, **params) -> set[int]:
    """The ids an items request returns (all pages' worth: limit 10,000)."""
    response = client.get(path, params={"limit": 10_000, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(GEOJSON)
    return ids(response.json())


def declared(client: TestClient) -> list[str]:
    response = client.get("/ogc/conformance")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["conformsTo"]
