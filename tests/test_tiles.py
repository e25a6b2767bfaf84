"""OGC API - Tiles over the sample one-map: tiles decoded with ``mapbox-vector-tile`` (a
decoder nobody here wrote) hold exactly the parcels under them, with their ids and attributes;
tile addressing, errors, caching headers and the metadata documents follow the standards."""

from __future__ import annotations

import math
from urllib.parse import quote

import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.layers.catalogue import get_layer
from gis.testing import table_state
from gis.tiles import (
    HALF_WIDTH,
    MVT_EXTENT,
    MVT_MEDIA_TYPE,
    Tile,
    check_tile,
    linear_error_units,
    lonlat_bounds,
    lonlat_to_tile,
    projected,
    render_tile,
    simplify_tolerance,
    tile_bounds,
    tile_params,
    tile_policy,
    tile_query,
)

TILES = "/ogc/collections/{layer}/tiles/WebMercatorQuad"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(settings, sample_db, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


@pytest.fixture(scope="module")
def parcel(sample_db) -> dict:
    """A sample survey patch: its row, and a point inside it (lon/lat)."""
    with sample_db.connect() as conn:
        row = conn.execute(text(
            "SELECT id, patch_no, land_use_code, area_m2, ST_X(p) AS lon, ST_Y(p) AS lat "
            "FROM (SELECT *, ST_PointOnSurface(geom) AS p FROM survey_patches "
            "ORDER BY patch_no LIMIT 1 OFFSET 100) s")).mappings().one()
    return dict(row)


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    x = math.radians(lon) * HALF_WIDTH / math.pi
    y = math.asinh(math.tan(math.radians(lat))) * HALF_WIDTH / math.pi
    return x, y


def _tile_url(layer: str, tile: Tile) -> str:
    return f"{TILES.format(layer=layer)}/{tile.z}/{tile.y}/{tile.x}"  # OGC order: row = y


def _features(content: bytes, layer: str) -> dict[int, dict]:
    decoded = mapbox_vector_tile.decode(content)
    assert set(decoded) == {layer}
    assert decoded[layer]["extent"] == MVT_EXTENT
    return {f["id"]: f for f in decoded[layer]["features"]}


def test_tile_arithmetic_matches_postgis(sample_db) -> None:
    with sample_db.connect() as conn:
        for z, x, y in [(0, 0, 0), (5, 25, 12), (14, 13090, 6290), (22, 3351000, 1610000)]:
            got = conn.execute(text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_TileEnvelope(:z, :x, :y) AS e) s"), {"z": z, "x": x, "y": y}).one()
            assert tile_bounds(z, x, y) == pytest.approx(tuple(got), abs=1e-6)
    tile = lonlat_to_tile(106.27, 38.47, 14)
    xmin, ymin, xmax, ymax = tile.bounds
    px, py = _mercator(106.27, 38.47)
    assert xmin <= px < xmax and ymin < py <= ymax
    # Half a grid unit along the meridian, in degrees, shrinking with the zoom.
    z12, z13 = (simplify_tolerance(lonlat_to_tile(106.27, 38.47, z)) for z in (12, 13))
    assert z12 == pytest.approx(2 * z13, rel=1e-3)
    assert z12 == pytest.approx((xmax - xmin) * 4 / MVT_EXTENT / 2 / 111_319.49
                                * math.cos(math.radians(38.47)), rel=0.01)


def test_linear_latitude_mapping_error_is_bounded() -> None:
    """Where tiles are cut in lon/lat, the Mercator y of every point differs from the linear
    mapping by at most the bound, and the bound is tight (not a blanket 'small')."""
    for lon, lat, z in [(106.27, 38.47, 12), (106.3, 39.3, 12), (106.3, 35.3, 15),
                        (125.0, 53.0, 13), (106.3, 38.5, 9)]:
        tile = lonlat_to_tile(lon, lat, z)
        _, ymin, _, ymax = tile.bounds
        _, south, _, north = lonlat_bounds(tile)
        worst = 0.0
        for i in range(1, 200):
            phi = south + (north - south) * i / 200
            y = _mercator(lon, phi)[1]
            exact = (y - ymin) / (ymax - ymin) * MVT_EXTENT
            linear = (phi - south) / (north - south) * MVT_EXTENT
            worst = max(worst, abs(exact - linear))
        assert worst <= linear_error_units(tile) * 1.01
        assert worst >= linear_error_units(tile) * 0.9
    assert not projected(lonlat_to_tile(106.3, 39.3, 12))  # Ningxia from zoom 12 on
    assert projected(lonlat_to_tile(106.3, 39.3, 11))
    assert projected(lonlat_to_tile(125.0, 53.0, 12))  # farther north: exact at z12


def test_lonlat_cut_matches_the_mercator_cut(sample_db, parcel: dict) -> None:
    layer = get_layer("survey_patches")
    policy = tile_policy(layer)
    raw = sample_db.raw_connection()
    try:
        for z in (12, 13, 15):
            tile = lonlat_to_tile(parcel["lon"], parcel["lat"], z)
            params = tile_params(tile, policy)
            assert "west" in params
            cuts = [_features(raw.driver_connection.execute(
                tile_query(layer.id, False, exact), params).fetchone()[0], "survey_patches")
                for exact in (True, False)]
            inside = shapely.box(0, 0, MVT_EXTENT, MVT_EXTENT)
            for fid, feature in cuts[0].items():
                a = shapely.geometry.shape(feature["geometry"])
                if inside.contains(a):  # outside the tile only the invisible buffer differs
                    b = shapely.geometry.shape(cuts[1][fid]["geometry"])
                    assert a.hausdorff_distance(b) <= 1.0, (z, fid)
    finally:
        raw.close()


def test_tile_holds_the_parcel_under_it(client: TestClient, parcel: dict) -> None:
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 15)
    response = client.get(_tile_url("survey_patches", tile))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT_MEDIA_TYPE
    features = _features(response.content, "survey_patches")
    feature = features[parcel["id"]]  # the MVT feature id is the row id
    props = feature["properties"]
    assert props["patch_no"] == parcel["patch_no"]
    assert props["land_use_code"] == parcel["land_use_code"]
    assert props["area_m2"] == pytest.approx(parcel["area_m2"], abs=0.01)
    assert "updated_at" not in props and "geom" not in props
    # The geometry is where the parcel is: its inner point, in tile units, falls inside.
    xmin, ymin, xmax, ymax = tile.bounds
    px, py = _mercator(parcel["lon"], parcel["lat"])
    point = shapely.Point((px - xmin) / (xmax - xmin) * MVT_EXTENT,
                          (py - ymin) / (ymax - ymin) * MVT_EXTENT)  # decode flips y up
    assert shapely.geometry.shape(feature["geometry"]).buffer(2).contains(point)
    # Every parcel in the tile really is near it: the features are those the table has.
    with client.app.state.engine.connect() as conn:
        expected = set(conn.execute(text(
            "SELECT id FROM survey_patches WHERE ST_Intersects(ST_Transform(geom, 3857), "
            "ST_TileEnvelope(:z, :x, :y))"), {"z": tile.z, "x": tile.x, "y": tile.y}).scalars())
        margin = set(conn.execute(text(
            "SELECT id FROM survey_patches WHERE geom && ST_Transform(ST_TileEnvelope("
            ":z, :x, :y, margin => 64.0 / 4096), 4490)"),
            {"z": tile.z, "x": tile.x, "y": tile.y}).scalars())
    assert expected <= set(features) <= margin


