"""One place per layer: every catalogue layer has a complete style, legend (zh and en), tile
policy and temporal property, and what the portal page, the tile service and the report map
produce takes its colours and policy from the catalogue entries, compared here one by one."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from matplotlib.colors import to_hex, to_rgba
from shapely.geometry import box, mapping

from api.app import create_app
from gis.layers.catalogue import MAX_TILE_ZOOM, get_layer, load_catalogue
from gis.layers.styles import COLOUR
from gis.reports.mapimage import PIECE_ALPHA, footprint_map_figure, footprint_map_png

CONFIG = re.compile(r'<script type="application/json" id="om-config"[^>]*>(.*?)</script>', re.S)
PARCELS = {"survey_patches", "cultivated_land", "basic_farmland", "forest_parcels",
           "grassland_parcels", "village_plan_zones"}


def test_every_layer_has_a_complete_style_legend_and_tile_policy() -> None:
    for layer in load_catalogue():
        style = layer.style
        colours = [style.color, *(c.color for c in style.classes)]
        assert all(re.fullmatch(COLOUR, c) for c in colours), layer.id
        legend = style.legend(layer.zh, layer.en)
        assert legend and all(e.zh.strip() and e.en.strip() for e in legend), layer.id
        if style.field:
            assert style.field in layer.field_names
            assert [(e.color, e.zh, e.en) for e in legend] == [
                (c.color, c.zh, c.en) for c in style.classes]
        else:
            assert [(e.color, e.zh, e.en) for e in legend] == [(style.color, layer.zh,
                                                                  layer.en)]
        tiles = layer.tiles
        assert tiles.mode in ("tiles", "geojson")
        assert 0 <= tiles.minzoom <= tiles.maxzoom <= MAX_TILE_ZOOM and tiles.max_features > 0
        if layer.temporal is not None:
            assert layer.field(layer.temporal).type == "date"
    catalogue = list(load_catalogue())
    # Parcel layers start at zoom 12 and are not simplified; the big ones travel as tiles.
    assert {lyr.id for lyr in catalogue if lyr.tiles.minzoom == 12} == PARCELS
    assert {lyr.id for lyr in catalogue if not lyr.tiles.simplify} == PARCELS
    assert {lyr.id for lyr in catalogue if lyr.tiles.mode == "tiles"} == PARCELS - {
        "village_plan_zones"}
    assert {lyr.id: lyr.temporal for lyr in catalogue if lyr.temporal} == {
        "village_plans": "approved_date", "township_plans": "approved_date",
        "forest_parcels": "acquired_date"}
    # Every layer with a date field names its primary one.
    dated = {lyr.id for lyr in catalogue if any(f.type == "date" for f in lyr.fields)}
    assert dated == {lyr.id for lyr in catalogue if lyr.temporal}


def test_colour_for_picks_class_prefix_or_base() -> None:
    red = get_layer("eco_redline").style
    assert red.colour_for({"zone": "core"}) == red.class_colours["core"]
    assert red.colour_for({"zone": "elsewhere"}) == red.color
    assert red.colour_for({}) == red.color and red.colour_for(None) == red.color
    survey = get_layer("survey_patches").style
    assert survey.colour_for({"land_use_code": "0301"}) == survey.class_colours["03"]
    zones = get_layer("village_plan_zones").style  # the longest prefix wins: 0703 over 07
    assert zones.colour_for({"land_use_code": "070301"}) == zones.class_colours["0703"]
    assert zones.colour_for({"land_use_code": "0701"}) == zones.color


@pytest.fixture(scope="module")
def admin(settings, engine, role_keys):
    with TestClient(create_app(settings), headers=role_keys["admin"]) as client:
        yield client


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_portal_config_is_the_catalogue(admin: TestClient, lang: str) -> None:
    html = admin.get("/", params={"lang": lang}).text
    config = json.loads(CONFIG.search(html).group(1))
    assert set(config["layers"]) == {layer.id for layer in load_catalogue()}
    for layer in load_catalogue():
        got, style = config["layers"][layer.id], layer.style
        assert (got["color"], got["fillOpacity"], got["weight"], got["dash"], got["z"],
                got["field"], got["prefix"], got["on"], got["mode"]) == (
            style.color, style.fill_opacity, style.weight, style.dash, style.z, style.field,
            style.prefix, style.visible, layer.tiles.mode), layer.id
        assert got["classes"] == {c.value: c.color for c in style.classes}
        assert list(got["classes"]) == [c.value for c in style.classes]  # legend order
        assert got["legend"] == [
            {"color": e.color, "label": e.zh if lang == "zh" else e.en, "outline": e.outline}
            for e in style.legend(layer.zh, layer.en)]
        assert got["title"] == (layer.zh if lang == "zh" else layer.en)
        # The legend block drawn into the page shows the same swatches.
        for entry in got["legend"]:
            assert f'--c:{entry["color"]}' in html


def test_tiles_follow_the_catalogue_policy(admin: TestClient) -> None:
    for layer in load_catalogue():
        base = f"/ogc/collections/{layer.id}/tiles/WebMercatorQuad"
        tiles = layer.tiles
        doc = admin.get(f"{base}/tilejson.json").json()
        assert (doc["minzoom"], doc["maxzoom"]) == (tiles.minzoom, tiles.maxzoom), layer.id
        document = admin.get(base).json()
        tileset = document["layers"][0]
        assert (tileset["minTileMatrix"], tileset["maxTileMatrix"]) == (
            str(tiles.minzoom), str(tiles.maxzoom))
        if tiles.minzoom > 0:
            below = admin.get(f"{base}/{tiles.minzoom - 1}/0/0")
            assert below.status_code == 404 and "不在此图层的瓦片集范围内" in below.text
        # The first tile inside the layer's limits at its lowest zoom is served; 0/0 lies
        # outside them at any zoom above 0 (404 since the limits are enforced, issue 19).
        limits = {lim["tileMatrix"]: lim for lim in document["tileMatrixSetLimits"]}
        first = limits[str(tiles.minzoom)]
        inside = f"{base}/{tiles.minzoom}/{first['minTileRow']}/{first['minTileCol']}"
        assert admin.get(inside).status_code in (200, 204), inside


FOOT = box(106.20, 39.00, 106.23, 39.03)


def _overlap(layer: str, zone: str | None, cell: int) -> dict:
    x = 106.20 + cell * 0.005
    return {"layer": layer, "zone": zone, "geometry": mapping(box(x, 39.0, x + 0.004, 39.03))}


def test_report_map_takes_its_colours_from_the_catalogue() -> None:
    overlaps = [_overlap("eco_redline", "core", 0), _overlap("eco_redline", "general", 1),
                _overlap("basic_farmland", None, 2), _overlap("cultivated_land", "paddy", 3),
                _overlap("urban_boundary", "special_use", 4)]
    fig = footprint_map_figure(mapping(FOOT), overlaps, lang="en")
    ax = fig.axes[0]
    fills = [p for p in ax.patches if p.get_fill()]
    assert len(fills) == len(overlaps)
    expected = {
        # As the siting page: the class colour of a zone-classified layer's zone ...
        "eco_redline core": get_layer("eco_redline").style.class_colours["core"],
        "eco_redline general": get_layer("eco_redline").style.class_colours["general"],
        "urban_boundary special_use":
            get_layer("urban_boundary").style.class_colours["special_use"],
        # ... else the layer's colour (cultivated land is classified by subclass, not zone).
        "basic_farmland None": get_layer("basic_farmland").style.color,
        "cultivated_land paddy": get_layer("cultivated_land").style.color,
    }
    for patch, overlap in zip(fills, overlaps, strict=True):
        want = expected[f"{overlap['layer']} {overlap['zone']}"]
        assert to_hex(patch.get_facecolor(), keep_alpha=False) == want
        assert patch.get_facecolor() == pytest.approx(to_rgba(want, PIECE_ALPHA))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Project footprint", "Ecological protection red line: core",
                      "Ecological protection red line: general",
                      "Permanent basic farmland", "Cultivated land",
                      "Urban development boundary: special use"]
    assert footprint_map_png(mapping(FOOT), overlaps).startswith(b"\x89PNG")
