"""The siting check page (``/siting``): draw or upload a footprint, choose the activity and
flags, run the check, see the verdict, approval path, overlap pieces, areas and cited rules,
and download the report."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gis.rules import available_profiles, load_profile
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


def profile_choices(lang: Lang) -> list[dict[str, Any]]:
    """The rule profiles to choose from: id (the option's value), title and the titles of the
    documents its rules cite (a citation names its document by key), in ``lang``."""
    choices = []
    for profile_id in available_profiles():
        profile = load_profile(profile_id)
        documents = {key: d.title_en if lang == "en" else d.title_zh
                     for key, d in profile.documents.items()}
        choices.append({"id": profile_id, "documents": documents,
                        "title": profile.title_en if lang == "en" else profile.title_zh})
    return choices


async def siting_page(request: Request, lang: Lang) -> HTMLResponse:
    m, bases = new_map(request.app.state.settings, lang, await data_extent(request))
    groups = add_layer_groups(m, CONTEXT, lang, collapsed=True)
    add_base_control(m)
    drawn = add_draw(m)
    Legend(legend_html(CONTEXT, lang)).add_to(m)
    parts = render(m, groups=groups, bases=bases, extra={"drawn": drawn})
    profiles = profile_choices(lang)
    config = page_config("siting", lang, parts, profiles=profiles)
    return render_page(request, "siting.html", "siting", lang, parts, config,
                       ["siting_batch.js", "siting.js"], profiles=profiles)