def test_tile_elsewhere_lacks_the_parcel(client: TestClient, parcel: dict) -> None:
    near = lonlat_to_tile(parcel["lon"] + 0.2, parcel["lat"], 15)
    response = client.get(_tile_url("survey_patches", near))
    if response.status_code == 200:
        assert parcel["id"] not in _features(response.content, "survey_patches")
    else:
        assert response.status_code in (204, 404)
    # Outside the tileset's limits (the tiles over the layer's extent): no such tile.
    far = lonlat_to_tile(90.0, 30.0, 15)  # Tibet: no sample data
    response = client.get(_tile_url("survey_patches", far))
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert "tileMatrixSetLimits" in response.json()["detail"] or "瓦片集" in \
        response.json()["detail"]
    # Inside the limits but without a parcel: an empty tile, 204.
    meta = client.get(TILES.format(layer="survey_patches")).json()
    z15 = next(lim for lim in meta["tileMatrixSetLimits"] if lim["tileMatrix"] == "15")
    for col in range(z15["minTileCol"], z15["maxTileCol"] + 1):
        empty = client.get(f"{TILES.format(layer='survey_patches')}/15/{z15['minTileRow']}/{col}")
        if empty.status_code == 204:
            break
    assert empty.status_code == 204 and empty.content == b""
    assert empty.headers["etag"] and "max-age" in empty.headers["cache-control"]


def _vertices(features: dict[int, dict]) -> int:
    return sum(shapely.get_num_coordinates(shapely.geometry.shape(f["geometry"]))
               for f in features.values())


