"""OGC API - Tiles - Part 1 (20-057) and the 2D Tile Matrix Set standard (17-083r4): the
conformance classes declared, one test per abstract test, on both tile matrix sets served
(WebMercatorQuad and CGCS2000Quad, the grid of Tianditu's ``_c`` base maps)."""

from __future__ import annotations

import json
import math

import mapbox_vector_tile
import morecantile
import pytest
import shapely
from sqlalchemy import text

from gis.tiles import REGISTRY, lonlat_to_tile
from tests.ogc.conftest import PROBLEM, SPEC

TILES = f"{SPEC}ogcapi-tiles-1/1.0/conf/"
TMS = f"{SPEC}tms/2.0/conf/"
MVT = "application/vnd.mapbox-vector-tile"
SETS = ("WebMercatorQuad", "CGCS2000Quad")
LAYER = "cultivated_land"  # public, parcel tiles from zoom 12


@pytest.fixture(scope="module")
def parcel(sample_db) -> dict:
    with sample_db.connect() as conn:
        row = conn.execute(text(
            f"SELECT id, ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT id, "
            f"ST_PointOnSurface(geom) AS p FROM {LAYER} ORDER BY id LIMIT 1 OFFSET 20) s"
        )).mappings().one()
    return dict(row)


def _tileset(api, tms: str) -> dict:
    return api.get(f"/ogc/collections/{LAYER}/tiles/{tms}").json()


def _tile(api, tms: str, z: int, lon: float, lat: float):
    tile = lonlat_to_tile(lon, lat, z, tms)
    return tile, api.get(f"/ogc/collections/{LAYER}/tiles/{tms}/{z}/{tile.y}/{tile.x}")


# -- Core ------------------------------------------------------------------------------------
def test_core__conformance_success(api) -> None:
    classes = api.get("/ogc/conformance").json()["conformsTo"]
    assert f"{TILES}core" in classes


@pytest.mark.parametrize("tms", SETS)
def test_core__tc_op(api, parcel, tms) -> None:
    item = next(x for x in _tileset(api, tms)["links"] if x["rel"] == "item")
    tile = lonlat_to_tile(parcel["lon"], parcel["lat"], 14, tms)
    url = item["href"].format(tileMatrix=tile.z, tileRow=tile.y, tileCol=tile.x)
    assert api.get(url.removeprefix("http://testserver")).status_code == 200


@pytest.mark.parametrize("tms", SETS)
def test_core__tc_success(api, parcel, tms) -> None:
    _, response = _tile(api, tms, 15, parcel["lon"], parcel["lat"])
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    features = mapbox_vector_tile.decode(response.content)[LAYER]["features"]
    assert parcel["id"] in {f["id"] for f in features}


