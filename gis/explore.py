"""Maps for notebooks: layers and results on Leaflet in the portal's own styles and legends,
offline like the portal.

One style source: each feature of a catalogue layer is coloured by
``gis.layers.styles.LayerStyle.colour_for`` (the function the portal's ``OneMap.colorFor``
mirrors, and the report map uses), with the layer's fill opacity, line weight and dash, and
the legend is ``gis.layers.styles.LayerStyle.legend``. Rows of a result that name a
catalogue ``layer`` (siting overlaps, monitoring patches) take that layer's colours; other
rows are drawn in one highlight colour.

Offline: folium's default page pulls Leaflet, jQuery and Bootstrap from CDNs. Here the map
carries Leaflet only, inlined from the portal's npm install (``portal/node_modules``, put
there by ``scripts/setup.sh``) as ``data:`` URLs, so a map in a notebook opened on a bureau
network with no internet still draws; over the API the server's ``/static/vendor`` copy is
linked instead. The base map follows ``GIS_BASEMAP`` (``offline``: none).
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from gis.errors import InputError
from gis.layers.catalogue import Layer, load_catalogue
from gis.messages import Lang, msg, text

#: Where ``npm ci --prefix portal`` puts Leaflet (the portal serves the same files).
LEAFLET_DIST = Path(__file__).resolve().parents[1] / "portal/node_modules/leaflet/dist"
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
#: Rows of a result that name no catalogue layer.
HIGHLIGHT = "#000000"
#: Attributes shown in a feature's tooltip (the first of the layer's fields).
TOOLTIP_FIELDS = 5


@dataclass(frozen=True)
class Assets:
    """Where the map's Leaflet script and stylesheet come from, and the base map."""

    js: str
    css: str
    basemap: str = "osm"


