"""OGC API - Features (Parts 1, 2 and 3) over every catalogue layer, under ``/ogc``: the
landing page, conformance, the OpenAPI 3.0 document, collections and queryables; the items
resources are in ``ogc_items.py`` (included here), tiles in ``ogc_tiles.py``.

Collections are the catalogue layers the caller may read (see ``api/auth.py``: a key in
``X-API-Key`` or as a Basic password); a layer the caller may not read is answered 401/403
with no data. JSON is GeoJSON; ``f=html`` (or a browser's Accept header) gives a plain page
per response for people, linking back to the JSON. Every GET resource answers HEAD too.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import PrincipalDep, readable_layer, readable_layers
from api.deps import EngineDep
from api.errors import lang_of
from api.routers import ogc_items
from api.routers.ogc_common import (
    FORMAT,
    GEOJSON,
    add_head_routes,
    base_url,
    html_page,
    json_response,
    link_header,
    wants_html,
    words,
)
from gis import __version__
from gis.layers.catalogue import Layer
from gis.messages import Label, Lang, text
from gis.ogc.conformance import CONFORMANCE
from gis.ogc.cql import FILTER_LANGS
from gis.ogc.crs import CRS84_URI, SERVED, STORAGE_CRS_URI
from gis.ogc.items import MAX_LIMIT, extent, queryable_columns
from gis.ogc.openapi import openapi_document
from gis.ogc.temporal import temporal_extent
from gis.tiles import MATRIX_SETS

router = APIRouter(prefix="/ogc", tags=["OGC API"])
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
#: Kept for importers of the old name; the list lives in gis.ogc.conformance.
__all__ = ["CONFORMANCE", "router"]


def _collection(layer: Layer, base: str, bbox: list[float] | None,
                temporal: dict[str, Any] | None, lang: Lang) -> dict[str, Any]:
    url = f"{base}/collections/{layer.id}"
    info: dict[str, Any] = {
        "id": layer.id,
        "title": f"{layer.zh} {layer.en}",
        "description": text("ogc.collection_description", lang, title_zh=layer.zh,
                            title_en=layer.en, group=layer.group,
                            sensitivity=Label("role", layer.sensitivity)),
        "itemType": "feature",
        "crs": [c.uri for c in SERVED],
        "storageCrs": STORAGE_CRS_URI,
        "links": [
            {"rel": "self", "type": "application/json", "href": url},
            {"rel": "alternate", "type": "text/html", "href": f"{url}?f=html"},
            {"rel": "items", "type": GEOJSON, "href": f"{url}/items"},
            {"rel": "items", "type": "text/html", "href": f"{url}/items?f=html"},
            {"rel": REL_QUERYABLES, "type": "application/schema+json",
             "href": f"{url}/queryables"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "href": f"{url}/tiles"},
        ],
    }
    extent_info: dict[str, Any] = {}
    if bbox is not None:
        extent_info["spatial"] = {"bbox": [bbox], "crs": CRS84_URI}
    if temporal is not None:
        extent_info["temporal"] = temporal
    if extent_info:
        info["extent"] = extent_info
    return info


def _describe(layer: Layer, request: Request, engine: Any) -> dict[str, Any]:
    return _collection(layer, base_url(request), extent(engine, layer),
                       temporal_extent(engine, layer), lang_of(request.headers))


@router.get("/", summary="Landing page")
def landing(request: Request, f: FORMAT = None) -> Response:
    base, lang = base_url(request), lang_of(request.headers)
    links = [
        {"rel": "self", "type": "application/json", "href": f"{base}/"},
        {"rel": "alternate", "type": "text/html", "href": f"{base}/?f=html"},
        {"rel": "service-desc", "type": OPENAPI_30, "href": f"{base}/api"},
        {"rel": "service-doc", "type": "text/html", "href": str(request.base_url) + "docs"},
        {"rel": "conformance", "type": "application/json", "href": f"{base}/conformance"},
        {"rel": "data", "type": "application/json", "href": f"{base}/collections"},
        {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
         "type": "application/json", "href": f"{base}/tileMatrixSets"},
    ]
    body = {"title": text("ogc.landing_title", lang),
            "description": text("ogc.landing_description", lang), "links": links}
    if wants_html(request, f):
        items = "".join(f'<li><a href="{escape(x["href"])}">{escape(x["rel"])}</a></li>'
                        for x in links)
        return html_page(body["title"], f"<p>{escape(body['description'])}</p><ul>{items}</ul>",
                         lang, f"{base}/?f=json")
    return json_response(body)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, f: FORMAT = None) -> Response:
    if wants_html(request, f):
        lang = lang_of(request.headers)
        return html_page(text("ogc_html.conformance", lang), "<ul>" + "".join(
            f"<li>{escape(c)}</li>" for c in CONFORMANCE) + "</ul>", lang,
            f"{base_url(request)}/conformance?f=json")
    return json_response({"conformsTo": CONFORMANCE})


@router.get("/api", summary="OpenAPI 3.0 document of the OGC API (service-desc)")
def api_document(request: Request, who: PrincipalDep) -> Response:
    lang = lang_of(request.headers)
    doc = openapi_document(
        base_url(request), text("ogc.landing_title", lang),
        text("ogc.landing_description", lang), __version__,
        readable_layers(who, request.app.state.settings), list(MATRIX_SETS), MAX_LIMIT,
        list(FILTER_LANGS))
    return json_response(doc, OPENAPI_30)


@router.get("/collections", summary="The layers the caller may read")
def collections(request: Request, engine: EngineDep, who: PrincipalDep,
                f: FORMAT = None) -> Response:
    base, lang = base_url(request), lang_of(request.headers)
    settings = request.app.state.settings
    items = [_describe(layer, request, engine) for layer in readable_layers(who, settings)]
    if wants_html(request, f):
        rows = "".join(
            f'<tr><td><a href="{base}/collections/{c["id"]}/items?f=html">{escape(c["id"])}'
            f'</a></td><td>{escape(c["title"])}</td></tr>' for c in items)
        head = (f'<tr><th>{words("ogc_html.column_id", lang)}</th>'
                f'<th>{words("ogc_html.column_title", lang)}</th></tr>')
        return html_page(text("ogc_html.collections", lang), f"<table>{head}{rows}</table>",
                         lang, f"{base}/collections?f=json")
    url = f"{base}/collections"
    return json_response({"links": [
        {"rel": "self", "type": "application/json", "href": url},
        {"rel": "alternate", "type": "text/html", "href": f"{url}?f=html"}],
        "collections": items})


@router.get("/collections/{collection_id}", summary="One layer")
def collection(collection_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
               f: FORMAT = None) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    info = _describe(layer, request, engine)
    queryables_link = link_header([info["links"][4]])
    if wants_html(request, f):
        links = "".join(f'<li><a href="{escape(x["href"])}">{escape(x["rel"])} '
                        f'({escape(x["type"])})</a></li>' for x in info["links"])
        page = html_page(info["title"], f"<p>{escape(info['description'])}</p><ul>{links}</ul>",
                         lang_of(request.headers), info["links"][0]["href"] + "?f=json")
        page.headers["Link"] = queryables_link
        return page
    return json_response(info, Link=queryables_link)


@router.get("/collections/{collection_id}/queryables", summary="Properties to filter on")
def queryables(collection_id: str, request: Request, who: PrincipalDep) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    lang = lang_of(request.headers)
    types = {str: "string", int: "integer", float: "number", bool: "boolean"}
    props: dict[str, Any] = {"geometry": {
        "title": text("ogc.field_geometry", lang), "format": "geometry-multipolygon",
        "x-ogc-role": "primary-geometry"}}
    titles = ogc_items.field_titles(layer, lang, "id", "area_m2")
    for name, column in queryable_columns(layer).items():
        python_type = column.type.python_type
        entry: dict[str, Any] = {"title": titles.get(name, name)}
        if python_type in types:
            entry["type"] = types[python_type]
        else:
            entry |= {"type": "string", "format": "date"}
        if name == layer.temporal:
            entry["x-ogc-role"] = "primary-instant"
        props[name] = entry
    url = f"{base_url(request)}/collections/{layer.id}/queryables"
    return json_response({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url,
                          "type": "object", "title": ogc_items.layer_title(layer, lang),
                          "properties": props, "additionalProperties": False},
                         "application/schema+json")


add_head_routes(ogc_items.router)
router.include_router(ogc_items.router)
add_head_routes(router)