def test_detailed_layers_are_simplified_and_served_from_low_zoom(client: TestClient,
                                                                 sample_db) -> None:
    with sample_db.connect() as conn:
        ids = set(conn.execute(text("SELECT id FROM eco_redline")).scalars())
    tile = Tile(6, 50, 24)  # all of the samples' red lines
    response = client.get(_tile_url("eco_redline", tile))
    assert response.status_code == 200
    features = _features(response.content, "eco_redline")
    assert set(features) == ids
    # Simplifying at half a grid unit drops vertices, never features.
    layer = get_layer("eco_redline")
    plain = tile_policy(layer).model_copy(update={"simplify": False})
    raw = sample_db.raw_connection()
    try:
        unsimplified = _features(render_tile(raw.driver_connection, layer, tile, plain).data,
                                 "eco_redline")
    finally:
        raw.close()
    assert set(unsimplified) == ids
    assert _vertices(features) < _vertices(unsimplified)
    # At zoom 0 a grid unit is ~10 km: the smaller red lines collapse and are left out.
    world = _features(client.get(_tile_url("eco_redline", Tile(0, 0, 0))).content,
                      "eco_redline")
    assert set(world) < ids


def test_zoom_policy_and_out_of_range_tiles(client: TestClient, parcel: dict) -> None:
    assert tile_policy(get_layer("survey_patches")).minzoom == 12
    assert tile_policy(get_layer("eco_redline")).minzoom == 0
    cases = {
        _tile_url("survey_patches", lonlat_to_tile(parcel["lon"], parcel["lat"], 11)): 404,
        f"{TILES.format(layer='eco_redline')}/23/0/0": 404,
        f"{TILES.format(layer='eco_redline')}/3/8/0": 404,  # row 8 of an 8x8 matrix
        f"{TILES.format(layer='eco_redline')}/3/0/8": 404,
        f"{TILES.format(layer='eco_redline')}/3/-1/0": 404,
        f"{TILES.format(layer='eco_redline')}/-1/0/0": 404,
        f"{TILES.format(layer='eco_redline')}/99999999999999999999/0/0": 404,
        f"{TILES.format(layer='eco_redline')}/3/a/0": 400,
        f"{TILES.format(layer='eco_redline')}/3/0/1.5": 400,
        f"{TILES.format(layer='eco_redline')}/z/0/0": 400,
        "/ogc/collections/eco_redline/tiles/WorldCRS84Quad/3/0/0": 404,
    }
    for url, status in cases.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == PROBLEM, url
        assert response.json()["status"] == status
    with pytest.raises(Exception, match="outside this layer's tileset"):
        check_tile(11, 0, 0, tile_policy(get_layer("survey_patches")))


def test_unknown_and_injected_collection_ids(client: TestClient, sample_db) -> None:
    before = table_state(sample_db, "survey_patches")
    for name in ["nope", "survey_patches;DROP TABLE survey_patches",
                 "survey_patches' OR '1'='1", 'survey_patches"--', "SURVEY_PATCHES",
                 "pg_catalog.pg_class", "../survey_patches"]:
        for suffix in ["/tiles", "/tiles/WebMercatorQuad", "/tiles/WebMercatorQuad/15/0/0",
                       "/tiles/WebMercatorQuad/tilejson.json"]:
            response = client.get(f"/ogc/collections/{quote(name, safe='')}{suffix}")
            assert response.status_code == 404, (name, suffix, response.text)
            assert response.headers["content-type"] == PROBLEM
    assert table_state(sample_db, "survey_patches") == before


def test_access_follows_layer_sensitivity(settings, sample_db, parcel: dict) -> None:
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 14)
    with TestClient(create_app(settings)) as anonymous:
        refused = anonymous.get(_tile_url("survey_patches", tile))  # planner layer
        assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
        assert anonymous.get(f"{TILES.format(layer='survey_patches')}/tilejson.json"
                             ).status_code == 401
        public = anonymous.get(_tile_url("cultivated_land", tile))
        assert public.status_code in (200, 204)
        assert public.headers["cache-control"] == "public, max-age=60"


def test_etag_and_conditional_requests(client: TestClient, parcel: dict) -> None:
    url = _tile_url("survey_patches", lonlat_to_tile(parcel["lon"], parcel["lat"], 14))
    first, second = client.get(url), client.get(url)
    etag = first.headers["etag"]
    assert etag == second.headers["etag"] and etag.startswith('"')
    # A planner-only layer must never sit in a shared cache.
    assert first.headers["cache-control"] == "private, max-age=60"
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = client.get(url, headers={"If-None-Match": header})
        assert cached.status_code == 304, header
        assert cached.content == b"" and cached.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    other = _tile_url("survey_patches", lonlat_to_tile(parcel["lon"] + 0.05, parcel["lat"], 14))
    assert client.get(other).headers["etag"] != etag


