"""One layer control per map: the base maps and the grouped overlays in a single panel.

Every map used to carry two identical layer icons, folium's ``LayerControl`` for the base
maps (top left) and the grouped overlay control (top right); planners used to the provincial
one-map systems expect one layer panel. ``leaflet-groupedlayercontrol`` takes base layers as
its first argument, which folium's ``GroupedLayerControl`` always passes as ``null``; this
subclass passes the map's base layers there and names the control (``var <name>``), so the
workbench script (``static/workbench.js``) can collapse it on a tablet and hang its opacity
sliders on it.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.plugins import GroupedLayerControl
from folium.template import Template


class OneLayerControl(GroupedLayerControl):
    """``GroupedLayerControl`` with the base maps in the same panel."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control.groupedLayers(
                {
                    {%- for name, val in this.base_layers.items() %}
                    {{ name|tojson }} : {{ val }},
                    {%- endfor %}
                },
                {
                    {%- for group_name, overlays in this.grouped_overlays.items() %}
                    {{ group_name|tojson }} : {
                        {%- for overlaykey, val in overlays.items() %}
                        {{ overlaykey|tojson }} : {{val}},
                        {%- endfor %}
                    },
                    {%- endfor %}
                },
                {{ this.options|tojavascript }},
            ).addTo({{ this._parent.get_name() }});
            {{ this._parent.get_name() }}.omLayerControl = {{ this.get_name() }};
            {%- for val in this.layers_untoggle %}
            {{ val }}.remove();
            {%- endfor %}
        {% endmacro %}
    """)

    def __init__(self, groups: dict[str, list[Any]], bases: dict[str, str],
                 **kwargs: Any) -> None:
        super().__init__(groups, **kwargs)
        self._name = "OneLayerControl"
        self.base_layers = bases


def base_layers(m: folium.Map) -> dict[str, str]:
    """The map's base layers (non-overlay layers in a control): title -> JS name. Taken
    out of any other layer control, since this one lists them."""
    found: dict[str, str] = {}
    for child in m._children.values():
        if getattr(child, "overlay", True) is False and getattr(child, "control", False):
            found[child.layer_name] = child.get_name()
            child.control = False
    return found
