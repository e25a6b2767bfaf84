"""The reconciliation work list (``/reconciliation``): findings on the map and in a filterable,
paged table; click to zoom; record a decision with its reason; export xlsx."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.analysis.forest_grass import DECISIONS, STATUSES, Kind
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
                       ["reconciliation.js"], kinds=KINDS, statuses=STATUSES,
                       decisions=DECISIONS, divisions=divisions)
