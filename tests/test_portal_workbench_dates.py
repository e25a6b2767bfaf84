"""The swipe between the two monitoring dates in a real browser (issue 23): 两期地类 shows the
2020 land cover left of the divider and the 2023 land cover right of it, as tiles the app
renders; at a planted change (LC-01, grassland -> construction) the pixel left of the divider
has the 2020 class colour and the pixel right of it the 2023 one, wherever the divider is
dragged across the patch. The option is hidden, with a note, without a key or a run.

Same set-up as ``tests/test_portal.py`` (its fixtures: the sample one-map, a uvicorn server
with the offline base map, Debian's chromium); the run is made with the samples' rasters.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pyproj
import pytest
import rasterio
import yaml
from PIL import Image
from sqlalchemy import text

from gis.analysis import monitoring as mon
from gis.layers.styles import LAND_COVER_COLOURS
from gis.messages import text as message_text
from gis.rules import load_profile
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    Server,
    browser,
    page_point,
    portal_db,
    server,
    shot,
    visit,
)
from tests.test_portal_strings import CJK

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
LC_2020, LC_2023 = SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif"
PLANTED = {s["id"]: s for s in yaml.safe_load(
    (SAMPLES / "planted.yaml").read_text(encoding="utf-8"))["situations"]}
CLASSES = {c.value: c for c in load_profile("ningxia").monitoring.classes}


def rgb(value: int) -> tuple[int, int, int]:
    colour = LAND_COVER_COLOURS[CLASSES[value].code]
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def near(pixel: tuple[int, ...], target: tuple[int, int, int], tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], target, strict=True))


def patch_centre(sid: str) -> tuple[float, float]:
    """The planted patch's window centre in lon/lat (EPSG:4544 -> EPSG:4326)."""
    window = PLANTED[sid]["expected"]["window"]
    with rasterio.open(LC_2023) as ds:
        x, y = ds.xy(window["row_off"] + window["height"] // 2,
                     window["col_off"] + window["width"] // 2)
        crs = ds.crs.to_wkt()
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)


@pytest.fixture(scope="module")
def run_id(portal_db) -> int:  # noqa: F811
    """A monitoring run of the sample dates (the portal's database has the zones)."""
    engine = portal_db[0]
    return mon.run(engine, LC_2020, LC_2023, "ningxia").run_id


def open_dates(page) -> None:
    """Open the swipe tool and choose 两期地类, with every other layer off (their fills
    would tint the land cover's colours)."""
    page.locator(".om-wb-collapse").click()  # the layer panel out of the way
    page.click('.om-wb-tool[data-tool="swipe"]')
    page.wait_for_function("document.body.dataset.swipeDates === 'ready'")
    page.select_option("#om-swipe-mode", "dates")
    page.wait_for_function("(document.body.dataset.swipe || '')"
                           ".startsWith('landcover-a|landcover-b|')")
    page.evaluate("Object.values(OneMap.config.groups).forEach(n => "
                  "OneMap.map().removeLayer(window[n]))")


def drag_divider_to(page, x: float) -> int:
    """Drag the divider's handle to page x; the cut in map pixels afterwards."""
    handle = page.locator(".om-swipe-handle").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, handle["y"] + handle["height"] / 2, steps=5)
    page.mouse.up()
    return int(page.evaluate("document.body.dataset.swipe").split("|")[2])


