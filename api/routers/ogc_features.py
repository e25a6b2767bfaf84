"""OGC API - Features (Parts 1, 2 and 3) over every catalogue layer, under ``/ogc``.

Collections are the catalogue layers the caller may read (see ``api/auth.py``); a layer the
caller may not read is answered 401/403 with no data. JSON is GeoJSON; ``f=html`` (or a
browser's Accept header) gives a plain page per response for people.
"""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import PrincipalDep, readable_layer, readable_layers
from api.deps import EngineDep
from api.errors import lang_of
from api.routers.ogc_tiles import CONFORMANCE as TILES_CONFORMANCE
from gis.errors import InvalidParameter
from gis.layers.catalogue import Layer
from gis.messages import Joined, Label, Lang, msg, text
from gis.ogc.crs import SERVED, STORAGE_CRS_URI, content_crs_header, served_crs
from gis.ogc.items import (
    MAX_LIMIT,
    ItemsQuery,
    extent,
    fetch_item,
    fetch_items,
    parse_bbox,
    parse_properties,
    parse_sortby,
    queryable_columns,
)

router = APIRouter(prefix="/ogc", tags=["OGC API"])
GEOJSON = "application/geo+json"
_CONF = "http://www.opengis.net/spec/"
CONFORMANCE = [
    f"{_CONF}ogcapi-features-1/1.0/conf/core",
    f"{_CONF}ogcapi-features-1/1.0/conf/oas30",
    f"{_CONF}ogcapi-features-1/1.0/conf/html",
    f"{_CONF}ogcapi-features-1/1.0/conf/geojson",
    f"{_CONF}ogcapi-features-2/1.0/conf/crs",
    f"{_CONF}ogcapi-features-3/1.0/conf/queryables",
    f"{_CONF}ogcapi-features-3/1.0/conf/queryables-query-parameters",
    f"{_CONF}ogcapi-features-3/1.0/conf/filter",
    f"{_CONF}ogcapi-features-3/1.0/conf/features-filter",
    f"{_CONF}cql2/1.0/conf/cql2-text",
    f"{_CONF}cql2/1.0/conf/cql2-json",
    f"{_CONF}cql2/1.0/conf/basic-cql2",
    f"{_CONF}cql2/1.0/conf/advanced-comparison-operators",
    f"{_CONF}cql2/1.0/conf/basic-spatial-functions",
    f"{_CONF}cql2/1.0/conf/spatial-functions",
    f"{_CONF}ogcapi-records-1/1.0/conf/sorting",
    *TILES_CONFORMANCE,
]
ITEMS_PARAMETERS = {"bbox", "bbox-crs", "limit", "offset", "crs", "filter", "filter-lang",
                    "filter-crs", "properties", "sortby", "f", "datetime"}
FORMAT = Annotated[str | None, Query(alias="f", pattern="^(json|geojson|html)$",
                                     description="json (default) or html")]


def _wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _json(body: Any, media_type: str = "application/json", **headers: str) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), media_type=media_type,
                    headers=headers)


def _words(key: str, lang: Lang, **params: Any) -> str:
    """A catalogue text for an HTML page, escaped."""
    return escape(text(key, lang, **params))


def _html(title: str, body: str, lang: Lang) -> HTMLResponse:
    html_lang, portal = ("zh-CN", "/") if lang == "zh" else ("en", "/?lang=en")
    nav = (f'<a href="/ogc/?f=html">OGC API</a>'
           f'<a href="/ogc/collections?f=html">{_words("ogc_html.nav_collections", lang)}</a>\n'
           f'<a href="/docs">{_words("ogc_html.nav_docs", lang)}</a>'
           f'<a href="{portal}">{_words("ogc_html.nav_portal", lang)}</a>')
    return HTMLResponse(f"""<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · {_words("ogc.landing_title", lang)}</title>
<style>body{{font-family:sans-serif;margin:1rem 2rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%;text-align:left}}
nav a{{margin-right:1em}}</style></head><body>
<nav>{nav}</nav>
<h1>{escape(title)}</h1>{body}</body></html>""")