@pytest.mark.parametrize("tms", SETS)
def test_core__tc_error(api, parcel, tms) -> None:
    base = f"/ogc/collections/{LAYER}/tiles/{tms}"
    meta = _tileset(api, tms)
    z15 = next(x for x in meta["tileMatrixSetLimits"] if x["tileMatrix"] == "15")
    for path in (f"{base}/15/{z15['maxTileRow'] + 1}/{z15['minTileCol']}",  # outside limits
                 f"{base}/15/{z15['minTileRow']}/{z15['minTileCol'] - 1}",
                 f"{base}/15/0/0", f"{base}/11/0/0",  # below the layer's zoom range
                 f"{base}/15/99999999/0", f"{base}/30/0/0"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
    assert api.get(f"{base}/15/x/0").status_code == 400
    empty = None
    for col in range(z15["minTileCol"], z15["maxTileCol"] + 1):
        empty = api.get(f"{base}/15/{z15['minTileRow']}/{col}")
        if empty.status_code != 200:
            break
    assert empty.status_code == 204 and empty.content == b""  # within the limits, no data


def _tile_op(api) -> dict:
    doc = api.get("/ogc/api").json()
    op = doc["paths"][f"/collections/{LAYER}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/"
                      "{tileRow}/{tileCol}"]["get"]
    params = {}
    for p in op["parameters"]:
        p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        params[p["name"]] = p
    return params


def test_core__tc_tilematrix_definition(api) -> None:
    p = _tile_op(api)["tileMatrix"]
    assert p["in"] == "path" and p["required"] and p["schema"]["type"] == "string"


def test_core__tc_tilerow_definition(api) -> None:
    p = _tile_op(api)["tileRow"]
    assert p["in"] == "path" and p["required"] and p["schema"]["type"] == "integer"


def test_core__tc_tilecol_definition(api) -> None:
    p = _tile_op(api)["tileCol"]
    assert p["in"] == "path" and p["required"] and p["schema"]["type"] == "integer"


# -- Tileset, tilesets list, geodata tilesets ----------------------------------------------
@pytest.mark.parametrize("tms", SETS)
def test_tileset__description(api, tms) -> None:
    response = api.get(f"/ogc/collections/{LAYER}/tiles/{tms}")
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["dataType"] == "vector" and doc["crs"].startswith("http://www.opengis.net/")
    if tms == "WebMercatorQuad":
        assert doc["tileMatrixSetURI"].endswith("/tilematrixset/OGC/1.0/WebMercatorQuad")
    scheme = next(x for x in doc["links"]
                  if x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme")
    assert api.get(scheme["href"].removeprefix("http://testserver")).json()["id"] == tms
    item = next(x for x in doc["links"] if x["rel"] == "item")
    assert item["templated"] is True and item["type"] == MVT
    assert item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}")
    assert doc["layers"][0]["minTileMatrix"] == "12"


def test_tilesets_list__tileset_links(api) -> None:
    listing = api.get(f"/ogc/collections/{LAYER}/tiles").json()["tilesets"]
    assert {t["links"][0]["href"].rsplit("/", 1)[1] for t in listing} == set(SETS)
    for tileset in listing:
        self_link = next(x for x in tileset["links"] if x["rel"] == "self")
        assert self_link["href"].endswith(f"/collections/{LAYER}/tiles/"
                                          + self_link["href"].rsplit("/", 1)[1])
        assert tileset["dataType"] and tileset["crs"]
        assert any(x["rel"].endswith("/tiling-scheme") for x in tileset["links"])


def test_geodata_tilesets__desc_links(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        link = next(x for x in collection["links"]
                    if x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
        assert link["href"].endswith(f"/collections/{collection['id']}/tiles")


def test_geodata_tilesets__operation(admin) -> None:
    for collection in admin.get("/ogc/collections").json()["collections"]:
        assert admin.get(f"/ogc/collections/{collection['id']}/tiles").status_code == 200


# -- MVT -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tms", SETS)
def test_mvt__content(api, parcel, tms) -> None:
    """One tile per document, typed geometries, and the MVT grid linear in the tileset's
    CRS: Web Mercator metres, or CGCS2000 lon/lat degrees (no reprojection on Tianditu)."""
    tile, response = _tile(api, tms, 15, parcel["lon"], parcel["lat"])
    decoded = mapbox_vector_tile.decode(response.content)
    assert list(decoded) == [LAYER] and decoded[LAYER]["extent"] == 4096
    feature = next(f for f in decoded[LAYER]["features"] if f["id"] == parcel["id"])
    assert feature["type"] in (1, 2, 3) or feature["geometry"]["type"]
    xmin, ymin, xmax, ymax = tile.bounds
    if tms == "WebMercatorQuad":
        half = 20037508.342789244
        x = math.radians(parcel["lon"]) * half / math.pi
        y = math.asinh(math.tan(math.radians(parcel["lat"]))) * half / math.pi
    else:
        x, y = parcel["lon"], parcel["lat"]
    point = shapely.Point((x - xmin) / (xmax - xmin) * 4096, (y - ymin) / (ymax - ymin) * 4096)
    assert shapely.geometry.shape(feature["geometry"]).buffer(1).contains(point)


# -- OpenAPI 3.0 (Tiles) ---------------------------------------------------------------------
def test_oas30__completeness(admin) -> None:
    paths = admin.get("/ogc/api").json()["paths"]
    for collection in admin.get("/ogc/collections").json()["collections"]:
        base = f"/collections/{collection['id']}/tiles"
        assert {base, f"{base}/{{tileMatrixSetId}}",
                f"{base}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"} <= set(paths)
    assert {"/tileMatrixSets", "/tileMatrixSets/{tileMatrixSetId}"} <= set(paths)


def test_oas30__operationids(api) -> None:
    ids = [op["get"]["operationId"] for op in api.get("/ogc/api").json()["paths"].values()]
    assert len(ids) == len(set(ids))
    for suffix in (".collection.vector.getTileSetsList", ".collection.vector.getTileSet",
                   ".collection.vector.getTile"):
        assert any(i.endswith(suffix) for i in ids), suffix


# -- 2D Tile Matrix Set ----------------------------------------------------------------------
@pytest.mark.parametrize("tms", SETS)
def test_tilematrixset__model(api, tms) -> None:
    doc = api.get(f"/ogc/tileMatrixSets/{tms}").json()
    assert {"id", "crs", "tileMatrices"} <= set(doc)
    for m in doc["tileMatrices"]:
        assert {"id", "scaleDenominator", "cellSize", "pointOfOrigin", "tileWidth",
                "tileHeight", "matrixWidth", "matrixHeight"} <= set(m)


@pytest.mark.parametrize("tms", SETS)
def test_json_tilematrixset__ietf(api, tms) -> None:
    raw = api.get(f"/ogc/tileMatrixSets/{tms}").text
    json.loads(raw, parse_constant=lambda c: pytest.fail(f"{c} is not JSON (RFC 8259)"))


@pytest.mark.parametrize("tms", SETS)
def test_json_tilematrixset__media_type(api, tms) -> None:
    assert api.get(f"/ogc/tileMatrixSets/{tms}").headers["content-type"].startswith(
        "application/json")


@pytest.mark.parametrize("tms", SETS)
def test_json_tilematrixset__model(api, tms) -> None:
    doc = api.get(f"/ogc/tileMatrixSets/{tms}").json()
    assert doc["id"] == tms and isinstance(doc["tileMatrices"], list)
    assert all(m["cornerOfOrigin"] == "topLeft" for m in doc["tileMatrices"])


@pytest.mark.parametrize("tms", SETS)
def test_json_tilematrixset__schema(api, tms) -> None:
    """Valid against the TMS 2.0 model (morecantile's pydantic model of the JSON schema)."""
    doc = api.get(f"/ogc/tileMatrixSets/{tms}").json()
    parsed = morecantile.TileMatrixSet.model_validate(doc)
    assert parsed.id == tms


def test_tms_conformance(api) -> None:
    classes = api.get("/ogc/conformance").json()["conformsTo"]
    assert {f"{TMS}tilematrixset", f"{TMS}json-tilematrixset"} <= set(classes)


# -- CGCS2000Quad is Tianditu's _c grid ------------------------------------------------------
def test_cgcs2000_quad_is_the_tianditu_c_grid(api) -> None:
    tms = REGISTRY.get("CGCS2000Quad")
    assert tms.minzoom == 1 and str(tms.crs.root).endswith("/EPSG/0/4490")
    first = api.get("/ogc/tileMatrixSets/CGCS2000Quad").json()["tileMatrices"][0]
    assert (first["id"], first["matrixWidth"], first["matrixHeight"]) == ("1", 2, 1)
    assert first["pointOfOrigin"] == [90.0, -180.0] and first["cellSize"] == 0.703125
    # Tianditu level n, column and row of 106.27°E 38.47°N: 2^n columns over 360°, 2^(n-1)
    # rows over 180° from 90°N.
    for n in (3, 10, 14, 18):
        tile = tms.tile(106.27, 38.47, n)
        assert tile.x == int((106.27 + 180) / 360 * 2 ** n)
        assert tile.y == int((90 - 38.47) / 180 * 2 ** (n - 1))
    # same pixel size as WebMercatorQuad's zoom n on the equator, so one zoom policy fits both
    web = REGISTRY.get("WebMercatorQuad")
    assert tms.matrix(12).cellSize * 111319.49079327357 == pytest.approx(
        web.matrix(12).cellSize, rel=1e-9)
    assert api.get("/ogc/collections/cultivated_land/tiles/CGCS2000Quad/tilejson.json"
                   ).status_code == 404
