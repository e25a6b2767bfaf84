"""What every portal page shares: the Jinja environment, the navigation, the data extent and
the page configuration handed to the browser scripts."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from gis.settings import Settings
from portal import assets
from portal.i18n import Lang, strings
from portal.mapbase import NINGXIA_BOUNDS, MapParts, config_json
from portal.styles import layer_styles

_env = Environment(loader=PackageLoader("portal", "templates"),
                   autoescape=select_autoescape(["html"]))

NAV = (("viewer", "/"), ("siting", "/siting"), ("reconciliation", "/reconciliation"),
       ("quota", "/quota"))


def _extent(engine: Engine) -> tuple[float, float, float, float] | None:
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM admin_divisions) s")).first()
    except SQLAlchemyError:
        return None
    if row is None or row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _districts(engine: Engine) -> list[dict[str, str]]:
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT code, name FROM admin_divisions WHERE level = 'district' "
                "ORDER BY code")).all()
    except SQLAlchemyError:
        return []
    return [{"code": r.code, "name": r.name} for r in rows]


async def data_extent(request: Request) -> tuple[float, float, float, float]:
    """Where maps open: the divisions loaded, or Ningxia when there are none."""
    found = await run_in_threadpool(_extent, request.app.state.engine)
    return found or NINGXIA_BOUNDS


async def districts(request: Request) -> list[dict[str, str]]:
    """County-level divisions in the database, for the division pickers."""
    return await run_in_threadpool(_districts, request.app.state.engine)


def page_config(page: str, lang: Lang, parts: MapParts, **extra: Any) -> dict[str, Any]:
    return {"page": page, "lang": lang, "t": strings(lang), "map": parts.name,
            "groups": parts.groups, "bases": parts.bases, "extra": parts.extra,
            "layers": layer_styles(lang), **extra}


def render_page(request: Request, template: str, page: str, lang: Lang, parts: MapParts,
                config: dict[str, Any], scripts: list[str], vendor: list[str] | None = None,
                **context: Any) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    t = strings(lang)
    other = "en" if lang == "zh" else "zh"
    query = "?lang=en" if lang == "en" else ""
    nav = [{"id": pid, "href": f"{href}{query}", "label": t[f"nav_{pid}"],
            "active": pid == page} for pid, href in NAV]
    body = _env.get_template(template).render(
        t=t, lang=lang, page=page, nav=nav, map=parts,
        lang_href=f"{request.url.path}?lang={other}",
        config_json=config_json(config), missing=assets.vendor_missing(),
        scripts=[assets.static_url(s) for s in scripts], basemap=settings.basemap,
        vendor=vendor if vendor is not None else [assets.VECTORGRID_JS],
        static=assets.static_url, **context)
    return HTMLResponse(body)
