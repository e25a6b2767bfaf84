"""The Folium map every page starts from: local assets, base maps, scale bar, mouse position,
grouped layer control, legend.

Folium writes CDN ``<script>``/``<link>`` tags by default (``default_js``/``default_css`` on
the map and on every plugin). Each element used here gets its own lists pointing at
``/static/vendor/...`` instead (set on the instance: folium's ``add_js_link`` would mutate
the class-level list shared by every map in the process). Pages then render the Figure in
three parts (header, body, script) into their own Jinja templates.

Data layers are *empty* FeatureGroups here: the browser fills them from the OGC API with the
user's key, because what a user may see depends on the key kept in their browser, not on
anything the server knows when it renders the page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import Draw, MousePosition
from folium.template import Template

from gis.layers.catalogue import load_catalogue
from gis.settings import Settings
from portal import assets
from portal.controls import OneLayerControl, base_layers
from portal.i18n import Lang, strings
from portal.styles import GROUPS, layer_styles

#: Where the maps open when the database has no divisions yet (Ningxia).
NINGXIA_BOUNDS = (104.2, 35.2, 107.7, 39.4)

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
TIANDITU_URL = "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}_w&x={{x}}&y={{y}}&l={{z}}&tk={key}"


@dataclass
class MapParts:
    """A rendered Folium figure and the JavaScript names the page scripts need."""

    name: str
    header: str
    html: str
    script: str
    groups: dict[str, str] = field(default_factory=dict)
    bases: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


class Legend(MacroElement):
    """A Leaflet control holding one legend block per layer; the page shows the blocks of
    the layers that are on."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create('div', 'om-legend leaflet-control');
            div.innerHTML = {{ this.content|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, content: str, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "Legend"
        self.content = content
        self.position = position


def legend_html(layer_ids: list[str], lang: Lang) -> str:
    t = strings(lang)
    styles = layer_styles(lang)
    blocks = []
    for layer_id in layer_ids:
        style = styles[layer_id]
        rows = "".join(
            f'<div class="om-legend-row"><span class="om-swatch'
            f'{" om-outline" if e["outline"] else ""}" '
            f'style="--c:{html.escape(e["color"])}"></span>{html.escape(e["label"])}</div>'
            for e in style["legend"])
        blocks.append(f'<div class="om-legend-layer" data-layer="{html.escape(layer_id)}">'
                      f'<div class="om-legend-title">{html.escape(style["title"])}</div>'
                      f'{rows}</div>')
    return (f'<div class="om-legend-head">{html.escape(t["legend"])}</div>'
            + "".join(blocks))


def layer_label(layer_id: str, title: str) -> str:
    """The layer control entry: HTML the page script finds by ``data-layer`` to grey out."""
    return (f'<span class="om-layer" data-layer="{html.escape(layer_id)}">'
            f'{html.escape(title)}</span>')


def new_map(settings: Settings, lang: Lang, bounds: tuple[float, float, float, float],
            mouse_position: bool = True) -> tuple[folium.Map, dict[str, str]]:
    """A map with local Leaflet, the base maps the settings allow, a scale bar and the mouse
    position; returns the map and base id -> JS name."""
    t = strings(lang)
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=9, tiles=None,
                   control_scale=True, prefer_canvas=False)
    m.default_js = [("leaflet", assets.LEAFLET_JS)]
    m.default_css = [("leaflet_css", assets.LEAFLET_CSS)]
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    default = settings.portal.basemap
    if default == "tianditu" and not settings.portal.tianditu_key:
        default = "osm"
    bases: dict[str, str] = {}
    if settings.portal.basemap != "offline":
        osm = folium.TileLayer(OSM_URL, name=t["base_osm"], attr=OSM_ATTRIBUTION,
                               max_zoom=19, overlay=False, show=default == "osm")
        osm.add_to(m)
        bases["osm"] = osm.get_name()
        if settings.portal.tianditu_key:
            tdt = folium.FeatureGroup(name=t["base_tianditu"], overlay=False,
                                      show=default == "tianditu")
            for layer in ("vec", "cva"):
                folium.TileLayer(
                    TIANDITU_URL.format(layer=layer, key=settings.portal.tianditu_key),
                    attr="天地图 © 国家地理信息公共服务平台", subdomains="01234567",
                    max_zoom=18, name=f"tianditu_{layer}", overlay=False, control=False,
                ).add_to(tdt)
            tdt.add_to(m)
            bases["tianditu"] = tdt.get_name()
    offline = folium.FeatureGroup(name=t["base_offline"], overlay=False,
                                  show=default == "offline" or settings.portal.basemap == "offline")
    offline.add_to(m)
    bases["offline"] = offline.get_name()
    if mouse_position:
        fmt = "function(n){return n.toFixed(6);}"
        mp = MousePosition(position="bottomleft", separator=", ", lng_first=True,
                           prefix=f"{t['coords_prefix']} (EPSG:4490)", empty_string="—",
                           num_digits=6, lat_formatter=fmt, lng_formatter=fmt)
        mp.default_js = [("mouse_js", assets.MOUSE_JS)]
        mp.default_css = [("mouse_css", assets.MOUSE_CSS)]
        mp.add_to(m)
    return m, bases


def add_layer_groups(m: folium.Map, layer_ids: list[str], lang: Lang,
                     extra: dict[str, tuple[str, str]] | None = None,
                     collapsed: bool = False, on: set[str] | None = None) -> dict[str, str]:
    """One empty FeatureGroup per layer, in a grouped layer control (three control lines,
    planning, forest and grassland, survey); ``extra`` adds id -> (group, title) entries and
    ``on`` overrides which layers start visible. Returns layer id -> JS name."""
    t = strings(lang)
    styles = layer_styles(lang)
    grouped: dict[str, list[folium.FeatureGroup]] = {}
    names: dict[str, str] = {}
    entries = [(lid, styles[lid]["group"], styles[lid]["title"],
                styles[lid]["on"] if on is None else lid in on) for lid in layer_ids]
    entries += [(lid, group, title, False) for lid, (group, title) in (extra or {}).items()]
    order = {g: i for i, g in enumerate((*GROUPS, "monitoring"))}
    entries.sort(key=lambda e: order.get(e[1], 99))
    for layer_id, group, title, on in entries:
        fg = folium.FeatureGroup(name=layer_label(layer_id, title), overlay=True, show=on)
        fg.add_to(m)
        names[layer_id] = fg.get_name()
        grouped.setdefault(t.get(f"group_{group}", group), []).append(fg)
    # One panel for base maps and overlays (issue 23: one layer icon per map).
    control = OneLayerControl(grouped, base_layers(m), exclusive_groups=False,
                              collapsed=collapsed, position="topright")
    control.default_js = [("grouped_js", assets.GROUPED_JS)]
    control.default_css = [("grouped_css", assets.GROUPED_CSS)]
    control.add_to(m)
    return names


def add_base_control(m: folium.Map) -> None:
    """The base-map switch: since issue 23 the base maps are listed in the one layer control
    (``portal.controls``, added by :func:`add_layer_groups`), so this adds a control only to
    a map without overlays."""
    if base_layers(m):
        folium.LayerControl(position="topright", collapsed=True).add_to(m)


def add_draw(m: folium.Map) -> str:
    """Leaflet.draw for a footprint: polygon, rectangle or line; returns the drawn group's
    JS name."""
    drawn = folium.FeatureGroup(name="footprint", control=False)
    drawn.add_to(m)
    draw = Draw(feature_group=drawn, position="topleft", show_geometry_on_click=False,
                draw_options={"polyline": {"shapeOptions": {"color": "#1f78b4"}},
                              "polygon": {"allowIntersection": False, "showArea": True,
                                          "shapeOptions": {"color": "#1f78b4"}},
                              "rectangle": {"shapeOptions": {"color": "#1f78b4"}},
                              "circle": False, "marker": False, "circlemarker": False},
                edit_options={"poly": {"allowIntersection": False}})
    draw.default_js = [("draw_js", assets.DRAW_JS)]
    draw.default_css = [("draw_css", assets.DRAW_CSS)]
    draw.add_to(m)
    return drawn.get_name()


def render(m: folium.Map, **names: Any) -> MapParts:
    """Render the figure into its three parts."""
    figure = m.get_root()
    figure.render()
    return MapParts(name=m.get_name(), header=figure.header.render(),
                    html=figure.html.render(), script=figure.script.render(), **names)


def catalogue_ids() -> list[str]:
    return [layer.id for layer in load_catalogue()]


def config_json(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/json">`` block (no ``</`` can end it early)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
