"""OGC API - Features - Part 1 (17-069r4): conformance classes Core, GeoJSON, HTML and
OpenAPI 3.0, one test per abstract test (Annex A)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import pytest
import shapely
from openapi_spec_validator import validate
from sqlalchemy import text

from tests.ogc.conftest import CRS84, GEOJSON, ITEMS, PROBLEM, SPEC, VILLAGES, frame, ids, select

CORE = f"{SPEC}ogcapi-features-1/1.0/conf/"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"


def _link(body: dict, rel: str, media_type: str | None = None) -> dict:
    return next(x for x in body["links"]
                if x["rel"] == rel and (media_type is None or x["type"] == media_type))


def _items_op(api) -> dict:
    return api.get("/ogc/api").json()["paths"][f"/collections/{VILLAGES}/items"]["get"]


def _param(api, name: str) -> dict:
    doc = api.get("/ogc/api").json()
    for p in _items_op(api)["parameters"]:
        p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        if p["name"] == name:
            return p
    raise AssertionError(name)


# -- Core ------------------------------------------------------------------------------------
def test_core__http(api) -> None:
    response = api.get("/ogc/")
    assert response.status_code == 200 and response.http_version in ("HTTP/1.1", "HTTP/2")


def test_core__crs84(api) -> None:
    body = api.get(ITEMS, params={"limit": 3}).json()
    assert api.get(ITEMS).headers["content-crs"] == f"<{CRS84}>"
    for feature in body["features"]:
        lon, lat = shapely.geometry.shape(feature["geometry"]).representative_point().coords[0]
        assert 73 < lon < 135 and 18 < lat < 54  # lon/lat order, in China


def test_core__root_op(api) -> None:
    assert api.get("/ogc/").status_code == 200


def test_core__root_success(api) -> None:
    body = api.get("/ogc/").json()
    rels = {x["rel"] for x in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    assert all("href" in x and "type" in x for x in body["links"])


def test_core__api_definition_op(api) -> None:
    desc = _link(api.get("/ogc/").json(), "service-desc")
    assert desc["type"] == OPENAPI_30
    response = api.get(desc["href"].removeprefix("http://testserver"))
    assert response.status_code == 200
    doc = _link(api.get("/ogc/").json(), "service-doc")
    assert api.get(doc["href"].removeprefix("http://testserver")).status_code == 200


def test_core__api_definition_success(api) -> None:
    response = api.get("/ogc/api")
    assert response.headers["content-type"] == OPENAPI_30
    assert response.json()["openapi"].startswith("3.0.")


def test_core__conformance_op(api) -> None:
    response = api.get("/ogc/conformance")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_core__conformance_success(api) -> None:
    classes = api.get("/ogc/conformance").json()["conformsTo"]
    assert f"{CORE}core" in classes and all(c.startswith("http://") for c in classes)


def test_core__query_param_invalid(api) -> None:
    for params in ({"limit": "ten"}, {"bbox": "1,2,3"}, {"datetime": "yesterday"},
                   {"offset": "-1"}, {"crs": "EPSG:3857"}):
        response = api.get(ITEMS, params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == PROBLEM


def test_core__query_param_unknown(api) -> None:
    assert api.get(ITEMS, params={"no_such_parameter": "1"}).status_code == 400


def test_core__fc_md_op(api) -> None:
    assert api.get("/ogc/collections").status_code == 200


def test_core__fc_md_success(api) -> None:
    body = api.get("/ogc/collections").json()
    assert isinstance(body["collections"], list) and body["collections"]
    assert all("id" in c and "links" in c for c in body["collections"])


def test_core__fc_md_links(api) -> None:
    body = api.get("/ogc/collections").json()
    assert _link(body, "self", "application/json")["href"].endswith("/ogc/collections")
    alternate = _link(body, "alternate", "text/html")
    page = api.get(alternate["href"].removeprefix("http://testserver"))
    assert page.headers["content-type"].startswith("text/html")
    assert 'rel="alternate" type="application/json"' in page.text  # and back to JSON


def test_core__fc_md_items(api) -> None:
    for collection in api.get("/ogc/collections").json()["collections"]:
        assert collection["itemType"] == "feature"
        assert _link(collection, "items", GEOJSON)


def test_core__fc_md_items_links(api) -> None:
    for collection in api.get("/ogc/collections").json()["collections"]:
        href = _link(collection, "items", GEOJSON)["href"]
        assert href.endswith(f"/ogc/collections/{collection['id']}/items")


def test_core__fc_md_extent(api, sample_db) -> None:
    villages = api.get(f"/ogc/collections/{VILLAGES}").json()
    west, south, east, north = villages["extent"]["spatial"]["bbox"][0]
    geoms = frame(sample_db, VILLAGES).geometry
    minx, miny, maxx, maxy = geoms.total_bounds
    assert west <= minx + 1e-6 and south <= miny + 1e-6 and east >= maxx - 1e-6
    assert north >= maxy - 1e-6 and villages["extent"]["spatial"]["crs"] == CRS84
    (start, end), = villages["extent"]["temporal"]["interval"]
    with sample_db.connect() as conn:
        first, last = conn.execute(text(
            f"SELECT min(approved_date), max(approved_date) FROM {VILLAGES}")).one()
    assert start.startswith(first.isoformat()) and end.startswith(last.isoformat())
    assert "temporal" not in api.get("/ogc/collections/admin_divisions").json()["extent"]


def test_core__sfc_md_op(api) -> None:
    assert api.get(f"/ogc/collections/{VILLAGES}").status_code == 200
    assert api.get("/ogc/collections/nosuch").status_code == 404


def test_core__sfc_md_success(api) -> None:
    single = api.get(f"/ogc/collections/{VILLAGES}").json()
    listed = next(c for c in api.get("/ogc/collections").json()["collections"]
                  if c["id"] == VILLAGES)
    assert single == listed


def test_core__fc_op(api) -> None:
    response = api.get(ITEMS)
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON


def test_core__fc_limit_definition(api) -> None:
    limit = _param(api, "limit")
    assert limit["in"] == "query" and not limit["required"]
    assert limit["schema"]["type"] == "integer" and limit["style"] == "form"
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["minimum"] == 1


def test_core__fc_limit_response(api) -> None:
    assert len(api.get(ITEMS, params={"limit": 3}).json()["features"]) == 3
    zones = "/ogc/collections/village_plan_zones/items"
    beyond = api.get(zones, params={"limit": 10_001})
    assert beyond.status_code == 200  # above the maximum: the maximum, not an error
    assert beyond.json()["numberReturned"] <= 10_000


def test_core__fc_bbox_definition(api) -> None:
    bbox = _param(api, "bbox")
    assert bbox["schema"]["type"] == "array" and bbox["schema"]["items"]["type"] == "number"
    assert (bbox["schema"]["minItems"], bbox["schema"]["maxItems"]) == (4, 6)
    assert bbox["style"] == "form" and bbox["explode"] is False


def test_core__fc_bbox_response(api, sample_db) -> None:
    db = frame(sample_db, "village_plan_zones")
    box = (106.35, 38.95, 106.45, 39.05)
    expected = set(db[db.intersects(shapely.box(*box))]["id"])
    zones = "/ogc/collections/village_plan_zones/items"
    assert select(api, zones, bbox=",".join(map(str, box))) == expected
    assert select(api, zones, bbox="106.35,38.95,0,106.45,39.05,100") == expected
    # West > east crosses the antimeridian: 170°E..170°W holds nothing at 106°E.
    assert select(api, zones, bbox="170,30,-170,40") == set()
    wrapped = shapely.MultiPolygon([shapely.box(106.45, 38.95, 180, 39.05),
                                    shapely.box(-180, 38.95, 106.35, 39.05)])
    assert select(api, zones, bbox="106.45,38.95,106.35,39.05") == set(
        db[db.intersects(wrapped)]["id"])
    for bad in ("106.35,39.05,106.45,38.95", "106,38,107,91", "-181,38,107,39"):
        assert api.get(zones, params={"bbox": bad}).status_code == 400, bad


def test_core__fc_time_definition(api) -> None:
    datetime = _param(api, "datetime")
    assert datetime["in"] == "query" and datetime["schema"]["type"] == "string"
    assert datetime["style"] == "form" and datetime["explode"] is False


def test_core__fc_time_response(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    days = db["approved_date"]

    def expected(start: dt.date | None, end: dt.date | None) -> set[int]:
        inside = days.notna()
        if start:
            inside &= days >= start
        if end:
            inside &= days <= end
        return set(db[inside | days.isna()]["id"])  # no temporal geometry: matched too

    cut = dt.date(2022, 1, 1)
    cases = {"2022-01-01/..": (cut, None), "2022-01-01/": (cut, None),
             "2022-01-01T/..": (cut, None), "../2021-12-31": (None, dt.date(2021, 12, 31)),
             "/2021-12-31": (None, dt.date(2021, 12, 31)),
             "2021-10-01/2022-01-31": (dt.date(2021, 10, 1), dt.date(2022, 1, 31))}
    for value, (start, end) in cases.items():
        got = select(api, datetime=value)
        assert got == expected(start, end), value
        assert 0 < len(got) < len(db), value
    day = sorted(days.dropna())[0]
    assert select(api, datetime=day.isoformat()) == expected(day, day)
    # 2022-03-14T20:00:00Z is 2022-03-15 04:00 in Beijing: that day.
    assert select(api, datetime="2022-03-14T20:00:00Z") == expected(
        dt.date(2022, 3, 15), dt.date(2022, 3, 15))
    # A collection without a temporal property: every feature is matched.
    all_divisions = select(api, "/ogc/collections/admin_divisions/items")
    assert select(api, "/ogc/collections/admin_divisions/items",
                  datetime="2022-01-01/..") == all_divisions
    for bad in ("../..", "2022-13-01", "2022-02-01/2022-01-01", "2022-01-01T10:00:00",
                "tomorrow", "2022-01-01/2022-02-01/2022-03-01"):
        assert api.get(ITEMS, params={"datetime": bad}).status_code == 400, bad


def test_core__fc_response(api) -> None:
    body = api.get(ITEMS, params={"limit": 5}).json()
    assert body["type"] == "FeatureCollection" and isinstance(body["features"], list)


def test_core__fc_links(api) -> None:
    body = api.get(ITEMS, params={"limit": 5}).json()
    assert _link(body, "self", GEOJSON)["href"].startswith("http://testserver/ogc/")
    assert _link(body, "alternate", "text/html")
    assert _link(body, "next", GEOJSON)["href"].find("offset=5") > 0


def test_core__fc_timeStamp(api) -> None:  # noqa: N802 - the abstract test's name
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = api.get(ITEMS).json()["timeStamp"]
    value = dt.datetime.fromisoformat(stamp)
    assert before <= value <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def test_core__fc_numberMatched(api, sample_db) -> None:  # noqa: N802
    with sample_db.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM {VILLAGES}")).scalar_one()
    assert api.get(ITEMS, params={"limit": 2}).json()["numberMatched"] == total


def test_core__fc_numberReturned(api) -> None:  # noqa: N802
    body = api.get(ITEMS, params={"limit": 4}).json()
    assert body["numberReturned"] == len(body["features"]) == 4


def test_core__f_op(api) -> None:
    fid = next(iter(ids(api.get(ITEMS, params={"limit": 1}).json())))
    assert api.get(f"{ITEMS}/{fid}").status_code == 200
    assert api.get(f"{ITEMS}/99999999").status_code == 404


def test_core__f_success(api) -> None:
    fid = next(iter(ids(api.get(ITEMS, params={"limit": 1}).json())))
    response = api.get(f"{ITEMS}/{fid}")
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "Feature" and body["id"] == fid


def test_core__f_links(api) -> None:
    fid = next(iter(ids(api.get(ITEMS, params={"limit": 1}).json())))
    body = api.get(f"{ITEMS}/{fid}").json()
    assert _link(body, "self", GEOJSON)["href"].endswith(f"/items/{fid}")
    assert _link(body, "collection")["href"].endswith(f"/collections/{VILLAGES}")
    html = _link(body, "alternate", "text/html")["href"].removeprefix("http://testserver")
    page = api.get(html)
    assert page.headers["content-type"].startswith("text/html")
    assert 'rel="alternate" type="application/geo+json"' in page.text


# -- GeoJSON ---------------------------------------------------------------------------------
def test_geojson__definition(api) -> None:
    assert api.get(ITEMS, headers={"Accept": GEOJSON}).headers["content-type"] == GEOJSON
    assert f"{CORE}geojson" in api.get("/ogc/conformance").json()["conformsTo"]


def _ring_area(ring: list) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))


def test_geojson__content(api, sample_db) -> None:
    """RFC 7946: features and collections as specified, and the right-hand rule (outer rings
    counterclockwise, holes clockwise), also for the rings the samples store clockwise."""
    zones = api.get("/ogc/collections/village_plan_zones/items",
                    params={"limit": 10_000}).json()
    body = api.get(ITEMS, params={"limit": 10_000}).json()
    rings = 0
    for feature in [*body["features"], *zones["features"]]:
        assert set(feature) >= {"type", "id", "geometry", "properties"}
        assert feature["geometry"]["type"] == "MultiPolygon"
        for polygon in feature["geometry"]["coordinates"]:
            assert _ring_area(polygon[0]) > 0  # counterclockwise
            assert all(_ring_area(hole) < 0 for hole in polygon[1:])
            rings += len(polygon)
    with sample_db.connect() as conn:
        clockwise = conn.execute(text(
            "SELECT count(*) FROM village_plan_zones WHERE NOT ST_IsPolygonCCW(geom)")).scalar()
    assert rings and clockwise  # the samples do store clockwise rings


# -- HTML ------------------------------------------------------------------------------------
def test_html__definition(api) -> None:
    for path in ("/ogc/", "/ogc/conformance", "/ogc/collections",
                 f"/ogc/collections/{VILLAGES}", ITEMS):
        response = api.get(path, headers={"Accept": "text/html"})
        assert response.headers["content-type"].startswith("text/html"), path


def test_html__content(api) -> None:
    page = api.get(ITEMS, params={"f": "html", "limit": 2}).text
    assert page.startswith("<!doctype html>") and "<table>" in page
    assert re.search(r'<link rel="alternate" type="application/geo\+json" href="[^"]+f=json"',
                     page)


# -- OpenAPI 3.0 -----------------------------------------------------------------------------
def test_oas30__completeness(admin) -> None:
    doc = admin.get("/ogc/api").json()
    for layer in admin.get("/ogc/collections").json()["collections"]:
        for suffix in ("", "/queryables", "/items", "/items/{featureId}", "/tiles",
                       "/tiles/{tileMatrixSetId}",
                       "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"):
            assert f"/collections/{layer['id']}{suffix}" in doc["paths"]
    for path in ("/", "/conformance", "/api", "/collections", "/tileMatrixSets"):
        assert path in doc["paths"]
    for item in doc["paths"].values():
        assert "200" in item["get"]["responses"]


def test_oas30__exceptions_codes(admin) -> None:
    doc = admin.get("/ogc/api").json()
    for path, item in doc["paths"].items():
        codes = set(item["get"]["responses"])
        assert {"400", "404", "500"} <= codes, path
        if path.startswith("/collections/"):
            assert {"401", "403"} <= codes, path
    # and those are the codes answered
    assert admin.get(ITEMS, params={"bbox": "x"}).status_code == 400


def test_oas30__oas_definition_1(api) -> None:
    desc = _link(api.get("/ogc/").json(), "service-desc")
    assert desc["type"] == OPENAPI_30
    assert api.get(desc["href"].removeprefix("http://testserver")).headers[
        "content-type"] == OPENAPI_30
    doc = _link(api.get("/ogc/").json(), "service-doc")
    assert doc["type"] == "text/html"


def test_oas30__oas_definition_2(admin) -> None:
    validate(admin.get("/ogc/api").json())  # raises if not valid OpenAPI 3.0


def test_oas30__oas_impl(admin) -> None:
    """Every path of the document answers as documented (path parameters filled with
    values the document enumerates or one feature's id)."""
    doc = admin.get("/ogc/api").json()
    fid = next(iter(ids(admin.get(ITEMS, params={"limit": 1}).json())))
    for path, item in doc["paths"].items():
        url = path.replace("{featureId}", str(fid)).replace(
            "{tileMatrixSetId}", "WebMercatorQuad").replace("{tileMatrix}/", "0/").replace(
            "{tileRow}", "0").replace("{tileCol}", "0")
        response = admin.get("/ogc" + url)
        assert str(response.status_code) in item["get"]["responses"], (path, response.text)
        if response.status_code == 200:
            assert response.headers["content-type"].split(";")[0] in {
                t.split(";")[0] for t in item["get"]["responses"]["200"]["content"]}, path


def test_oas30__security(api) -> None:
    doc = api.get("/ogc/api").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header",
                                 "name": "X-API-Key"}
    assert schemes["basic"]["type"] == "http" and schemes["basic"]["scheme"] == "basic"
    items = _items_op(api)
    assert {"apiKey": []} in items["security"] and {"basic": []} in items["security"]


@pytest.mark.parametrize("path", ["/ogc/", "/ogc/conformance", "/ogc/collections",
                                  f"/ogc/collections/{VILLAGES}", ITEMS,
                                  f"/ogc/collections/{VILLAGES}/queryables", "/ogc/api",
                                  "/ogc/tileMatrixSets"])
def test_every_resource_answers_head(api, path: str) -> None:
    """Clients and the suites read headers with HEAD (405 before)."""
    get, head = api.get(path), api.head(path)
    assert head.status_code == 200 == get.status_code
    assert head.headers["content-type"] == get.headers["content-type"]
    json.dumps(get.headers.get("link", ""))
