"""The siting check page (``/siting``): draw or upload a footprint, choose the activity and
flags, run the check, see the verdict, approval path, overlap pieces, areas and cited rules,
and download the report."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.rules import available_profiles
from portal.common import data_extent, page_config, render_page
from portal.i18n import Lang
from portal.mapbase import (
    Legend,
    add_base_control,
    add_draw,
    add_layer_groups,
    legend_html,
    new_map,
    render,
)

#: Context shown under the drawing: what the check tests against.
CONTEXT = ["admin_divisions", "eco_redline", "basic_farmland", "cultivated_land",
           "urban_boundary"]


async def siting_page(request: Request, lang: Lang) -> HTMLResponse:
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    groups = add_layer_groups(m, CONTEXT, lang, collapsed=True)
    add_base_control(m)
    drawn = add_draw(m)
    Legend(legend_html(CONTEXT, lang)).add_to(m)
    parts = render(m, groups=groups, bases=bases, extra={"drawn": drawn})
    config = page_config("siting", lang, parts, profiles=available_profiles())
    return render_page(request, "siting.html", "siting", lang, parts, config, ["siting.js"],
                       profiles=available_profiles())