def _collection(layer: Layer, base: str, bbox: list[float] | None,
                lang: Lang) -> dict[str, Any]:
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
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "href": f"{url}/queryables"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "href": f"{url}/tiles"},
        ],
    }
    if bbox is not None:
        info["extent"] = {"spatial": {
            "bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    return info


@router.get("/", summary="Landing page")
def landing(request: Request, f: FORMAT = None) -> Response:
    base, lang = _base(request), lang_of(request.headers)
    links = [
        {"rel": "self", "type": "application/json", "href": f"{base}/"},
        {"rel": "alternate", "type": "text/html", "href": f"{base}/?f=html"},
        {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0",
         "href": str(request.base_url) + "openapi.json"},
        {"rel": "service-doc", "type": "text/html", "href": str(request.base_url) + "docs"},
        {"rel": "conformance", "type": "application/json", "href": f"{base}/conformance"},
        {"rel": "data", "type": "application/json", "href": f"{base}/collections"},
        {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
         "type": "application/json", "href": f"{base}/tileMatrixSets"},
    ]
    body = {"title": text("ogc.landing_title", lang),
            "description": text("ogc.landing_description", lang), "links": links}
    if _wants_html(request, f):
        items = "".join(f'<li><a href="{escape(x["href"])}">{escape(x["rel"])}</a></li>'
                        for x in links)
        return _html(body["title"], f"<p>{escape(body['description'])}</p><ul>{items}</ul>",
                     lang)
    return _json(body)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, f: FORMAT = None) -> Response:
    if _wants_html(request, f):
        lang = lang_of(request.headers)
        return _html(text("ogc_html.conformance", lang), "<ul>" + "".join(
            f"<li>{escape(c)}</li>" for c in CONFORMANCE) + "</ul>", lang)
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="The layers the caller may read")
def collections(request: Request, engine: EngineDep, who: PrincipalDep,
                f: FORMAT = None) -> Response:
    base, lang = _base(request), lang_of(request.headers)
    settings = request.app.state.settings
    items = [_collection(layer, base, extent(engine, layer), lang)
             for layer in readable_layers(who, settings)]
    if _wants_html(request, f):
        rows = "".join(
            f'<tr><td><a href="{base}/collections/{c["id"]}/items?f=html">{escape(c["id"])}'
            f'</a></td><td>{escape(c["title"])}</td></tr>' for c in items)
        head = (f'<tr><th>{_words("ogc_html.column_id", lang)}</th>'
                f'<th>{_words("ogc_html.column_title", lang)}</th></tr>')
        return _html(text("ogc_html.collections", lang), f"<table>{head}{rows}</table>", lang)
    return _json({"links": [{"rel": "self", "type": "application/json",
                             "href": f"{base}/collections"}], "collections": items})


@router.get("/collections/{collection_id}", summary="One layer")
def collection(collection_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
               f: FORMAT = None) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    lang = lang_of(request.headers)
    info = _collection(layer, _base(request), extent(engine, layer), lang)
    if _wants_html(request, f):
        links = "".join(f'<li><a href="{escape(x["href"])}">{escape(x["rel"])} '
                        f'({escape(x["type"])})</a></li>' for x in info["links"])
        return _html(info["title"], f"<p>{escape(info['description'])}</p><ul>{links}</ul>",
                     lang)
    return _json(info)


@router.get("/collections/{collection_id}/queryables", summary="Properties to filter on")
def queryables(collection_id: str, request: Request, who: PrincipalDep) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    lang = lang_of(request.headers)
    types = {str: "string", int: "integer", float: "number", bool: "boolean"}
    props: dict[str, Any] = {
        "geometry": {"$ref": "https://geojson.org/schema/MultiPolygon.json"}}
    titles = _field_titles(layer, lang, "id", "area_m2")
    for name, column in queryable_columns(layer).items():
        python_type = column.type.python_type
        entry: dict[str, Any] = {"title": titles.get(name, name)}
        if python_type in types:
            entry["type"] = types[python_type]
        else:
            entry |= {"type": "string", "format": "date"}
        props[name] = entry
    url = f"{_base(request)}/collections/{layer.id}/queryables"
    return _json({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url,
                  "type": "object", "title": _layer_title(layer, lang), "properties": props,
                  "additionalProperties": False}, "application/schema+json")


