"""OGC API - Features - Part 3 (19-079r2): conformance classes Queryables, Queryables as
Query Parameters, Filter and Features Filter, one test per abstract test (Annex A)."""

from __future__ import annotations

import re

import pyproj

from tests.ogc.conftest import GEOJSON, ITEMS, SPEC, VILLAGES, declared, frame, select

PART3 = f"{SPEC}ogcapi-features-3/1.0/conf/"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
GEOMETRY_FORMATS = {f"geometry-{t}" for t in (
    "point", "multipoint", "linestring", "multilinestring", "polygon", "multipolygon",
    "geometrycollection", "any", "point-or-multipoint", "linestring-or-multilinestring",
    "polygon-or-multipolygon")}


def _queryables_uri(client, collection: str) -> str:
    head = client.head(f"/ogc/collections/{collection}/items", headers={
        "Accept": "application/json"})
    assert head.status_code == 200
    match = re.search(r'<([^>]+)>; rel="' + re.escape(REL_QUERYABLES) + '"',
                      head.headers["link"])
    assert match, head.headers.get("link")
    return match.group(1).removeprefix("http://testserver")


def _queryables(client, collection: str = VILLAGES) -> dict:
    return client.get(_queryables_uri(client, collection)).json()


def _bbox(client, collection: str) -> list[float]:
    return client.get(f"/ogc/collections/{collection}").json()["extent"]["spatial"]["bbox"][0]


# -- Queryables ------------------------------------------------------------------------------
def test_queryables__get_conformance(api) -> None:
    assert f"{PART3}queryables" in declared(api)


