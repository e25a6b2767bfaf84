"""Clients nobody here wrote, against the API in its own process: GDAL's OAPIF driver (3.12
through pyogrio, and Debian's 3.6 ``ogrinfo`` when installed) and OWSLib, with a date filter
(GDAL turns ``approved_date >= '2022-01-01'`` into CQL2 or ``datetime``) and with the key
as a Basic password on a restricted layer (what GDAL_HTTP_AUTH=BASIC and QGIS send).
QGIS itself is driven by ``tests/clients`` (``make test-clients``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess

import pyogrio
import pytest
from owslib.ogcapi.features import Features
from owslib.util import Authentication
from sqlalchemy import text

from tests.ogc.conftest import frame

CUT = dt.date(2022, 1, 1)


@pytest.fixture(scope="module")
def expected(sample_db) -> dict:
    villages = frame(sample_db, "village_plans")
    dated = villages[villages["approved_date"] >= CUT]
    with sample_db.connect() as conn:
        redline = conn.execute(text("SELECT count(*) FROM eco_redline")).scalar_one()
    return {"dated": sorted(dated["village_code"]), "all": len(villages), "redline": redline}


@pytest.fixture
def basic(role_keys):
    """GDAL configured for Basic authentication with the planner's key as the password."""
    key = role_keys["planner"]["X-API-Key"]
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC",
                                     "GDAL_HTTP_USERPWD": f"qgis-user:{key}"})
    yield key
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


def test_gdal_date_filter(live_server: str, expected: dict) -> None:
    got = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="village_plans",
                                 where="approved_date >= '2022-01-01'")
    assert sorted(got["village_code"]) == expected["dated"]
    assert 0 < len(got) < expected["all"]


def test_gdal_basic_auth_on_a_restricted_layer(live_server: str, expected: dict,
                                               basic) -> None:
    layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{live_server}/ogc")}
    assert {"eco_redline", "basic_farmland", "survey_patches"} <= layers  # planner's layers
    assert "forest_parcels" not in layers
    got = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="eco_redline")
    assert len(got) == expected["redline"]


def test_gdal_refuses_a_bad_basic_password(live_server: str) -> None:
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BASIC",
                                     "GDAL_HTTP_USERPWD": "qgis-user:om_nope0000_wrong"})
    try:
        with pytest.raises(Exception, match="401"):
            pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="village_plans")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})


def _ogrinfo(url: str, *args: str, env: dict | None = None, quiet: bool = True) -> str:
    assert shutil.which("ogrinfo"), "Debian's gdal-bin is missing: scripts/setup.sh installs it"
    flags = ["-ro", "-al", *(["-q"] if quiet else [])]
    done = subprocess.run(["ogrinfo", *flags, f"OAPIF:{url}/ogc", *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CPL_DEBUG": "ON", **(env or {})})
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_gdal_36_pushes_the_where_clause_down(live_server: str, expected: dict) -> None:
    """GDAL 3.6 sends -where as CQL text only when the OpenAPI filter-lang enum names the
    draft cql-text (then with filter-lang=cql-text and a date as '2022-01-01T')."""
    out = _ogrinfo(live_server, "village_plans", "-where", "approved_date >= '2022-01-01'")
    assert "filter-lang=cql" in out and "approved_date" in out.split("filter=")[1]
    assert sorted(line.split("=")[1].strip() for line in out.splitlines()
                  if line.strip().startswith("village_code (String) =")) == expected["dated"]


def test_gdal_36_basic_auth(live_server: str, expected: dict, role_keys) -> None:
    key = role_keys["planner"]["X-API-Key"]
    out = _ogrinfo(live_server, "eco_redline", "-so", env={
        "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"me:{key}", "CPL_DEBUG": "OFF"},
        quiet=False)
    assert f"Feature Count: {expected['redline']}" in out


def test_owslib_datetime_and_basic_auth(live_server: str, expected: dict, role_keys) -> None:
    public = Features(f"{live_server}/ogc")
    page = public.collection_items("village_plans", datetime_="2022-01-01/..", limit=100)
    assert sorted(f["properties"]["village_code"] for f in page["features"]) == expected[
        "dated"]
    key = role_keys["planner"]["X-API-Key"]
    planner = Features(f"{live_server}/ogc", auth=Authentication("qgis-user", key))
    ids = {c["id"] for c in planner.collections()["collections"]}
    assert "eco_redline" in ids and "eco_redline" not in {
        c["id"] for c in public.collections()["collections"]}
    assert planner.collection_items("eco_redline", limit=100)["numberMatched"] == expected[
        "redline"]
    queryables = planner.collection_queryables("eco_redline")
    assert queryables["properties"]["geometry"]["format"] == "geometry-multipolygon"
    json.dumps(queryables)
