"""What the OGC API routers (``ogc_features.py``, ``ogc_tiles.py``) share: URLs, JSON and
HTML answers, the ``f`` parameter, and HEAD on every GET resource.

HEAD: FastAPI routes answer only the methods they declare, so every OGC GET resource
answered 405 to HEAD, which clients and the OGC test suites use to read headers (``Link``,
``Content-Type``) without the body. :func:`add_head_routes` gives each GET route a HEAD twin
with the same handler and dependencies (access control included), kept out of the OpenAPI
documents; the server sends the headers and drops the body.
"""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from gis.messages import Lang, text

GEOJSON = "application/geo+json"
FORMAT = Annotated[str | None, Query(alias="f", pattern="^(json|geojson|html)$",
                                     description="json (default) or html")]


def wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def json_response(body: Any, media_type: str = "application/json", **headers: str) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), media_type=media_type,
                    headers=headers)


def words(key: str, lang: Lang, **params: Any) -> str:
    """A catalogue text for an HTML page, escaped."""
    return escape(text(key, lang, **params))


def html_page(title: str, body: str, lang: Lang, json_href: str | None = None,
              json_type: str = "application/json") -> HTMLResponse:
    """A page for people, linking back to the JSON it shows (``<link rel="alternate">`` in
    the head and a visible link)."""
    html_lang, portal = ("zh-CN", "/") if lang == "zh" else ("en", "/?lang=en")
    nav = (f'<a href="/ogc/?f=html">OGC API</a>'
           f'<a href="/ogc/collections?f=html">{words("ogc_html.nav_collections", lang)}</a>\n'
           f'<a href="/docs">{words("ogc_html.nav_docs", lang)}</a>'
           f'<a href="{portal}">{words("ogc_html.nav_portal", lang)}</a>')
    alternate = ""
    if json_href:
        nav += f'<a href="{escape(json_href)}">JSON</a>'
        alternate = (f'<link rel="alternate" type="{escape(json_type)}" '
                     f'href="{escape(json_href)}">\n')
    return HTMLResponse(f"""<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{alternate}<title>{escape(title)} · {words("ogc.landing_title", lang)}</title>
<style>body{{font-family:sans-serif;margin:1rem 2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%;text-align:left}}
nav a{{margin-right:1em}}</style></head><body>
<nav>{nav}</nav>
<h1>{escape(title)}</h1>{body}</body></html>""")


def link_header(links: list[dict[str, str]]) -> str:
    """RFC 8288 ``Link`` header of the links (rel, type, href)."""
    return ", ".join(f'<{x["href"]}>; rel="{x["rel"]}"; type="{x["type"]}"' for x in links)


def add_head_routes(router: APIRouter) -> None:
    """A HEAD twin for every GET route of ``router`` (same handler and dependencies)."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and "GET" in route.methods \
                and "HEAD" not in route.methods:
            router.add_api_route(route.path.removeprefix(router.prefix), route.endpoint,
                                 methods=["HEAD"],
                                 include_in_schema=False, name=f"{route.name}_head",
                                 response_class=route.response_class)
