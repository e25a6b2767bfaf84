"""The one-map viewer (``/``): every catalogue layer, grouped, styled by class, with legends,
identify popups, search, scale bar, CGCS2000 mouse coordinates and a base-map switch."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.common import data_extent, page_config, render_page
from portal.i18n import Lang, strings
from portal.mapbase import (
    Legend,
    add_base_control,
    add_layer_groups,
    catalogue_ids,
    legend_html,
    new_map,
    render,
)

#: The route name of the monitoring patches (``api.routers.monitoring``). Resolved by name,
#: not found by scanning ``app.routes``: Starlette 1.10 keeps included routers as objects
#: without a ``path``, and the scan silently dropped the layer. Monitoring is part of the app,
#: so a missing route is an error, not an optional layer.
MONITORING_ROUTE = "monitoring_patches"


async def viewer_page(request: Request, lang: Lang) -> HTMLResponse:
    t = strings(lang)
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    ids = catalogue_ids()
    monitoring = request.app.url_path_for(MONITORING_ROUTE)
    extra = {"monitoring_patches": ("monitoring", t["monitoring_patches"])}
    groups = add_layer_groups(m, ids, lang, extra=extra)
    add_base_control(m)
    Legend(legend_html(ids, lang)).add_to(m)
    parts = render(m, groups=groups, bases=bases)
    config = page_config("viewer", lang, parts,
                         monitoring=f"{monitoring}?format=geojson")
    return render_page(request, "viewer.html", "viewer", lang, parts, config, ["viewer.js"])