def test_swipe_between_dates_shows_both(visit, server: Server, run_id: int) -> None:  # noqa: F811
    v = visit("/", "planner")
    page = v.page
    lon, lat = patch_centre("LC-01")
    expected = PLANTED["LC-01"]["expected"]
    before, after = (int(expected[k].split()[0]) for k in ("class_2020", "class_2023"))
    page.evaluate("([lat, lon]) => OneMap.map().setView([lat, lon], 16, {animate: false})",
                  [lat, lon])
    open_dates(page)
    option = page.locator('#om-swipe-mode option[value="dates"]').inner_text()
    assert option == "两期地类 (2020 | 2023)"
    hint = page.locator(".om-wb-hint").first.inner_text()
    assert hint == f"左侧为 2020 地类，右侧为 2023 地类（监测批次 {run_id}）"
    legend = page.locator(".om-swipe-class").all_inner_texts()
    assert legend == [c.zh for c in sorted(CLASSES.values(), key=lambda c: c.value)]
    swatches = page.eval_on_selector_all(
        ".om-swipe-swatch", "s => s.map(e => getComputedStyle(e).backgroundColor)")
    assert swatches == ["rgb({}, {}, {})".format(*rgb(v)) for v in sorted(CLASSES)]
    assert page.locator(".om-swipe-date-a").inner_text() == "2020"
    assert page.locator(".om-swipe-date-b").inner_text() == "2023"
    box = page.locator(".folium-map").bounding_box()
    cx, cy = page_point(page, lon, lat)

    def pixels() -> tuple[Image.Image, int, int]:
        page.wait_for_function("document.body.dataset.swipeTiles === 'idle'")
        page.wait_for_timeout(400)  # Leaflet fades tiles in
        image = Image.open(BytesIO(page.screenshot(clip=box))).convert("RGB")
        return image, round(cx - box["x"]), round(cy - box["y"])

    # the divider on the patch: 2020 left of it, 2023 right of it
    cut = drag_divider_to(page, cx)
    image, px, py = pixels()
    assert abs(cut - px) <= 2
    row = py - 40  # above the divider's handle, still in the patch
    assert near(image.getpixel((cut - 10, row)), rgb(before)), image.getpixel((cut - 10, row))
    assert near(image.getpixel((cut + 10, row)), rgb(after)), image.getpixel((cut + 10, row))
    shot(page, "viewer-swipe-dates", docs=True)
    # moved left past the patch: the patch is all right of it, 2023
    drag_divider_to(page, cx - 90)
    image, px, py = pixels()
    assert near(image.getpixel((px, py)), rgb(after))
    # moved right past it: 2020
    drag_divider_to(page, cx + 90)
    image, px, py = pixels()
    assert near(image.getpixel((px, py)), rgb(before))
    # the two panes are the two dates' tiles, and off again with the tool
    assert page.evaluate("OneMap.map().getPane('om-landcover-a').querySelectorAll('img')"
                         ".length") > 0
    page.click('.om-wb-tool[data-tool="swipe"]')
    assert page.evaluate("OneMap.map().getPane('om-landcover-a').querySelectorAll('img')"
                         ".length") == 0
    assert page.evaluate("OneMap.map().getPane('om-landcover-b').style.clip") == ""
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()
    assert any("/landcover/a/16/" in u for u in v.requests)
    assert any("/landcover/b/16/" in u for u in v.requests)


def test_swipe_between_dates_in_english(visit, run_id: int) -> None:  # noqa: F811
    v = visit("/?lang=en", "forestry")
    page = v.page
    lon, lat = patch_centre("LC-04")
    page.evaluate("([lat, lon]) => OneMap.map().setView([lat, lon], 15, {animate: false})",
                  [lat, lon])
    open_dates(page)
    option = page.locator('#om-swipe-mode option[value="dates"]').inner_text()
    assert option == "Land cover on two dates (2020 | 2023)"
    legend = page.locator(".om-swipe-class").all_inner_texts()
    assert legend == [message_text(f"landcover.class.{c.code}", "en")
                      for c in sorted(CLASSES.values(), key=lambda c: c.value)]
    panel = page.locator(".om-wb-panel").inner_text()
    assert "Land cover" in panel and f"monitoring run {run_id}" in panel
    assert not CJK.search(panel.replace(page.locator("#om-swipe-left").inner_text(), "")
                          .replace(page.locator("#om-swipe-right").inner_text(), "")), panel
    page.wait_for_function("document.body.dataset.swipeTiles === 'idle'")
    shot(page, "viewer-swipe-dates-en")
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dates_hidden_without_a_key(visit, run_id: int, lang: str) -> None:  # noqa: F811
    v = visit(f"/?lang={lang}", None)
    page = v.page
    page.click('.om-wb-tool[data-tool="swipe"]')
    page.wait_for_function("document.body.dataset.swipeDates === 'unavailable'")
    assert page.locator('#om-swipe-mode option[value="dates"]').get_attribute("hidden") \
        is not None
    note = page.locator("#om-swipe-dates-note")
    assert note.is_visible()
    assert note.inner_text() == message_text("portal.wb_swipe_dates_locked", lang)
    assert not any("/landcover" in u for u in v.requests)  # nothing asked without a key
    assert v.errors == [], v.errors


def test_dates_hidden_without_a_run(visit, server: Server, run_id: int) -> None:  # noqa: F811
    """Last in the module: it empties the monitoring tables."""
    with server.engine.begin() as conn:
        conn.execute(text("TRUNCATE monitor_events, monitor_patches, monitor_runs "
                          "RESTART IDENTITY CASCADE"))
    v = visit("/", "admin")
    page = v.page
    page.click('.om-wb-tool[data-tool="swipe"]')
    page.wait_for_function("document.body.dataset.swipeDates === 'unavailable'")
    assert page.locator('#om-swipe-mode option[value="dates"]').get_attribute("hidden") \
        is not None
    assert page.locator("#om-swipe-dates-note").inner_text() == message_text(
        "portal.wb_swipe_dates_none", "zh")
    assert v.errors == [], v.errors
