"""The village quota dashboard (``/quota``): villages coloured by compliance, the quota share
per village against its requirement, each village's ledger, and beside them the control-line
conflicts and the indicators."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal import assets
from portal.common import data_extent, districts, page_config, render_page
from portal.i18n import Lang
from portal.mapbase import add_base_control, add_layer_groups, new_map, render

CONTEXT = ["admin_divisions", "eco_redline", "basic_farmland", "urban_boundary"]


async def quota_page(request: Request, lang: Lang) -> HTMLResponse:
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    groups = add_layer_groups(m, CONTEXT, lang, collapsed=True, on={"admin_divisions"})
    add_base_control(m)
    parts = render(m, groups=groups, bases=bases)
    divisions = await districts(request)
    config = page_config("quota", lang, parts, divisions=divisions)
    return render_page(request, "quota.html", "quota", lang, parts, config,
                       ["quota_indicators.js", "quota.js"],
                       vendor=[assets.VECTORGRID_JS, assets.CHART_JS], divisions=divisions)
