"""How each catalogue layer is drawn: colours by class or zone, legend entries, and whether it
travels as GeoJSON or as vector tiles.

Kept as data next to the catalogue rather than in the scripts so the legend (built here, in
Python) and the map styling (done in the browser) cannot disagree: both read the same
:func:`layer_styles` output. Class labels come from the catalogue's coded values where the
catalogue has them (核心保护区 for ``core``), so a new spelling is added in one place.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from gis.layers.catalogue import Layer, load_catalogue
from portal.i18n import Lang

#: Layers too large to send whole: drawn from vector tiles (Leaflet.VectorGrid).
TILED = frozenset({"survey_patches", "forest_parcels", "grassland_parcels", "cultivated_land",
                   "basic_farmland"})
#: Shown when the viewer opens (the three control lines and the villages).
DEFAULT_ON = frozenset({"admin_divisions", "eco_redline", "basic_farmland", "urban_boundary",
                        "village_plans"})
#: Group order in the layer control.
GROUPS = ("base", "control_lines", "planning", "forest_grass", "survey")

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Style:
    """Drawing of one layer: a base colour, optionally a colour per value of ``field``."""

    color: str
    fill_opacity: float = 0.35
    weight: float = 1.2
    dash: str | None = None
    field: str | None = None
    #: value -> colour; for ``prefix`` matching, value is a code prefix (e.g. "03" 林地)
    classes: dict[str, str] = dataclasses.field(default_factory=dict)
    prefix: bool = False
    #: labels of classes the catalogue has no coded values for: value -> (zh, en)
    labels: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    z: int = 0


# 三调 first-level classes (GB/T 21010-2017), in the colours of the survey's usual map symbology.
_SURVEY = {
    "01": ("#f6e39b", "耕地", "cultivated"), "02": ("#f4b6d2", "园地", "orchard"),
    "03": ("#5fb760", "林地", "forest"), "04": ("#b7d98c", "草地", "grassland"),
    "05": ("#f08c8c", "商业服务业用地", "commercial"), "06": ("#b9a0c8", "工矿用地", "mining"),
    "07": ("#f0a05a", "住宅用地", "residential"), "08": ("#f58c6e", "公共管理与公共服务用地",
                                                   "public services"),
    "09": ("#a0a0a0", "特殊用地", "special"), "10": ("#c8c8c8", "交通运输用地", "transport"),
    "11": ("#8cc8f0", "水域及水利设施用地", "water"), "12": ("#dcd2be", "其他土地", "other"),
}
_ZONES = {
    "01": ("#f6e39b", "耕地", "cultivated"), "0703": ("#f0a05a", "宅基地", "homestead"),
    "09": ("#f08c8c", "商业服务业用地", "commercial"), "1401": ("#7cc576", "公园绿地", "park"),
    "16": ("#ffffff", "留白用地(机动指标)", "reserved (flexible quota)"),
}

STYLES: dict[str, Style] = {
    "admin_divisions": Style("#555555", fill_opacity=0.0, weight=1.5, dash="6 4",
                             field="level", classes={"district": "#333333",
                                                     "township": "#666666",
                                                     "village": "#999999"}, z=90),
    "eco_redline": Style("#d7191c", field="zone", classes={"core": "#a50f15",
                                                           "general": "#fb6a4a"},
                         fill_opacity=0.4, weight=1.5, z=60),
    "basic_farmland": Style("#e6b800", fill_opacity=0.45, z=40),
    "cultivated_land": Style("#f6e39b", field="subclass",
                             classes={"paddy": "#7fc8e0", "irrigated": "#c6e07c",
                                      "dry": "#f2d27a"}, z=20),
    "urban_boundary": Style("#7b3294", field="zone",
                            classes={"centralized_construction": "#7b3294",
                                     "flexible_development": "#c2a5cf",
                                     "special_use": "#4dac26"},
                            fill_opacity=0.25, weight=2, z=50),
    "village_plans": Style("#d95f02", field="category",
                           classes={"agglomeration": "#d95f02", "suburban": "#e7298a",
                                    "heritage": "#7570b3", "improvement": "#1b9e77",
                                    "relocation": "#666666"},
                           fill_opacity=0.08, weight=2, z=70),
    "township_plans": Style("#1f78b4", fill_opacity=0.0, weight=2, dash="2 4", z=80),
    "village_plan_zones": Style("#f0a05a", field="land_use_code", prefix=True,
                                classes={k: v[0] for k, v in _ZONES.items()},
                                labels={k: (v[1], v[2]) for k, v in _ZONES.items()}, z=65),
    "forest_parcels": Style("#238b45", field="forest_category",
                            classes={"public_welfare": "#006d2c", "commercial": "#74c476"},
                            z=30),
    "grassland_parcels": Style("#a6d96a", fill_opacity=0.4, z=25),
    "survey_patches": Style("#cccccc", field="land_use_code", prefix=True,
                            classes={k: v[0] for k, v in _SURVEY.items()},
                            labels={k: (v[1], v[2]) for k, v in _SURVEY.items()},
                            fill_opacity=0.5, weight=0.6, z=10),
    "forest_farm_areas": Style("#00441b", fill_opacity=0.05, weight=2.5, dash="8 4", z=75),
    "projects": Style("#e7298a", fill_opacity=0.3, weight=2, z=85),
}
_FALLBACK = Style("#3388ff")


def _value_label(layer: Layer, style: Style, value: str, lang: Lang) -> str:
    if value in style.labels:
        zh, en = style.labels[value]
        return zh if lang == "zh" else en
    if style.field:
        spellings = (layer.field(style.field).values or {}).get(value, [])
        if lang == "zh":
            chinese = [s for s in spellings if _CJK.search(s)]
            if chinese:
                return chinese[0]
    return value.replace("_", " ")


def coded_labels(layer: Layer, lang: Lang) -> dict[str, dict[str, str]]:
    """Per coded field, canonical value -> label (核心保护区 for ``core`` in Chinese)."""
    out: dict[str, dict[str, str]] = {}
    for f in layer.fields:
        if not f.values:
            continue
        labels = {}
        for value, spellings in f.values.items():
            chinese = [s for s in spellings if _CJK.search(s)]
            labels[value] = chinese[0] if lang == "zh" and chinese else value.replace("_", " ")
        out[f.name] = labels
    return out


def layer_styles(lang: Lang) -> dict[str, dict[str, Any]]:
    """Everything the browser needs to draw, label and describe each layer."""
    out: dict[str, dict[str, Any]] = {}
    for layer in load_catalogue():
        style = STYLES.get(layer.id, _FALLBACK)
        out[layer.id] = {
            "id": layer.id,
            "title": layer.zh if lang == "zh" else layer.en,
            "group": layer.group,
            "mode": "tiles" if layer.id in TILED else "geojson",
            "on": layer.id in DEFAULT_ON,
            "color": style.color,
            "fillOpacity": style.fill_opacity,
            "weight": style.weight,
            "dash": style.dash,
            "field": style.field,
            "prefix": style.prefix,
            "classes": style.classes,
            "z": style.z,
            "fields": [{"name": f.name, "title": f.zh if lang == "zh" else f.en,
                        "type": f.type} for f in layer.fields],
            "coded": coded_labels(layer, lang),
            "legend": legend_entries(layer, lang),
        }
    return out


def legend_entries(layer: Layer, lang: Lang) -> list[dict[str, str]]:
    style = STYLES.get(layer.id, _FALLBACK)
    title = layer.zh if lang == "zh" else layer.en
    if not style.classes:
        return [{"color": style.color, "label": title, "outline": str(style.fill_opacity < 0.1)}]
    return [{"color": color, "label": _value_label(layer, style, value, lang),
             "outline": str(style.fill_opacity < 0.1)}
            for value, color in style.classes.items()]

