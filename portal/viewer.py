"""The one-map viewer (``/``): every catalogue layer, grouped, styled by class, with legends,
identify popups, search, scale bar, CGCS2000 mouse coordinates and a base-map switch."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.layers.catalogue import get_layer
from gis.messages import labels
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

#: The monitoring patch attributes a popup shows: field, the portal word titling it (None: the
#: title is taken elsewhere) and, for a coded field, the labels.yaml group of its values.
MONITORING_FIELDS: tuple[tuple[str, str | None, str | None], ...] = (
    ("kind", "monitoring_kind", "patch_kind"),
    ("layer", "monitoring_layer", "monitored_layer"),
    ("zone", None, None),  # the red line's zone field and classes (layer catalogue)
    ("feature_key", "monitoring_feature", None),
    ("status", "monitoring_status", "patch_status"),
    ("decision", "monitoring_decision", "patch_decision"),
    ("township", "township", None),
    ("village", "village", None),
    ("date_a", "monitoring_date_a", None),
    ("date_b", "monitoring_date_b", None),
    # a legacy activity's exit plan (003:235): its deadline, and whether it has passed
    ("exit_deadline", "monitoring_exit_deadline", None),
    ("exit_overdue", "monitoring_exit_overdue", "boolean"),
)


def monitoring_popup(lang: Lang) -> dict[str, Any]:
    """The identify popup of a monitoring patch, shaped like a layer's (``featureHtml``):
    field titles, and labels for coded values (kinds, statuses, decisions from labels.yaml,
    the red line's zones from the layer catalogue), so no code is shown raw."""
    t = strings(lang)
    redline = get_layer("eco_redline")
    zone = redline.field("zone")
    fields = [{"name": name, "type": "text",
               "title": t[key] if key else (zone.en if lang == "en" else zone.zh)}
              for name, key, _ in MONITORING_FIELDS]
    coded = {name: labels(group, lang) for name, _, group in MONITORING_FIELDS if group}
    coded["zone"] = {c.value: c.en if lang == "en" else c.zh for c in redline.style.classes}
    return {"title": t["monitoring_patches"], "fields": fields, "coded": coded}


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
                         monitoring=f"{monitoring}?format=geojson",
                         popups={"monitoring_patches": monitoring_popup(lang)})
    return render_page(request, "viewer.html", "viewer", lang, parts, config, ["viewer.js"])