@cache
def _inlined() -> tuple[str, str] | None:
    if not (LEAFLET_DIST / "leaflet.js").is_file():
        return None
    js = (LEAFLET_DIST / "leaflet.js").read_bytes()
    css = (LEAFLET_DIST / "leaflet.css").read_text(encoding="utf-8")

    def image(match: re.Match[str]) -> str:
        data = (LEAFLET_DIST / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", image, css)
    return (f"data:text/javascript;base64,{base64.b64encode(js).decode()}",
            f"data:text/css;base64,{base64.b64encode(css.encode()).decode()}")


def local_assets(settings: Any) -> Assets:
    """Leaflet inlined from the portal's npm install (folium's CDN only if it is missing)."""
    inlined = _inlined()
    basemap = settings.portal.basemap
    if inlined is None:
        return Assets(folium.Map.default_js[0][1], folium.Map.default_css[0][1], basemap)
    return Assets(*inlined, basemap)


def served_assets(url: str) -> Assets:
    """Leaflet from the API server's own copy (the portal's ``/static/vendor``)."""
    return Assets(f"{url}/static/vendor/leaflet/leaflet.js",
                  f"{url}/static/vendor/leaflet/leaflet.css")


class _Legend(MacroElement):
    """A Leaflet control with one block per layer drawn, as the portal's legend."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomleft"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "leaflet-control");
            div.style.cssText = "background:white;padding:6px 8px;font:12px sans-serif;" +
                "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:40vh;" +
                "overflow:auto";
            div.innerHTML = {{ this.content|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, content: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.content = content


def _swatch(colour: str, label: str, outline: bool) -> str:
    fill = "transparent" if outline else colour
    return (f'<div><span style="display:inline-block;width:14px;height:10px;margin-right:4px;'
            f'border:2px solid {colour};background:{fill}"></span>{html.escape(label)}</div>')


def _catalogue(name: str | None) -> Layer | None:
    return next((layer for layer in load_catalogue() if layer.id == name), None)


def _plain(value: Any) -> Any:
    """A JSON-safe attribute value for a tooltip."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 2)
    return str(value)


def _features(frame: gpd.GeoDataFrame, fields: list[str]) -> dict[str, Any]:
    shown = frame.to_crs("EPSG:4490") if frame.crs is not None else frame
    features = []
    for (_, row), geom in zip(shown.iterrows(), shown.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        properties = {f: _plain(row[f]) for f in fields if f in row.index}
        for name in ("layer", "zone"):  # what colour_for and the row's layer need
            if name in row.index:
                properties.setdefault(name, _plain(row[name]))
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _style(layer: Layer | None) -> Any:
    """Leaflet path options of a feature: its layer's (or its row's layer's) style."""

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        props = feature["properties"]
        own = layer or _catalogue(props.get("layer"))
        if own is None:
            return {"color": HIGHLIGHT, "fillColor": HIGHLIGHT, "fillOpacity": 0.25,
                    "weight": 2}
        s = own.style
        colour = s.colour_for(props)
        return {"color": colour, "fillColor": colour, "fillOpacity": s.fill_opacity,
                "weight": s.weight, "dashArray": s.dash}

    return style


def explore_frames(frames: list[tuple[str | None, gpd.GeoDataFrame]], assets: Assets,
                   lang: Lang, m: folium.Map | None = None) -> folium.Map:
    """``frames`` as (catalogue layer id or a title, frame), drawn in order with their
    legend; on ``m`` when given, else on a new map fitted to them."""
    drawn = [(name, frame) for name, frame in frames if len(frame)]
    if not drawn:
        raise InputError(msg("onemap.nothing_to_map"))
    fresh = m is None
    if m is None:
        m = folium.Map(tiles=None, control_scale=True)
        m.default_js = [("leaflet", assets.js)]
        m.default_css = [("leaflet_css", assets.css)]
        if assets.basemap != "offline":
            folium.TileLayer(OSM_URL, name="OpenStreetMap", attr=OSM_ATTRIBUTION,
                             max_zoom=19).add_to(m)
    legend = [f"<b>{html.escape(text('onemap.word.legend', lang))}</b>"]
    bounds = []
    for name, frame in drawn:
        layer = _catalogue(name)
        title = (layer.en if lang == "en" else layer.zh) if layer else str(name)
        if layer is not None:
            fields = [f for f in layer.field_names[:TOOLTIP_FIELDS]]
            aliases = [(layer.field(f).en if lang == "en" else layer.field(f).zh)
                       for f in fields]
        else:
            fields = [c for c in frame.columns if c != "geometry"
                      and not isinstance(frame[c].iloc[0], list | dict)][:TOOLTIP_FIELDS + 1]
            aliases = fields
        fields, aliases = [*fields, "area_mu"], [*aliases, "亩"]
        data = _features(frame, fields)
        present = [(f, a) for f, a in zip(fields, aliases, strict=True)
                   if any(f in feat["properties"] for feat in data["features"])]
        folium.GeoJson(data, name=title, style_function=_style(layer),
                       tooltip=folium.GeoJsonTooltip([f for f, _ in present],
                                                     aliases=[a for _, a in present])
                       if present else None).add_to(m)
        bounds.append(frame.to_crs("EPSG:4490").total_bounds if frame.crs else frame.total_bounds)
        legend.append(f"<div style='margin-top:4px'><b>{html.escape(title)}</b></div>")
        if layer is not None:
            legend += [_swatch(e.color, e.label(lang), e.outline)
                       for e in layer.style.legend(layer.zh, layer.en)]
        else:
            named = sorted({v for v in frame.get("layer", pd.Series(dtype=object)).dropna()
                            if _catalogue(v)})
            legend += [_swatch(_catalogue(v).style.color, _title(v, lang), False) for v in named]
            if not named:
                legend.append(_swatch(HIGHLIGHT, str(name), False))
    _Legend("".join(legend)).add_to(m)
    if fresh:
        folium.LayerControl(collapsed=False).add_to(m)
        x0 = min(b[0] for b in bounds)
        y0 = min(b[1] for b in bounds)
        x1 = max(b[2] for b in bounds)
        y1 = max(b[3] for b in bounds)
        m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def _title(layer_id: str, lang: Lang) -> str:
    layer = _catalogue(layer_id)
    assert layer is not None
    return layer.en if lang == "en" else layer.zh
