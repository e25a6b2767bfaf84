"""The portal workbench in a real browser (issue 23): the one layer panel (collapsible on a
820 px tablet), who-am-I, a refused key that still shows the public layers, per-layer
opacity, ellipsoidal measuring checked against ``pyproj.Geod`` and go-to-coordinate checked
against PROJ.

Same set-up as ``tests/test_portal.py`` (its fixtures: the sample one-map, a uvicorn server
with the offline base map, Debian's chromium).
"""

from __future__ import annotations

import itertools
import re

import pyproj
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.messages import label
from tests.test_messages import english_sentence
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    DESKTOP,
    TABLET,
    Server,
    browser,
    core_zone,
    page_point,
    portal_db,
    server,
    shot,
    visit,
)
from tests.test_portal_strings import CJK

PAGES = ("/", "/siting", "/reconciliation", "/quota")
GEOD = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def number(text: str) -> float:
    """The first number of a read-out ("1,234.56 平方米 / ..." -> 1234.56)."""
    return float(re.search(r"[\d,]+(?:\.\d+)?", text).group(0).replace(",", ""))


@pytest.mark.parametrize("path", PAGES)
def test_one_layer_icon_per_map(visit, path: str) -> None:  # noqa: F811
    """One layer panel per map, holding the base maps too (there were two identical icons)."""
    v = visit(path, "admin")
    page = v.page
    assert page.locator(".leaflet-control-layers").count() == 1
    bases = page.locator(".leaflet-control-layers-base input[type=radio]")
    assert bases.count() == 1  # offline base map only (the server runs offline)
    tools = page.eval_on_selector_all(".om-wb-bar .om-wb-tool", "bs => bs.map(b => b.dataset.tool)")
    assert tools == ["distance", "area", "goto", "table", "stats", "swipe", "print"]
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()


def test_layer_panel_collapses_on_a_tablet(visit) -> None:  # noqa: F811
    v = visit("/", "planner", TABLET)
    page = v.page
    panel = page.locator(".leaflet-control-layers")
    # starts collapsed at 820 px: the icon only, the map free
    assert page.evaluate("document.body.dataset.layerPanel") == "collapsed"
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert panel.bounding_box()["width"] < 60
    shot(page, "viewer-tablet-collapsed", docs=True)
    page.locator(".leaflet-control-layers-toggle").click()
    assert page.evaluate("document.body.dataset.layerPanel") == "expanded"
    assert page.locator('.om-layer[data-layer="village_plans"]').is_visible()
    shot(page, "viewer-tablet-layers", docs=True)
    page.locator(".om-wb-collapse").click()
    assert page.evaluate("document.body.dataset.layerPanel") == "collapsed"
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    assert v.errors == [], v.errors


def test_who_am_i(visit, server: Server) -> None:  # noqa: F811
    page = visit("/", "forestry").page
    who = page.locator("#om-whoami")
    page.wait_for_function("document.getElementById('om-whoami').textContent !== ''")
    holder = next(n for n in server.key_names if n.startswith("portal-forestry"))
    assert who.inner_text() == f"当前用户：{holder}（林草）"
    en = visit("/?lang=en", "admin").page
    en.wait_for_function("document.getElementById('om-whoami').textContent !== ''")
    text = en.locator("#om-whoami").inner_text()
    assert text.startswith("signed in as portal-admin-") and text.endswith(" (administrator)")


