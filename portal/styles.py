"""The layer configuration the browser scripts receive: how each catalogue layer is drawn,
labelled and described, taken from the catalogue (``catalogue.yaml``: ``style``, ``tiles``).

Nothing here decides a colour, a class or a zoom: the legend (built in Python, ``mapbase``)
and the map styling (done in the browser, ``OneMap.colorFor``) both read the catalogue's
style through :func:`layer_styles`, so they cannot disagree with each other or with the
report map and the notebooks. What is added is presentation only: titles in the page's
language and the Chinese labels of coded values for popups (核心保护区 for ``core``).
"""

from __future__ import annotations

import re
from typing import Any, get_args

from gis.layers.catalogue import Group, Layer, load_catalogue
from portal.i18n import Lang

#: Group order in the layer control: the catalogue's order of groups.
GROUPS: tuple[str, ...] = get_args(Group)

_CJK = re.compile(r"[\u4e00-\u9fff]")


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


def legend_entries(layer: Layer, lang: Lang) -> list[dict[str, Any]]:
    """The layer's legend rows in the page's language (colour, label, outline swatch)."""
    return [{"color": e.color, "label": e.label(lang), "outline": e.outline}
            for e in layer.style.legend(layer.zh, layer.en)]


def layer_style(layer: Layer, lang: Lang) -> dict[str, Any]:
    """Everything the browser needs to draw, label and describe one layer."""
    style = layer.style
    return {
        "id": layer.id,
        "title": layer.zh if lang == "zh" else layer.en,
        "group": layer.group,
        "mode": layer.tiles.mode,
        # A control line: the page may ask for the version in force on another day (as_of).
        "versioned": layer.versioned,
        "on": style.visible,
        "color": style.color,
        "fillOpacity": style.fill_opacity,
        "weight": style.weight,
        "dash": style.dash,
        "field": style.field,
        "prefix": style.prefix,
        "classes": style.class_colours,
        "z": style.z,
        "fields": [{"name": f.name, "title": f.zh if lang == "zh" else f.en,
                    "type": f.type} for f in layer.fields],
        "coded": coded_labels(layer, lang),
        "legend": legend_entries(layer, lang),
    }


def layer_styles(lang: Lang) -> dict[str, dict[str, Any]]:
    """:func:`layer_style` of every catalogue layer, by layer id."""
    return {layer.id: layer_style(layer, lang) for layer in load_catalogue()}