def test_queryables__get_queryables_uris(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        assert _queryables_uri(admin, collection["id"]).endswith(
            f"/collections/{collection['id']}/queryables")


def test_queryables__get_queryables(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        uri = _queryables_uri(admin, collection["id"])
        response = admin.get(uri, headers={"Accept": "application/schema+json"})
        assert response.headers["content-type"] == "application/schema+json"
        body = response.json()
        assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert body["$id"] == "http://testserver" + uri and body["type"] == "object"
        assert body["properties"] and body["additionalProperties"] is False
        for name, schema in body["properties"].items():
            assert "type" in schema or schema.get("format") in GEOMETRY_FORMATS, name
        assert body["properties"]["geometry"]["format"] == "geometry-multipolygon"
        assert "type" not in body["properties"]["geometry"]


# -- Queryables as query parameters --------------------------------------------------------
def test_queryables_query_parameters__get_conformance(api) -> None:
    assert f"{PART3}queryables-query-parameters" in declared(api)


def test_queryables_query_parameters__query_param(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    row = db.iloc[0]
    valid = {"village_name": row["village_name"], "township_name": row["township_name"],
             "planned_construction_m2": repr(float(row["planned_construction_m2"])),
             "resettled": str(bool(row["resettled"])).lower(),
             "approved_date": row["approved_date"].isoformat(), "id": str(row["id"])}
    for name, value in valid.items():
        expected = set(db[db[name].astype(str).str.lower() == str(row[name]).lower()]["id"])
        assert select(api, **{name: value}) == expected and expected, name
    for name, value in {"planned_construction_m2": "lots", "resettled": "maybe",
                        "approved_date": "2022-13-45", "id": "x"}.items():
        assert api.get(ITEMS, params={name: value}).status_code == 400, name


# -- Filter ----------------------------------------------------------------------------------
def test_filter__get_conformance(api) -> None:
    assert f"{PART3}filter" in declared(api)


def test_filter__filter_param(api, sample_db) -> None:
    db = frame(sample_db, VILLAGES)
    assert select(api) == set(db["id"])
    assert select(api, **{"filter-lang": "cql2-text",
                          "filter": "village_name IS NULL"}) == set()
    assert select(api, **{"filter-lang": "cql2-json", "filter": (
        '{"op": "isNull", "args": [{"property": "approved_date"}]}')}) == set(
        db[db["approved_date"].isna()]["id"])
    for lang in ("cql2-text", "cql2-json"):
        response = api.get(ITEMS, params={"filter-lang": lang, "filter": "THIS IS NOT A FILTER"})
        assert response.status_code == 400, lang


def test_filter__filter_lang_default(api) -> None:
    assert select(api, filter="village_name IS NOT NULL") == select(api)
    assert api.get(ITEMS, params={"filter": "THIS IS NOT A FILTER"}).status_code == 400
    doc = api.get("/ogc/api").json()["components"]["parameters"]["filter-lang"]
    assert doc["schema"]["default"] == "cql2-text"
    # GDAL 3.6 pushes attribute filters down only when the enum names the draft cql-text,
    # and then sends it: an alias of cql2-text.
    assert {"cql2-text", "cql2-json", "cql-text"} <= set(doc["schema"]["enum"])
    assert select(api, **{"filter-lang": "cql-text",
                          "filter": "village_name IS NOT NULL"}) == select(api)


def test_filter__expression_construction(api) -> None:
    assert _queryables(api)["additionalProperties"] is False
    response = api.get(ITEMS, params={"filter": "this_is_not_a_queryable IS NULL"})
    assert response.status_code == 400


def test_filter__filter_crs_wgs84(api) -> None:
    w, s, e, n = _bbox(api, VILLAGES)
    assert select(api, filter=f"S_INTERSECTS(geometry,BBOX({w},{s},{e},{n}))") == select(api)
    bad = api.get(ITEMS, params={"filter": "S_INTERSECTS(geometry,BBOX(1000000,1000000,"
                                           "2000000,2000000))"})
    assert bad.status_code == 400


def test_filter__filter_crs_param(api) -> None:
    w, s, e, n = _bbox(api, VILLAGES)
    everything = select(api)
    for uri in api.get(f"/ogc/collections/{VILLAGES}").json()["crs"]:
        code = uri.rsplit("/", 1)[1]
        crs = "OGC:CRS84" if code == "CRS84" else f"EPSG:{code}"
        fwd = pyproj.Transformer.from_crs("OGC:CRS84", crs)
        (a1, a2), (b1, b2) = fwd.transform([w, e], [s, n])
        if code == "4544":  # grow the box a little: its corners are not a lon/lat box
            a1, b1, a2, b2 = a1 - 2000, b1 - 2000, a2 + 2000, b2 + 2000
        got = select(api, **{"filter-crs": uri,
                             "filter": f"S_INTERSECTS(geometry,BBOX({min(a1, a2)},"
                                       f"{min(b1, b2)},{max(a1, a2)},{max(b1, b2)}))"})
        assert got == everything, uri
    bad = api.get(ITEMS, params={
        "filter-crs": "http://www.opengis.net/def/crs/OGC/0/does_not_exist",
        "filter": f"S_INTERSECTS(geometry,BBOX({w},{s},{e},{n}))"})
    assert bad.status_code == 400


def test_filter__get_functions(api) -> None:
    """Custom functions are not supported, so no Functions resource: a function in a
    filter is a 400 naming it."""
    assert api.get("/ogc/functions").status_code == 404
    response = api.get(ITEMS, params={"filter": "my_function(village_name) = 'x'"})
    assert response.status_code == 400 and "my_function" in response.json()["detail"]


# -- Features Filter -------------------------------------------------------------------------
def test_features_filter__get_conformance(api) -> None:
    assert f"{PART3}features-filter" in declared(api)


def test_features_filter__get_collections(api) -> None:
    response = api.get("/ogc/collections", headers={"Accept": "application/json"})
    assert response.status_code == 200 and isinstance(response.json()["collections"], list)


def test_features_filter__get_collection(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        body = admin.get(f"/ogc/collections/{collection['id']}").json()
        link = next(x for x in body["links"] if x["rel"] == REL_QUERYABLES)
        assert link["href"] == (f"http://testserver/ogc/collections/{collection['id']}"
                                "/queryables")


def test_features_filter__filter_on_items(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        path = f"/ogc/collections/{collection['id']}/items"
        w, s, e, n = _bbox(admin, collection["id"])
        everything = select(admin, path)
        assert select(admin, path, filter=f"S_INTERSECTS(geometry,BBOX({w},{s},{e},{n}))"
                      ) == everything
        assert select(admin, path, filter="id IS NULL") == set()
        response = admin.get(path, params={"filter": "THIS IS NOT A FILTER"})
        assert response.status_code == 400
        assert admin.get(path, params={"filter": "id > 0"}).headers["content-type"] == GEOJSON


def test_features_filter__mixing_expression(api) -> None:
    w, s, e, n = _bbox(api, VILLAGES)
    spatial = f"S_INTERSECTS(geometry,BBOX({w},{s},{e},{n}))"
    assert select(api, filter=spatial, bbox=f"{w},{s},{e},{n}") == select(api)
    assert select(api, filter=spatial, bbox="0,0,1,1") == set()
    half = select(api, filter="planned_construction_m2 > 300000", bbox=f"{w},{s},{e},{n}")
    assert half == select(api, filter="planned_construction_m2 > 300000")
