"""The reconciliation work list (``/reconciliation``): findings on the map and in a filterable,
paged table; click to zoom; the decision panel (decide, correct, send to field check, reopen,
history; conflicts name who changed the finding); detection as a background job with its
progress; the summary by township and village (table and Chart.js chart); apply; export xlsx
with the table's filters."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.analysis.forest_grass import DECISIONS, STATUSES, Kind
from portal import assets
from portal.common import data_extent, districts, page_config, render_page
from portal.i18n import Lang
from portal.mapbase import add_base_control, add_layer_groups, new_map, render

#: What a finding is about; the forest and grassland parcels are on (drawn from zoom 12).
CONTEXT = ["admin_divisions", "forest_parcels", "grassland_parcels", "survey_patches",
           "forest_farm_areas"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]


async def reconciliation_page(request: Request, lang: Lang) -> HTMLResponse:
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    groups = add_layer_groups(m, CONTEXT, lang, collapsed=True,
                              on={"admin_divisions", "forest_parcels", "grassland_parcels"})
    add_base_control(m)
    parts = render(m, groups=groups, bases=bases)
    divisions = await districts(request)
    config = page_config("reconciliation", lang, parts, kinds=list(KINDS),
                         statuses=list(STATUSES), decisions=list(DECISIONS),
                         divisions=divisions)
    return render_page(request, "reconciliation.html", "reconciliation", lang, parts, config,
                       ["reconciliation.js"], vendor=[assets.VECTORGRID_JS, assets.CHART_JS],
                       kinds=KINDS, statuses=STATUSES, decisions=DECISIONS,
                       divisions=divisions)
