"""The OGC API, tiles and the remaining routers answer in the reader's language: every refused
request gets problem details in Chinese by default (what real OGC clients, which send no
``Accept-Language``, get too) and in English on request, with the status codes unchanged; the
``f=html`` pages take their words from the catalogue as well."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.errors import NotFound
from gis.layers.catalogue import get_layer
from gis.layers.schema import table_for
from gis.ogc.cql import FilterError, compile_filter, parse_filter
from gis.ogc.crs import CRS84
from gis.ogc.items import queryable_columns
from gis.tiles import check_tile, tile_policy
from tests.test_messages import english_sentence

ITEMS = "/ogc/collections/village_plans/items"
TILES = "/ogc/collections/admin_divisions/tiles/WebMercatorQuad"
HAN = re.compile(r"[\u4e00-\u9fff]")
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture(scope="module")
def client(settings, sample_db):
    with TestClient(create_app(settings)) as c:
        yield c


def _get(client: TestClient, path: str, params: dict | None = None, **headers: str):
    return client.get(path, params=params, headers=headers)


def _upload(client: TestClient, data: bytes, filename: str, **headers: str):
    return client.post("/api/v1/footprints/parse", content=data, params={"filename": filename},
                       headers={"Content-Type": "application/octet-stream", **headers})


#: (request, status, a fragment of the Chinese detail, a fragment of the English detail).
CASES = [
    (("get", ITEMS, {"bbox": "106.1,38.2,106.5"}), 400, "应为 4 个（或 6 个）有限数值",
     "bbox must be 4 (or 6) finite numbers, not '106.1,38.2,106.5'"),
    (("get", ITEMS, {"bbox": "106.1;38.2;106.5;38.6"}), 400, "以英文逗号分隔",
     "bbox must be 4 (or 6) comma-separated numbers, not '106.1;38.2;106.5;38.6'"),
    (("get", ITEMS, {"bbox": "106,38,107,39", "bbox-crs": "http://evil/crs"}), 400,
     "参数 bbox-crs 指定的坐标系“http://evil/crs”不受支持",
     "bbox-crs='http://evil/crs' is not supported; use one of "),
    (("get", ITEMS, {"crs": "EPSG:3857"}), 400, "坐标系“EPSG:3857”不受支持",
     "crs='EPSG:3857' is not supported"),
    (("get", ITEMS, {"limit": "0"}), 400, "不符合接口要求", "does not match the schema"),
    (("get", ITEMS, {"limit": "ten"}), 400, "不符合接口要求", "does not match the schema"),
    (("get", ITEMS, {"offset": "-1"}), 400, "不符合接口要求", "does not match the schema"),
    (("get", ITEMS, {"sortby": "-nosuch"}), 400,
     "sortby 参数中的属性“nosuch”不存在；可用于排序的属性：id、",
     "sortby: unknown property 'nosuch'; sortable: id, "),
    (("get", ITEMS, {"properties": "village_name,(SELECT 1)"}), 400,
     "properties 参数中的属性“(SELECT 1)”不存在", "properties: unknown property '(SELECT 1)'"),
    (("get", ITEMS, {"filter": "village_name = 'x'; DROP TABLE village_plans"}), 400,
     "cql2-text 过滤条件无法解析：第 1 行第 19 列附近有语法错误",
     "the cql2-text filter does not parse: Unexpected token"),
    (("get", ITEMS, {"filter": '{"op": "=", "args": [1', "filter-lang": "cql2-json"}), 400,
     "cql2-json 过滤条件无法解析：第 1 行第", "the cql2-json filter does not parse: "),
    (("get", ITEMS, {"filter": '{"op": "foo", "args": []}', "filter-lang": "cql2-json"}), 400,
     "表达式结构不符合 CQL2 规范", "does not parse: Unable to parse expression node"),
    (("get", ITEMS, {"filter": "nosuch = 1"}), 400, "过滤条件中的属性“nosuch”不存在",
     "unknown property 'nosuch' in the filter; queryables: "),
    (("get", ITEMS, {"filter": "pg_sleep(5) = 1"}), 400, "不支持的内容（函数 pg_sleep()）",
     "this filter uses something not supported here (Failed to evaluate node of type "),
    (("get", ITEMS, {"filter": "planned_construction_m2 = 'abc'"}), 400,
     "“abc”不是属性 planned_construction_m2 的有效数值",
     "'abc' is not a valid float for planned_construction_m2"),
    (("get", ITEMS, {"filter-lang": "sql", "filter": "1=1"}), 400, "filter-lang 应为",
     "filter-lang must be cql2-text or cql2-json, not 'sql'"),
    (("get", ITEMS, {"village_name;drop": "x"}), 400, "未知参数“village_name;drop”",
     "unknown parameter 'village_name;drop'; use the standard parameters"),
    (("get", ITEMS, {"planned_construction_m2": "lots"}), 400, "的取值“lots”不是有效的数值",
     "planned_construction_m2='lots' is not a valid float"),
    (("get", f"{ITEMS}/999999", None), 404, "图层 village_plans 中没有编号为“999999”的要素",
     "no feature '999999' in village_plans"),
    (("get", f"{TILES}/3/8/0", None), 404, "瓦片 3/8/0 不存在：第 3 级的行号",
     "tile 3/8/0 does not exist: at tileMatrix 3 tileRow and tileCol run from 0 to 7"),
    (("get", f"{TILES}/23/0/0", None), 404, "不提供第 23 级瓦片",
     "tileMatrix 23 is not served"),
    (("get", "/ogc/collections/cultivated_land/tiles/WebMercatorQuad/5/0/0", None), 404,
     "第 5 级不在此图层的瓦片集范围内（级别 12-22），请放大地图查看",
     "tileMatrix 5 is outside this layer's tileset (zoom 12-22); zoom in to see it"),
    (("get", "/ogc/tileMatrixSets/WorldCRS84Quad", None), 404,
     "未知的瓦片矩阵集“WorldCRS84Quad”；本服务提供 WebMercatorQuad",
     "unknown tile matrix set 'WorldCRS84Quad'; this service offers WebMercatorQuad"),
    (("get", "/ogc/collections/admin_divisions/tiles/WorldCRS84Quad/3/0/0", None), 404,
     "未知的瓦片矩阵集", "unknown tile matrix set"),
    (("upload", "f.doc", b"x"), 422, "f.doc：请上传 GeoJSON、压缩的 Shapefile",
     "f.doc: upload GeoJSON, a zipped Shapefile, KML, GeoPackage, a boundary-point"),
    (("upload", "f.txt", b"x"), 422, "f.txt 第 1 行无法读取为“点号,圈号,X坐标,Y坐标”",
     "f.txt line 1 cannot be read as point, ring, X, Y"),
    (("upload", "f.geojson", b""), 422, "f.geojson 是空文件", "f.geojson is empty"),
    (("upload", "site.kml", b"not xml at all"), 422, "site.kml：无法作为 KML 文件打开",
     "site.kml: cannot be opened as KML ("),
    (("get", "/api/v1/rules/nosuch", None), 404,
     "没有规则配置“nosuch”；可用的配置：dawukou、ningxia、xingqing",
     "unknown rule profile 'nosuch'; available: dawukou, ningxia, xingqing"),
    (("get", "/static/portal/nosuch.js", None), 404, "没有门户文件“nosuch.js”",
     "no portal asset 'nosuch.js'"),
    (("get", "/static/vendor/nosuch/x.js", None), 404, "没有名为“nosuch”的前端库",
     "no vendored library 'nosuch'"),
]


def _send(client: TestClient, request: tuple, **headers: str):
    kind, target, extra = request
    if kind == "upload":
        return _upload(client, extra, target, **headers)
    return _get(client, target, extra, **headers)


@pytest.mark.parametrize(("request_", "status", "zh", "en"), CASES,
                         ids=[f"{c[0][1]}-{c[0][2]}"[:60] for c in CASES])
def test_refused_requests_are_chinese_by_default_and_english_on_request(
        client: TestClient, request_: tuple, status: int, zh: str, en: str) -> None:
    chinese = _send(client, request_)
    assert chinese.status_code == status, chinese.text
    assert chinese.headers["content-type"] == "application/problem+json"
    body = chinese.json()
    assert zh in body["detail"], body
    for part in (body["title"], body["detail"]):
        assert HAN.search(part) and english_sentence(part) is None, (part, body)
    for error in body.get("errors", []):
        assert HAN.search(error["msg"]) and english_sentence(error["msg"]) is None, error

    english = _send(client, request_, **EN)
    assert english.status_code == status
    body = english.json()
    assert en in body["detail"], body
    assert not HAN.search(body["title"] + body["detail"]), body


def test_filter_errors_have_their_own_title(client: TestClient) -> None:
    zh = _get(client, ITEMS, {"filter": "nosuch = 1"}).json()
    en = _get(client, ITEMS, {"filter": "nosuch = 1"}, **EN).json()
    assert (zh["title"], en["title"]) == ("过滤条件无效", "Invalid filter")
    # A list of names reads as a Chinese list, never as an English phrase.
    assert "queryables: approved_date, area_m2, category," in en["detail"]
    assert "approved_date、area_m2、category、" in zh["detail"]
    assert zh["detail"].endswith("、geometry") and en["detail"].endswith(", geometry")


def test_library_messages_stay_english() -> None:
    """``str(exc)`` (logs, the library's callers) reads as it always did."""
    layer = get_layer("village_plans")
    columns, geom = queryable_columns(layer), table_for(layer).c.geom
    with pytest.raises(FilterError) as parse_error:
        parse_filter("village_name = 'x'; DROP", None)
    assert str(parse_error.value) == ("the cql2-text filter does not parse: Unexpected token "
                                      "Token('SEMICOLON', ';') at line 1, column 19.")
    with pytest.raises(FilterError) as unsupported:
        compile_filter(parse_filter("pg_sleep(5) = 1", None), columns, geom, CRS84)
    assert str(unsupported.value).startswith(
        "this filter uses something not supported here (Failed to evaluate node of type "
        "<class 'pygeofilter.ast.Function'>); supported: comparisons, BETWEEN")
    assert unsupported.value.render("zh").startswith(
        "过滤条件使用了本服务不支持的内容（函数 pg_sleep()）")
    with pytest.raises(NotFound) as tile_error:
        check_tile(11, 0, 0, tile_policy(get_layer("survey_patches")))
    assert str(tile_error.value) == ("tileMatrix 11 is outside this layer's tileset (zoom "
                                     "12-22); zoom in to see it")


def test_html_pages_follow_accept_language(client: TestClient) -> None:
    params = {"f": "html", "limit": 2}
    zh = _get(client, ITEMS, params).text
    assert '<html lang="zh-CN">' in zh and "个要素" in zh and "下一页" in zh
    assert "村名称" in zh and "要素编号" in zh and "接口文档" in zh
    assert "features" not in zh.split("<table>")[0].split("</nav>")[1]
    en = _get(client, ITEMS, params, **EN).text
    assert '<html lang="en">' in en and "features" in en and ">next<" in en
    assert "API docs" in en and "Collections" in en and 'href="/?lang=en"' in en
    # Chinese left only in the data (village names) and the layer's names.
    head = en.split("<table>")[0]
    assert not HAN.search(head.split("<h1>")[0]), head
    for path in ("/ogc/", "/ogc/conformance", "/ogc/collections",
                 "/ogc/collections/village_plans"):
        page_zh = _get(client, path, {"f": "html"}).text
        page_en = _get(client, path, {"f": "html"}, **EN).text
        nav_zh, nav_en = (p.split("<nav>")[1].split("</nav>")[0] for p in (page_zh, page_en))
        assert "图层" in nav_zh and not HAN.search(nav_en), path
    assert "<th>编号</th><th>名称</th>" in _get(client, "/ogc/collections", {"f": "html"}).text
    assert "符合的标准类别" in _get(client, "/ogc/conformance", {"f": "html"}).text


def test_documents_follow_accept_language(client: TestClient) -> None:
    landing_zh = _get(client, "/ogc/").json()
    landing_en = _get(client, "/ogc/", **EN).json()
    assert HAN.search(landing_zh["description"]) and english_sentence(
        landing_zh["description"]) is None
    assert landing_en["description"].startswith("Territorial spatial planning layers")
    villages = _get(client, "/ogc/collections/village_plans").json()
    assert "访问级别：公众" in villages["description"]
    assert "sensitivity: public" in _get(client, "/ogc/collections/village_plans",
                                         **EN).json()["description"]
    queryables_en = _get(client, "/ogc/collections/village_plans/queryables", **EN).json()
    assert queryables_en["properties"]["id"]["title"] == "feature id"
    assert not HAN.search(queryables_en["title"])
    tilesets = "/ogc/collections/admin_divisions/tiles"
    zh_link = _get(client, tilesets).json()["tilesets"][0]["links"][0]["title"]
    en_link = _get(client, tilesets, **EN).json()["tilesets"][0]["links"][0]["title"]
    assert zh_link.endswith("矢量瓦片（WebMercatorQuad）") and not HAN.search(en_link)