def test_etag_changes_when_the_data_does(client: TestClient, sample_db, parcel: dict) -> None:
    url = _tile_url("survey_patches", lonlat_to_tile(parcel["lon"], parcel["lat"], 15))
    before = client.get(url).headers["etag"]
    with sample_db.begin() as conn:
        conn.execute(text("UPDATE survey_patches SET land_use_code = land_use_code || 'x' "
                          "WHERE id = :id"), {"id": parcel["id"]})
    try:
        changed = client.get(url, headers={"If-None-Match": before})
        assert changed.status_code == 200 and changed.headers["etag"] != before
        props = _features(changed.content, "survey_patches")[parcel["id"]]["properties"]
        assert props["land_use_code"] == parcel["land_use_code"] + "x"
    finally:
        with sample_db.begin() as conn:
            conn.execute(text("UPDATE survey_patches SET land_use_code = :code WHERE id = :id"),
                         {"code": parcel["land_use_code"], "id": parcel["id"]})


def test_feature_cap_truncates_and_says_so(sample_db, parcel: dict) -> None:
    layer = get_layer("survey_patches")
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 12)
    capped = tile_policy(layer).model_copy(update={"max_features": 5})
    raw = sample_db.raw_connection()
    try:
        full = render_tile(raw.driver_connection, layer, tile)
        cut = render_tile(raw.driver_connection, layer, tile, capped)
    finally:
        raw.close()
    assert full.features > 5 and not full.truncated
    assert cut.truncated and len(_features(cut.data, "survey_patches")) == 5


def test_tilejson_template_works(client: TestClient, parcel: dict) -> None:
    doc = client.get(f"{TILES.format(layer='survey_patches')}/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
    assert (doc["minzoom"], doc["maxzoom"]) == (12, 22)
    west, south, east, north = doc["bounds"]
    assert west <= parcel["lon"] <= east and south <= parcel["lat"] <= north
    layer = doc["vector_layers"][0]
    assert layer["id"] == "survey_patches"
    assert layer["fields"]["patch_no"] == "String" and layer["fields"]["area_m2"] == "Number"
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 16)
    url = doc["tiles"][0].format(z=tile.z, x=tile.x, y=tile.y)
    assert url.startswith("http://testserver/ogc/")
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert parcel["id"] in _features(response.content, "survey_patches")


def test_tilesets_and_tileset_metadata(client: TestClient, parcel: dict) -> None:
    listing = client.get(TILES.format(layer="survey_patches").removesuffix("/WebMercatorQuad"))
    tileset = listing.json()["tilesets"][0]
    assert tileset["dataType"] == "vector"
    assert tileset["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    assert item["templated"] and item["type"] == MVT_MEDIA_TYPE
    assert item["href"].endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    meta = client.get(TILES.format(layer="survey_patches")).json()
    assert meta["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert meta["layers"][0]["minTileMatrix"] == "12"
    assert meta["layers"][0]["propertiesSchema"]["properties"]["area_m2"]["type"] == "number"
    # The same document serves as TileJSON for MapLibre (a vector source ``url``).
    assert meta["tiles"][0].endswith("/WebMercatorQuad/{z}/{y}/{x}")
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 14)
    limits = {lim["tileMatrix"]: lim for lim in meta["tileMatrixSetLimits"]}
    assert set(limits) == {str(z) for z in range(12, 23)}
    z14 = limits["14"]
    assert z14["minTileRow"] <= tile.y <= z14["maxTileRow"]
    assert z14["minTileCol"] <= tile.x <= z14["maxTileCol"]
    rels = {link["rel"] for link in meta["links"]}
    assert {"self", "item", "describedby",
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"} <= rels


def test_tile_matrix_set_document(client: TestClient) -> None:
    listing = client.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listing] == ["WebMercatorQuad", "CGCS2000Quad"]
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad"
    assert tms["uri"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert tms["orderedAxes"] == ["X", "Y"]
    matrices = tms["tileMatrices"]
    assert [m["id"] for m in matrices] == [str(z) for z in range(25)]
    # The values of the standard's Annex (OGC 17-083r4, WebMercatorQuad).
    assert matrices[0]["scaleDenominator"] == pytest.approx(559082264.028717, rel=1e-12)
    assert matrices[0]["cellSize"] == pytest.approx(156543.033928041, rel=1e-12)
    assert matrices[18]["scaleDenominator"] == pytest.approx(2132.72958385, rel=1e-10)
    assert matrices[24]["scaleDenominator"] == pytest.approx(33.3238997477, rel=1e-9)
    assert matrices[3]["matrixWidth"] == matrices[3]["matrixHeight"] == 8
    assert matrices[0]["pointOfOrigin"] == pytest.approx([-20037508.3427892, 20037508.3427892])
    assert all(m["tileWidth"] == 256 and m["cornerOfOrigin"] == "topLeft" for m in matrices)
    response = client.get("/ogc/tileMatrixSets/WorldCRS84Quad")
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