def test_me_endpoint(server: Server, settings) -> None:  # noqa: F811
    with TestClient(create_app(settings)) as client:
        planner = client.get("/api/v1/me", headers={"X-API-Key": server.keys["planner"],
                                                    "Accept-Language": "en"})
        public = client.get("/api/v1/me")
        bad = client.get("/api/v1/me", headers={"X-API-Key": "no-such-key"})
    assert planner.status_code == 200
    body = planner.json()
    assert body["role"] == "planner" and body["role_label"] == label("role", "planner", "en")
    assert body["name"].startswith("portal-planner-") and not body["anonymous"]
    assert "eco_redline" in body["layers"] and "forest_parcels" not in body["layers"]
    assert public.json()["anonymous"] and public.json()["name"] is None
    assert public.json()["role_label"] == "公众(未登录)"
    assert "eco_redline" not in public.json()["layers"]
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert CJK.search(bad.json()["detail"]), bad.json()  # in Chinese, the default


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_refused_key_still_shows_public_layers(visit, lang: str) -> None:  # noqa: F811
    """An unknown or revoked key is refused (401) everywhere; the page says so and shows the
    public layers as the public sees them instead of greying out everything."""
    v = visit(f"/?lang={lang}", None)
    page = v.page
    page.evaluate("localStorage.setItem('onemap.apiKey', 'revoked-or-mistyped')")
    refused: list[tuple[str, str | None]] = []
    page.on("response", lambda r: r.status == 401 and refused.append(
        (r.url, r.request.headers.get("x-api-key"))))
    page.reload()
    page.wait_for_function("document.body.dataset.layersReady === 'true'")
    assert page.evaluate("OneMap.keyRefused()") is True
    assert page.evaluate("OneMap.layerStatus('village_plans')") == "ok"
    assert page.evaluate("OneMap.layerStatus('eco_redline')") == "restricted"
    page.wait_for_function("OneMap.state.village_plans.loaded === true")
    assert page.evaluate(
        "OneMap.map().getPane('om-village_plans').querySelectorAll('path').length") == 11
    status = page.locator("#om-key-status").inner_text()
    if lang == "zh":
        assert status == "密钥无效或已吊销，按公众身份显示公开图层"
    else:
        assert "refused" in status and not CJK.search(status)
    # the offline base map drew the district outlines (it was left blank)
    page.wait_for_function("OneMap.map().getPanes().overlayPane.querySelectorAll('path')"
                           ".length > 0")
    # only requests still carrying the refused key were refused: each was asked again
    # without it, and nothing asked without the key was refused
    assert refused and all(key == "revoked-or-mistyped" for _, key in refused), refused
    assert len(v.errors) == len(refused) and all("401" in e for e in v.errors), v.errors


def test_layer_opacity(visit) -> None:  # noqa: F811
    v = visit("/", "planner")
    page = v.page
    page.wait_for_function("OneMap.state.eco_redline.loaded === true")
    slider = page.locator('.om-opacity[data-layer="eco_redline"]')
    assert slider.is_visible()  # the layer is on
    assert not page.locator('.om-opacity[data-layer="forest_farm_areas"]').is_visible()
    slider.fill("40")
    assert page.evaluate("OneMap.map().getPane('om-eco_redline').style.opacity") == "0.4"
    assert page.evaluate("OneMap.workbench.opacity('eco_redline')") == 0.4
    # the control rebuilds its list when a layer changes; the slider keeps its value
    page.locator('.leaflet-control-layers label:has(.om-layer[data-layer="forest_farm_areas"]) '
                 "input").click()
    assert page.locator('.om-opacity[data-layer="eco_redline"]').input_value() == "40"
    assert v.errors == [], v.errors


def _click_ring(page, corners) -> None:
    for lon, lat in corners:
        page.mouse.click(*page_point(page, lon, lat))
        page.wait_for_timeout(60)


