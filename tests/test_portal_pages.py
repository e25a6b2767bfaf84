"""Portal pages without a browser: they render in both languages, reference only local assets
(no CDN), the assets are served and nothing else is, and footprint uploads parse."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from api.app import create_app
from portal.assets import NODE_MODULES, VENDOR
from portal.i18n import lang_of, strings

PAGES = ("/", "/siting", "/reconciliation", "/quota")
URL = re.compile(r"""https?://[^\s"'<>)\\]+""")
SRC = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)\"""")


@pytest.fixture(scope="module")
def offline(settings):
    app_settings = settings.with_changes(portal={"basemap": "offline", "tianditu_key": None})
    with TestClient(create_app(app_settings)) as client:
        yield client


@pytest.fixture(scope="module")
def online(settings):
    app_settings = settings.with_changes(portal={"basemap": "osm", "tianditu_key": "tk123"})
    with TestClient(create_app(app_settings)) as client:
        yield client


def test_strings_are_complete() -> None:
    assert set(strings("zh")) == set(strings("en"))
    assert lang_of(None) == "zh" and lang_of("en") == "en" and lang_of("EN-gb") == "en"
    assert lang_of("fr") == "zh"


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_offline_without_external_urls(offline: TestClient, path: str) -> None:
    for lang, marker in (("", "三条控制线" if path in ("/", "/siting") else "一张图"),
                         ("?lang=en", "One-Map")):
        response = offline.get(path + lang)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert marker in html
        # Offline: no URL of another host anywhere in the page, not even as a string.
        assert URL.findall(html) == [], URL.findall(html)
        assert "cdn" not in html.lower()
        for ref in SRC.findall(html):
            assert ref.startswith(("/static/", "data:")), ref


def test_navigation_and_language_switch(offline: TestClient) -> None:
    zh = offline.get("/siting").text
    assert 'lang="zh-CN"' in zh and "选址分析" in zh and 'href="/siting?lang=en"' in zh
    en = offline.get("/siting?lang=en").text
    assert 'lang="en"' in en and "Siting check" in en and 'href="/siting?lang=zh"' in en
    assert 'href="/quota?lang=en"' in en  # navigation keeps the language
    assert 'id="om-key-input"' in zh  # the API key box is on every page


def test_online_base_maps(online: TestClient) -> None:
    html = online.get("/").text
    hosts = {re.sub(r"^https?://([^/]+).*", r"\1", u) for u in URL.findall(html)}
    # Only the base-map tile hosts (and the OSM attribution link) are named.
    assert hosts <= {"tile.openstreetmap.org", "www.openstreetmap.org",
                     "t{s}.tianditu.gov.cn"}, hosts
    assert "tk=tk123" in html and "天地图" in html
    for ref in SRC.findall(html):
        assert ref.startswith(("/static/", "data:")), ref


@pytest.mark.parametrize("path", PAGES)
def test_every_referenced_asset_is_served(offline: TestClient, path: str) -> None:
    html = offline.get(path).text
    refs = [r for r in SRC.findall(html) if r.startswith("/static/")]
    assert any("leaflet.js" in r for r in refs) and any("onemap.js" in r for r in refs)
    for ref in refs:
        response = offline.get(ref)
        assert response.status_code == 200, ref
        assert len(response.content) > 100, ref


def test_vendor_files_come_from_npm(offline: TestClient) -> None:
    for name, folder in VENDOR.items():
        assert (NODE_MODULES / folder).is_dir(), f"{name}: run npm ci --prefix portal"
    css = offline.get("/static/vendor/leaflet/leaflet.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert offline.get("/static/vendor/leaflet/images/layers.png").status_code == 200
    assert offline.get("/static/vendor/leaflet-draw/images/spritesheet.svg").status_code == 200


@pytest.mark.parametrize("path", [
    "/static/vendor/leaflet/../package.json",
    "/static/vendor/leaflet/..%2F..%2Fleaflet-draw%2Fpackage.json",
    "/static/vendor/nope/leaflet.js",
    "/static/vendor/leaflet/missing.js",
    "/static/vendor/leaflet/leaflet-src.esm.js.txt",
    "/static/portal/../i18n.py",
    "/static/portal/%2e%2e/i18n.py",
])
def test_nothing_else_is_served(offline: TestClient, path: str) -> None:
    assert offline.get(path).status_code == 404


def test_monitoring_overlay_is_always_in_the_viewer(offline: TestClient) -> None:
    """Monitoring is part of the app: its layer is never optional. (This test once copied the
    viewer's route scan, so both lost the layer together when Starlette changed app.routes.)"""
    html = offline.get("/").text
    assert 'data-layer=\\"monitoring_patches\\"' in html
    assert "/api/v1/monitoring/patches?format=geojson" in html


# ---- footprint uploads ----------------------------------------------------------------------

FOOT = box(106.205, 39.005, 106.21, 39.01)


def _parse(client: TestClient, data: bytes, filename: str, lang: str = "en", **params):
    """Parse an upload; problems in ``lang`` (the portal sends its page's language)."""
    return client.post("/api/v1/footprints/parse", content=data,
                       params={"filename": filename, **params},
                       headers={"Content-Type": "application/octet-stream",
                                "Accept-Language": lang})


def test_parse_geojson(offline: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "f.geojson"
    gpd.GeoDataFrame({"name": ["索道站"]}, geometry=[FOOT], crs="EPSG:4490").to_file(path)
    response = _parse(offline, path.read_bytes(), "f.geojson")
    assert response.status_code == 200, response.text
    fc = response.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 1
    assert fc["features"][0]["properties"]["name"] == "索道站"
    xs = [x for x, _ in fc["features"][0]["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(106.205) and max(xs) == pytest.approx(106.21)


def _zipped_shapefile(tmp_path: Path, frame: gpd.GeoDataFrame, encoding: str,
                      drop: tuple[str, ...] = ()) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "foot.shp", encoding=encoding)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for f in folder.iterdir():
            if f.suffix not in drop:
                z.write(f, f.name)
    return buffer.getvalue()


def test_parse_zipped_gbk_shapefile_in_gauss_kruger(offline: TestClient, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"XMMC": ["贺兰山索道"]}, geometry=[FOOT], crs="EPSG:4490")
    data = _zipped_shapefile(tmp_path, frame.to_crs(4544), "gbk", drop=(".cpg",))
    response = _parse(offline, data, "项目.zip")
    assert response.status_code == 200, response.text
    feature = response.json()["features"][0]
    assert feature["properties"]["XMMC"] == "贺兰山索道"  # GBK without .cpg detected
    xs = [x for x, _ in feature["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(106.205, abs=1e-6)  # back from GK CM 105E to CRS84


def test_parse_shapefile_without_crs_asks_for_it(offline: TestClient, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[FOOT], crs="EPSG:4490")
    data = _zipped_shapefile(tmp_path, frame, "utf-8", drop=(".prj",))
    response = _parse(offline, data, "f.zip")
    assert response.status_code == 422 and "crs" in response.json()["detail"]
    assert _parse(offline, data, "f.zip", crs="EPSG:4490").status_code == 200


def test_parse_kml(offline: TestClient) -> None:
    ring = " ".join(f"{x},{y},0" for x, y in FOOT.exterior.coords)
    kml = (f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
           f"<Document><Placemark><name>站房</name><Polygon><outerBoundaryIs><LinearRing>"
           f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
           f"</Placemark></Document></kml>").encode()
    response = _parse(offline, kml, "site.kml")
    assert response.status_code == 200, response.text
    feature = response.json()["features"][0]
    assert feature["properties"]["Name"] == "站房"
    assert feature["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize("filename,data,fragment", [
    ("f.doc", b"x", "upload GeoJSON"),
    ("f.txt", b"x", "cannot be read as point, ring, X, Y"),
    ("f.wkt", b"POLYGON ((1 2", "not valid WKT"),
    ("f.geojson", b"", "empty"),
    ("f.geojson", b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                  b'"geometry":{"type":"Point","coordinates":[106.2,39.0]}}]}', "no polygon"),
    ("f.geojson", b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                  b'"geometry":{"type":"Polygon","coordinates":[[[-10,0],[-9,0],[-9,1],'
                  b'[-10,0]]]}}]}', "outside"),
])
def test_parse_refuses_bad_input(offline: TestClient, filename: str, data: bytes,
                                 fragment: str) -> None:
    response = _parse(offline, data, filename)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    chinese = _parse(offline, data, filename, lang="zh")
    assert chinese.status_code == 422 and re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])
