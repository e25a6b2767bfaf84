"""The history of siting checks (``/history``, 审查记录): search past checks by project,
text, verdict and date; reopen one (its footprint and overlap pieces on the map, its
reports); run it again against the current data and see what changed between two runs of a
project."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.common import data_extent, page_config, render_page
from portal.i18n import Lang
from portal.mapbase import add_base_control, add_layer_groups, new_map, render

#: Shown under a reopened run: the lines it was checked against.
CONTEXT = ["admin_divisions", "eco_redline", "basic_farmland", "cultivated_land",
           "urban_boundary"]


async def history_page(request: Request, lang: Lang) -> HTMLResponse:
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    groups = add_layer_groups(m, CONTEXT, lang, collapsed=True,
                              on={"admin_divisions", "eco_redline", "basic_farmland",
                                  "urban_boundary"})
    add_base_control(m)
    parts = render(m, groups=groups, bases=bases)
    config = page_config("history", lang, parts)
    return render_page(request, "history.html", "history", lang, parts, config,
                       ["history.js"])