def test_measure_area_and_distance(visit, server: Server) -> None:  # noqa: F811
    v = visit("/", "planner")
    page = v.page
    lon, lat, _ = core_zone(server.engine)
    page.evaluate("([lat, lon]) => OneMap.map().setView([lat, lon], 13, {animate: false})",
                  [lat, lon])
    page.click('.om-wb-tool[data-tool="area"]')
    d = 0.02
    corners = [(lon - d, lat - d), (lon + d * 1.3, lat - d), (lon + d, lat + d),
               (lon - d * 0.7, lat + d * 0.8)]
    _click_ring(page, corners)
    page.click("#om-measure-finish")
    page.wait_for_function("document.body.dataset.measure === 'done'")
    # no identify popup meanwhile: the clicks were the tool's
    assert page.locator(".leaflet-popup").count() == 0
    vertices = page.evaluate(
        "() => OneMap.workbench.lastPoints ? OneMap.workbench.lastPoints() : null")
    assert vertices and len(vertices) == 4
    for (vlat, vlon), (clon, clat) in zip(vertices, corners, strict=True):
        assert abs(vlat - clat) < 1e-4 and abs(vlon - clon) < 1e-4  # within a pixel
    lats = [p[0] for p in vertices]
    lons = [p[1] for p in vertices]
    area, perimeter = GEOD.polygon_area_perimeter(lons, lats)
    shown = page.locator('#om-measure-result td[data-kind="area"]').inner_text()
    assert number(shown) == pytest.approx(abs(area), rel=0.005)
    assert "亩" in shown and "公顷" in shown
    mu = float(re.search(r"/ ([\d,.]+) 亩", shown).group(1).replace(",", ""))
    assert mu == pytest.approx(abs(area) * 15 / 10000, rel=0.005)
    shown_perimeter = page.locator('#om-measure-result td[data-kind="perimeter"]').inner_text()
    assert number(shown_perimeter) * 1000 == pytest.approx(perimeter, rel=0.005)
    shot(page, "viewer-measure", docs=True)

    page.click('.om-wb-tool[data-tool="distance"]')  # another tool replaces this one
    _click_ring(page, corners[:3])
    page.click("#om-measure-finish")
    vertices = page.evaluate("OneMap.workbench.lastPoints()")
    length = sum(GEOD.inv(a[1], a[0], b[1], b[0])[2] for a, b in itertools.pairwise(vertices))
    shown = page.locator('#om-measure-result td[data-kind="distance"]').inner_text()
    assert "千米" in shown and number(shown) * 1000 == pytest.approx(length, rel=0.005)
    page.click('.om-wb-tool[data-tool="distance"]')  # off again: identify is back
    page.mouse.click(*page_point(page, lon, lat))
    page.locator(".leaflet-popup").wait_for()
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_go_to_coordinate(visit, lang: str) -> None:  # noqa: F811
    v = visit(f"/?lang={lang}", "planner", DESKTOP)
    page = v.page
    page.click('.om-wb-tool[data-tool="goto"]')
    lon, lat = 106.123456, 38.654321
    page.fill("#om-goto-lon", str(lon))
    page.fill("#om-goto-lat", str(lat))
    page.click("#om-goto-form button[type=submit]")
    got = page.evaluate("document.body.dataset.goto").split(",")
    assert float(got[0]) == pytest.approx(lon, abs=1e-7)
    assert float(got[1]) == pytest.approx(lat, abs=1e-7)
    centre = page.evaluate("(() => { const c = OneMap.map().getCenter(); "
                           "return [c.lng, c.lat]; })()")
    assert centre == pytest.approx([lon, lat], abs=1e-6)

    # Gauss-Kruger, CM 105E (EPSG:4544): with the zone given apart, and as Y's prefix
    east, north = pyproj.Transformer.from_crs(4490, 4544, always_xy=True).transform(
        105.8765, 37.4321)
    page.select_option("#om-goto-mode", "gk")
    for y, zone in ((east, "105"), (east, "35"), (35_000_000 + east, "")):
        page.fill("#om-goto-x", f"{north:.3f}")
        page.fill("#om-goto-y", f"{y:.3f}")
        page.fill("#om-goto-zone", zone)
        page.click("#om-goto-form button[type=submit]")
        got = [float(x) for x in page.evaluate("document.body.dataset.goto").split(",")]
        assert got == pytest.approx([105.8765, 37.4321], abs=1e-7), (y, zone, got)

    # Wrong input is explained in the page's language
    page.fill("#om-goto-zone", "")
    page.fill("#om-goto-y", f"{east:.3f}")
    page.click("#om-goto-form button[type=submit]")
    message = page.locator("#om-goto-status.om-error").inner_text()
    page.fill("#om-goto-x", "abc")
    page.click("#om-goto-form button[type=submit]")
    bad = page.locator("#om-goto-status.om-error").inner_text()
    if lang == "zh":
        assert "带号" in message and "不是数字" in bad
    else:
        assert "zone" in message and "is not a number" in bad
        assert not CJK.search(message + bad)
    shot(page, f"viewer-goto-{lang}", docs=lang == "zh")
    assert v.errors == [], v.errors


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_server_messages_in_the_page_language(visit, tmp_path, lang: str) -> None:  # noqa: F811
    """A refused upload (a file GDAL cannot read) is explained in the page's language and
    names the user's file, never a server temp path; a forbidden request likewise."""
    v = visit(f"/siting?lang={lang}", "planner")
    page = v.page
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"this is not a geopackage at all")
    page.set_input_files("#siting-file", str(broken))
    status = page.locator("#siting-file-status.om-error")
    status.wait_for()
    message = status.inner_text()
    assert "/tmp" not in message and "tmp" not in message.lower(), message
    assert message.count("broken.gpkg") == 2, message  # the user's file, in both places
    if lang == "zh":  # GDAL's own words stay, marked as such, after the Chinese sentence
        assert message.startswith("出错: broken.gpkg：无法作为 GIS 数据文件打开"), message
    else:
        assert not CJK.search(message), message
    forbidden = page.evaluate(
        "() => OneMap.json('/api/v1/reconciliation/findings').catch(e => e.message)")
    if lang == "zh":
        assert CJK.search(forbidden) and english_sentence(forbidden) is None, forbidden
    else:
        assert not CJK.search(forbidden) and "planner" in forbidden, forbidden
    assert all("422" in e or "403" in e or "400" in e for e in v.errors), v.errors


