"""OGC API - Features over the sample one-map: the standard's resources, CRS by reference,
CQL2 filters, paging and injection attempts, checked with our client, GDAL's OAPIF driver
and OWSLib (clients nobody here wrote)."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pyproj
import pytest
import shapely
from fastapi.testclient import TestClient
from owslib.ogcapi.features import Features
from sqlalchemy import text

from api.app import create_app
from gis.testing import table_state

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PUBLIC_LAYERS = {"admin_divisions", "cultivated_land", "urban_boundary", "village_plans",
                 "township_plans", "village_plan_zones", "forest_farm_areas"}


@pytest.fixture(scope="module")
def client(settings, sample_db):
    with TestClient(create_app(settings)) as c:
        yield c


def _db_frame(engine, table: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(f"SELECT * FROM {table}", engine, geom_col="geom")


def _ids(body: dict) -> set[int]:
    return {f["id"] for f in body["features"]}


def test_landing_conformance_collections(client: TestClient) -> None:
    landing = client.get("/ogc/").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc", "service-doc"} <= rels
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert any(c.endswith("ogcapi-features-2/1.0/conf/crs") for c in conf)
    assert any(c.endswith("cql2/1.0/conf/cql2-text") for c in conf)
    listing = client.get("/ogc/collections").json()["collections"]
    assert {c["id"] for c in listing} == PUBLIC_LAYERS  # anonymous: public layers only
    villages = client.get("/ogc/collections/village_plans").json()
    assert villages["storageCrs"] == f"{EPSG}4490"
    assert f"{EPSG}4544" in villages["crs"] and CRS84 in villages["crs"]
    minx, miny, maxx, maxy = villages["extent"]["spatial"]["bbox"][0]
    assert 105.5 < minx < maxx < 107.5 and 37.5 < miny < maxy < 39.6
    queryables = client.get("/ogc/collections/village_plans/queryables").json()
    assert queryables["properties"]["planned_construction_m2"]["type"] == "number"
    assert queryables["properties"]["village_name"]["title"] == "村名称"


def test_items_match_the_table_and_page_through(client: TestClient, sample_db) -> None:
    frame = _db_frame(sample_db, "village_plan_zones")
    seen: list[int] = []
    url = "/ogc/collections/village_plan_zones/items?limit=7"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("application/geo+json")
        body = page.json()
        assert body["numberMatched"] == len(frame) and body["numberMatchedExact"]
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert sorted(seen) == sorted(frame["id"]) and len(seen) == len(set(seen))
    one = client.get(f"/ogc/collections/village_plan_zones/items/{seen[0]}").json()
    row = frame.set_index("id").loc[seen[0]]
    assert one["properties"]["area_m2"] == pytest.approx(row["area_m2"], abs=0.01)
    assert one["properties"]["area_mu"] == pytest.approx(row["area_m2"] * 0.0015, abs=0.01)
    assert shapely.geometry.shape(one["geometry"]).equals_exact(row["geom"], 1e-7)


def test_bbox_equals_an_independent_intersection(client: TestClient, sample_db) -> None:
    frame = _db_frame(sample_db, "village_plan_zones")
    bbox = (106.35, 38.95, 106.45, 39.05)
    expected = set(frame[frame.intersects(shapely.box(*bbox))]["id"])
    assert expected
    got = client.get("/ogc/collections/village_plan_zones/items",
                     params={"bbox": ",".join(map(str, bbox)), "limit": 1000}).json()
    assert _ids(got) == expected
    # The same box in EPSG:4490 is written latitude first (its axis order).
    lat_first = client.get("/ogc/collections/village_plan_zones/items", params={
        "bbox": f"{bbox[1]},{bbox[0]},{bbox[3]},{bbox[2]}", "bbox-crs": f"{EPSG}4490",
        "limit": 1000}).json()
    assert _ids(lat_first) == expected


@pytest.mark.parametrize("code", ["4490", "4326", "4544"])
def test_output_crs_round_trips(client: TestClient, code: str) -> None:
    reference = client.get("/ogc/collections/village_plans/items", params={"limit": 3}).json()
    response = client.get("/ogc/collections/village_plans/items",
                          params={"limit": 3, "crs": f"{EPSG}{code}"})
    assert response.headers["content-crs"] == f"<{EPSG}{code}>"
    # Axis order as the EPSG definition says (lat/lon, northing/easting): no always_xy.
    back = pyproj.Transformer.from_crs(f"EPSG:{code}", "OGC:CRS84")
    tolerance = 1e-6
    for ref, got in zip(reference["features"], response.json()["features"], strict=True):
        assert ref["id"] == got["id"]
        ref_ring = ref["geometry"]["coordinates"][0][0]
        got_ring = got["geometry"]["coordinates"][0][0]
        for (lon, lat), (a, b) in zip(ref_ring, got_ring, strict=True):
            x, y = back.transform(a, b)
            assert abs(x - lon) < tolerance and abs(y - lat) < tolerance
    # A bbox given in the projected CRS selects the same features as in CRS84.
    fwd = pyproj.Transformer.from_crs("OGC:CRS84", f"EPSG:{code}")
    centre = shapely.geometry.shape(reference["features"][0]["geometry"]).centroid
    a1, b1 = fwd.transform(centre.x - 0.001, centre.y - 0.001)
    a2, b2 = fwd.transform(centre.x + 0.001, centre.y + 0.001)
    hit = client.get("/ogc/collections/village_plans/items", params={
        "bbox": f"{min(a1, a2)},{min(b1, b2)},{max(a1, a2)},{max(b1, b2)}",
        "bbox-crs": f"{EPSG}{code}"}).json()
    assert reference["features"][0]["id"] in _ids(hit)


def test_cql2_text_json_and_property_filters_agree(client: TestClient, sample_db) -> None:
    frame = _db_frame(sample_db, "village_plans")
    expected = set(frame[(frame["township_name"] == "星海镇")
                         & (frame["planned_construction_m2"] > 300_000)]["id"])
    assert expected and len(expected) < len(frame)
    url = "/ogc/collections/village_plans/items"
    text_f = client.get(url, params={
        "filter": "township_name = '星海镇' AND planned_construction_m2 > 300000"}).json()
    json_f = client.get(url, params={"filter-lang": "cql2-json", "filter": (
        '{"op": "and", "args": [{"op": "=", "args": [{"property": "township_name"}, "星海镇"]},'
        ' {"op": ">", "args": [{"property": "planned_construction_m2"}, 300000]}]}')}).json()
    prop_f = client.get(url, params={"township_name": "星海镇",
                                     "filter": "planned_construction_m2 > 300000"}).json()
    assert _ids(text_f) == _ids(json_f) == _ids(prop_f) == expected
    # Spatial: S_INTERSECTS with a polygon literal, and a cql2-json bbox.
    zone = shapely.box(106.35, 38.95, 106.45, 39.05)
    spatial = set(frame[frame.intersects(zone)]["id"])
    got = client.get(url, params={"filter": f"S_INTERSECTS(geometry, {zone.wkt})"}).json()
    got_json = client.get(url, params={"filter-lang": "cql2-json", "filter": (
        '{"op": "s_intersects", "args": [{"property": "geometry"}, '
        '{"bbox": [106.35, 38.95, 106.45, 39.05]}]}')}).json()
    assert _ids(got) == _ids(got_json) == spatial


def test_sortby_and_properties(client: TestClient, sample_db) -> None:
    body = client.get("/ogc/collections/village_plans/items", params={
        "sortby": "-planned_construction_m2", "properties": "village_name,area_mu",
        "limit": 100}).json()
    values = [f["properties"] for f in body["features"]]
    assert all(set(v) == {"village_name", "area_mu"} for v in values)
    frame = _db_frame(sample_db, "village_plans").sort_values(
        ["planned_construction_m2", "id"], ascending=[False, True])
    assert [f["id"] for f in body["features"]] == list(frame["id"])


@pytest.mark.parametrize(("params", "status"), [
    ({"filter": "village_name = 'x'; DROP TABLE village_plans"}, 400),
    # CQL2 escapes quotes as '' or \': the whole text is one string literal, no feature has it
    ({"filter": "village_name = 'x'' OR ''1''=''1'"}, 200),
    ({"filter": "village_name = 'x\\' OR 1=1 --'"}, 200),
    ({"filter": "pg_sleep(5) = 1"}, 400),
    ({"filter": "nosuch = 1"}, 400),
    ({"filter": "planned_construction_m2 = 'abc'"}, 400),
    ({"filter": '{"op": "=", "args": [{"property": "id; drop"}, 1]}', "filter-lang": "cql2-json"},
     400),
    ({"filter-lang": "sql", "filter": "1=1"}, 400),
    ({"sortby": "id;DROP TABLE village_plans"}, 400),
    ({"sortby": "-(select 1)"}, 400),
    ({"properties": "village_name,(SELECT 1)"}, 400),
    ({"bbox": "1,2,3"}, 400),
    ({"bbox": "a,b,c,d"}, 400),
    ({"crs": "EPSG:3857"}, 400),
    ({"bbox-crs": "http://evil/crs"}, 400),
    ({"limit": "0"}, 400),
    ({"limit": "ten"}, 400),
    ({"village_name;drop": "x"}, 400),
    ({"planned_construction_m2": "lots"}, 400),
])
def test_malformed_and_injection_attempts(client: TestClient, sample_db, params, status) -> None:
    before = table_state(sample_db, "village_plans")
    response = client.get("/ogc/collections/village_plans/items", params=params)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    else:
        assert response.json()["features"] == []
    assert table_state(sample_db, "village_plans") == before


@pytest.mark.parametrize("path", [
    "/ogc/collections/village_plans;drop/items",
    "/ogc/collections/nosuch/items",
    "/ogc/collections/village_plans/items/1%20OR%201=1",
    "/ogc/collections/village_plans/items/999999",
])
def test_unknown_collections_and_features_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_html_views(client: TestClient) -> None:
    page = client.get("/ogc/collections/village_plans/items", params={"f": "html", "limit": 3})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "村名称" in page.text and "镇河村" in page.text  # the first village by id
    browser = client.get("/ogc/collections", headers={"Accept": "text/html"})
    assert "village_plans" in browser.text and browser.text.startswith("<!doctype html>")


def test_number_matched_is_an_estimate_on_big_results(settings, sample_db) -> None:
    small_limit = settings.with_changes(api={"ogc_exact_count_limit": 0})
    with TestClient(create_app(small_limit)) as c:
        body = c.get("/ogc/collections/village_plan_zones/items", params={"limit": 2}).json()
    assert body["numberMatchedExact"] is False and body["numberMatched"] > 0
    assert any(link["rel"] == "next" for link in body["links"])


def test_gdal_oapif_reads_public_collections(live_server: str, sample_db) -> None:
    with sample_db.connect() as conn:
        counts = {name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                  for name in PUBLIC_LAYERS}
    for name in sorted(PUBLIC_LAYERS):
        frame = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer=name)
        assert len(frame) == counts[name], name
    bbox = (106.35, 38.95, 106.45, 39.05)
    db = _db_frame(sample_db, "village_plans")
    expected = db[db.intersects(shapely.box(*bbox)) & (db["township_name"] == "星海镇")]
    got = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc", layer="village_plans", bbox=bbox,
                                 where="township_name = '星海镇'")
    assert sorted(got["village_code"]) == sorted(expected["village_code"]) and len(got)


def test_owslib_lists_collections_and_pages_items(live_server: str, sample_db) -> None:
    api = Features(f"{live_server}/ogc")
    assert set(api.collections()["collections"][i]["id"]
               for i in range(len(PUBLIC_LAYERS))) == PUBLIC_LAYERS
    assert "village_plans" in [c["id"] for c in api.collections()["collections"]]
    seen = []
    offset = 0
    while True:
        page = api.collection_items("village_plan_zones", limit=5, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 5
    with sample_db.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM village_plan_zones")).scalar_one()
    assert len(seen) == len(set(seen)) == total
