"""What every portal page shares: the Jinja environment, the navigation, the data extent and
the page configuration handed to the browser scripts."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gis.layers.divisions import districts as district_list
from gis.layers.divisions import divisions_extent
from gis.settings import Settings
from portal import assets
from portal.i18n import Lang, other_lang, page_labels, strings
from portal.mapbase import NINGXIA_BOUNDS, MapParts, config_json
from portal.styles import layer_styles

_env = Environment(loader=PackageLoader("portal", "templates"),
                   autoescape=select_autoescape(["html"]))

NAV = (("viewer", "/"), ("siting", "/siting"), ("history", "/history"),
       ("reconciliation", "/reconciliation"), ("quota", "/quota"))


async def data_extent(request: Request) -> tuple[float, float, float, float]:
    """Where maps open: the divisions loaded, or Ningxia when there are none."""
    found = await run_in_threadpool(divisions_extent, request.app.state.engine)
    return found or NINGXIA_BOUNDS


async def districts(request: Request) -> list[dict[str, str]]:
    """County-level divisions in the database, for the division pickers."""
    found = await run_in_threadpool(district_list, request.app.state.engine)
    return [d.model_dump() for d in found]


def page_config(page: str, lang: Lang, parts: MapParts, **extra: Any) -> dict[str, Any]:
    """What the page's scripts receive: the words (``t``), the enum labels of labels.yaml
    (``labels``), the map's JavaScript names and the catalogue's layer styles."""
    return {"page": page, "lang": lang, "t": strings(lang), "labels": page_labels(lang),
            "map": parts.name, "groups": parts.groups, "bases": parts.bases,
            "extra": parts.extra, "layers": layer_styles(lang), **extra}


#: An opening ``<script`` tag without a nonce yet.
_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\snonce=)")


def with_nonce(html: str, nonce: str) -> str:
    """``html`` (Folium's output: our code and the catalogue's words, no request data) with
    the page's CSP nonce on every ``<script`` tag, so its inline scripts run under the
    Content-Security-Policy (api/security.py) and nothing injected would."""
    return _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', html) if nonce else html


def render_page(request: Request, template: str, page: str, lang: Lang, parts: MapParts,
                config: dict[str, Any], scripts: list[str], vendor: list[str] | None = None,
                **context: Any) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    t = strings(lang)
    other = other_lang(lang)
    query = "?lang=en" if lang == "en" else ""
    nav = [{"id": pid, "href": f"{href}{query}", "label": t[f"nav_{pid}"],
            "active": pid == page} for pid, href in NAV]
    # The response's CSP nonce (api.security.Security keeps it in the request state).
    nonce = getattr(request.state, "csp_nonce", "")
    parts = dataclasses.replace(parts, header=with_nonce(parts.header, nonce),
                                html=with_nonce(parts.html, nonce))
    body = _env.get_template(template).render(
        t=t, labels=page_labels(lang), lang=lang, page=page, nav=nav, map=parts,
        lang_href=f"{request.url.path}?lang={other}",
        lang_switch=strings(other)["language_name"],
        config_json=config_json(config), missing=assets.vendor_missing(),
        scripts=[assets.static_url(s) for s in scripts], basemap=settings.portal.basemap,
        vendor=vendor if vendor is not None else [assets.VECTORGRID_JS],
        static=assets.static_url, nonce=nonce, **context)
    return HTMLResponse(body)