def test_swipe_shows_both_layers(visit, server: Server) -> None:  # noqa: F811
    """Left of the divider the left layer only, right of it the right layer only: the
    farmland's fill colour appears on the right of the divider and not on its left."""
    from io import BytesIO

    from PIL import Image

    v = visit("/", "planner")
    page = v.page
    with server.engine.connect() as conn:  # the middle of a farmland patch group
        lon, lat = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c "
            "FROM basic_farmland WHERE county_code = '640202') AS s")).one()
    page.evaluate("([lat, lon]) => OneMap.map().setView([lat, lon], 14, {animate: false})",
                  [lat, lon])
    page.wait_for_function("OneMap.state.basic_farmland.loaded === true && OneMap.tilesIdle()")
    page.locator(".om-wb-collapse").click()  # the layer panel out of the way
    page.click('.om-wb-tool[data-tool="swipe"]')
    page.select_option("#om-swipe-left", "eco_redline")
    page.select_option("#om-swipe-right", "basic_farmland")
    page.locator("#om-swipe-pos").fill("50")
    page.wait_for_function("(document.body.dataset.swipe || '').startsWith("
                           "'eco_redline|basic_farmland|')")
    cut = int(page.evaluate("document.body.dataset.swipe").split("|")[2])
    assert page.evaluate("OneMap.map().hasLayer(window[OneMap.config.groups.eco_redline])")
    box = page.locator(".folium-map").bounding_box()
    divider = page.locator(".om-swipe-divider").bounding_box()
    assert abs(divider["x"] + divider["width"] / 2 - (box["x"] + cut)) <= 1
    page.evaluate("OneMap.map().setView(OneMap.map().getCenter(), OneMap.map().getZoom(), "
                  "{animate: false})")
    page.wait_for_timeout(300)
    colour = page.evaluate("OneMap.config.layers.basic_farmland.color")
    target = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    image = Image.open(BytesIO(page.screenshot(clip=box))).convert("RGB")

    def farmland_pixels(x0: int, x1: int) -> int:
        found = 0
        for x in range(x0, x1, 3):
            for y in range(60, image.height - 60, 3):
                pixel = image.getpixel((x, y))
                if sum(abs(a - b) for a, b in zip(pixel, target, strict=True)) < 60:
                    found += 1
        return found

    assert farmland_pixels(cut + 6, image.width - 10) > 20  # the right layer, right
    assert farmland_pixels(60, cut - 6) == 0  # and not left of the divider
    shot(page, "viewer-swipe", docs=True)
    page.click('.om-wb-tool[data-tool="swipe"]')  # off: the panes are whole again
    assert page.evaluate("OneMap.map().getPane('om-basic_farmland').style.clip") == ""
    assert v.errors == [], v.errors


@pytest.mark.parametrize("path", ["/siting", "/reconciliation", "/history"])
def test_pages_at_tablet_width(visit, path: str) -> None:  # noqa: F811
    """The other map pages on an 820 px tablet: one layer icon, nothing wider than the
    screen, the tools there (screenshots for the docs)."""
    v = visit(path, "admin", TABLET)
    page = v.page
    assert page.locator(".leaflet-control-layers").count() == 1
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    # distance, area, go-to, table, statistics, swipe, print
    assert page.locator(".om-wb-bar .om-wb-tool").count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    shot(page, f"{path.strip('/')}-tablet", docs=True)
    assert v.errors == [], v.errors