@router.get("/collections/{collection_id}/items", summary="Features, filtered and paged",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def items(
    collection_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, description=f"at most {MAX_LIMIT:,}")] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="Output CRS URI; default CRS84")] = None,
    filter: Annotated[str | None, Query(description="CQL2 text or JSON")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    properties: Annotated[str | None, Query(description="Comma-separated names")] = None,
    sortby: Annotated[str | None, Query(description="e.g. -area_m2,+id")] = None,
    f: FORMAT = None,
) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    columns = queryable_columns(layer)
    equals: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in ITEMS_PARAMETERS:
            continue
        if name not in columns:
            raise InvalidParameter(msg("ogc.unknown_parameter", name=name,
                                       names=Joined.of(columns)), parameter=name)
        equals[name] = value
    out_crs = served_crs(crs, "crs")
    query = ItemsQuery(
        layer=layer, limit=min(limit, MAX_LIMIT), offset=offset, bbox=parse_bbox(bbox),
        bbox_crs=served_crs(bbox_crs, "bbox-crs"), crs=out_crs, filter=filter,
        filter_lang=filter_lang, filter_crs=served_crs(filter_crs, "filter-crs"),
        properties=parse_properties(properties, layer), sortby=parse_sortby(sortby, layer),
        equals=equals)
    page = fetch_items(engine, query,
                       request.app.state.settings.api.ogc_exact_count_limit)
    returned = len(page.features)
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)},
             {"rel": "alternate", "type": "text/html",
              "href": str(request.url.include_query_params(f="html"))},
             {"rel": "collection", "type": "application/json",
              "href": f"{_base(request)}/collections/{layer.id}"}]
    if returned == query.limit and (not page.matched_exact
                                    or offset + returned < page.number_matched):
        links.append({"rel": "next", "type": GEOJSON, "href": str(
            request.url.include_query_params(offset=offset + returned, limit=query.limit))})
    if offset > 0:
        links.append({"rel": "prev", "type": GEOJSON, "href": str(
            request.url.include_query_params(offset=max(0, offset - query.limit),
                                             limit=query.limit))})
    if _wants_html(request, f):
        return _items_html(layer, page.features, page.number_matched, links,
                           lang_of(request.headers))
    body = page.feature_collection({
        "numberMatched": page.number_matched, "numberReturned": returned,
        "numberMatchedExact": page.matched_exact, "links": links})
    return Response(body, media_type=GEOJSON,
                    headers={"Content-Crs": content_crs_header(out_crs)})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(collection_id: str, feature_id: str, request: Request, engine: EngineDep,
         who: PrincipalDep, crs: Annotated[str | None, Query()] = None,
         f: FORMAT = None) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    out_crs = served_crs(crs, "crs")
    feature = fetch_item(engine, layer, feature_id, out_crs)
    if _wants_html(request, f):
        return _items_html(layer, [feature], 1, [], lang_of(request.headers))
    base = f"{_base(request)}/collections/{layer.id}"
    body = json.loads(feature)
    body["links"] = [{"rel": "self", "type": GEOJSON, "href": f"{base}/items/{feature_id}"},
                     {"rel": "collection", "type": "application/json", "href": base}]
    return Response(json.dumps(body, ensure_ascii=False), media_type=GEOJSON,
                    headers={"Content-Crs": content_crs_header(out_crs)})


def _layer_title(layer: Layer, lang: Lang) -> str:
    return layer.zh if lang == "zh" else layer.en


def _field_titles(layer: Layer, lang: Lang, *derived: str) -> dict[str, str]:
    """Titles of the catalogue fields and of the ``derived`` properties (id, areas)."""
    return {f.name: f.zh if lang == "zh" else f.en for f in layer.fields} | {
        name: text(f"ogc.field_{name}", lang) for name in derived}


def _items_html(layer: Layer, features: list[str], matched: int,
                links: list[dict[str, str]], lang: Lang) -> HTMLResponse:
    parsed = [json.loads(feature) for feature in features]
    names = list(parsed[0]["properties"]) if parsed else []
    titles = _field_titles(layer, lang, "id", "area_m2", "area_mu", "area_ha")
    head = "".join(f"<th>{escape(titles.get(n, n))}<br><small>{escape(n)}</small></th>"
                   for n in ["id", *names])

    def cell(value: Any) -> str:
        return f"<td>{escape('' if value is None else str(value))}</td>"

    rows = "".join(
        f'<tr><td><a href="/ogc/collections/{layer.id}/items/{feat["id"]}?f=html">'
        f'{feat["id"]}</a></td>'
        + "".join(cell(feat["properties"].get(n)) for n in names) + "</tr>" for feat in parsed)
    nav = " ".join(f'<a href="{escape(x["href"])}">{_words("ogc_html." + x["rel"], lang)}</a>'
                   for x in links if x["rel"] in ("prev", "next"))
    return _html(_layer_title(layer, lang),
                 f"<p>{_words('ogc_html.matched', lang, count=matched)} · "
                 f"<a href='?f=json'>GeoJSON</a> {nav}</p>"
                 f"<table><tr>{head}</tr>{rows}</table>", lang)
