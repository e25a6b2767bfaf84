"""The items resources of OGC API - Features: ``/collections/{id}/items`` (bbox, datetime,
paging, sortby, properties, property filters, CQL2, CRS) and one feature, in GeoJSON or as
HTML pages. Included into ``ogc_features.router`` (prefix ``/ogc``).

Items responses carry a ``Link`` header to the collection's queryables (OGC API - Features
Part 3 finds the queryables of a filterable resource that way, with HEAD), and every
feature's links include the collection and an HTML alternate.
"""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import PrincipalDep, readable_layer
from api.deps import EngineDep
from api.errors import lang_of
from api.routers.ogc_common import FORMAT, GEOJSON, html_page, link_header, wants_html, words
from gis.errors import InvalidParameter
from gis.layers.catalogue import Layer
from gis.layers.versions import check_version
from gis.messages import Joined, Lang, msg, text
from gis.ogc.crs import content_crs_header, served_crs
from gis.ogc.items import (
    MAX_LIMIT,
    ItemsQuery,
    fetch_item,
    fetch_items,
    parse_bbox,
    parse_properties,
    parse_sortby,
    queryable_columns,
)
from gis.ogc.temporal import parse_datetime

router = APIRouter()
ITEMS_PARAMETERS = {"bbox", "bbox-crs", "limit", "offset", "crs", "filter", "filter-lang",
                    "filter-crs", "properties", "sortby", "f", "datetime", "version"}
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def _collection_url(request: Request, layer: Layer) -> str:
    return str(request.base_url).rstrip("/") + f"/ogc/collections/{layer.id}"


def _queryables_link(request: Request, layer: Layer) -> str:
    return link_header([{"rel": REL_QUERYABLES, "type": "application/schema+json",
                         "href": f"{_collection_url(request, layer)}/queryables"}])


@router.get("/collections/{collection_id}/items", summary="Features, filtered and paged",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def items(
    collection_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
    limit: Annotated[int, Query(ge=1, description=f"at most {MAX_LIMIT:,} (more is read as "
                                                   f"{MAX_LIMIT:,})")] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="Output CRS URI; default CRS84")] = None,
    datetime: Annotated[str | None, Query(description="Instant or interval (RFC 3339)")
                        ] = None,
    filter: Annotated[str | None, Query(description="CQL2 text or JSON")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    properties: Annotated[str | None, Query(description="Comma-separated names")] = None,
    sortby: Annotated[str | None, Query(description="e.g. -area_m2,+id")] = None,
    version: Annotated[int | None, Query(ge=1, description=(
        "A control line's version (default: the one in force on datetime's last day, or "
        "today)"))] = None,
    f: FORMAT = None,
) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    check_version(engine, layer, version)
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
        bbox_crs=served_crs(bbox_crs, "bbox-crs"), crs=out_crs,
        datetime=parse_datetime(datetime), filter=filter, filter_lang=filter_lang,
        filter_crs=served_crs(filter_crs, "filter-crs"),
        properties=parse_properties(properties, layer), sortby=parse_sortby(sortby, layer),
        equals=equals, version=version)
    page = fetch_items(engine, query, request.app.state.settings.api.ogc_exact_count_limit)
    returned = len(page.features)
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)},
             {"rel": "alternate", "type": "text/html",
              "href": str(request.url.include_query_params(f="html"))},
             {"rel": "collection", "type": "application/json",
              "href": _collection_url(request, layer)}]
    if returned == query.limit and (not page.matched_exact
                                    or offset + returned < page.number_matched):
        links.append({"rel": "next", "type": GEOJSON, "href": str(
            request.url.include_query_params(offset=offset + returned, limit=query.limit))})
    if offset > 0:
        links.append({"rel": "prev", "type": GEOJSON, "href": str(
            request.url.include_query_params(offset=max(0, offset - query.limit),
                                             limit=query.limit))})
    headers = {"Link": _queryables_link(request, layer)}
    if wants_html(request, f):
        page_html = _items_html(layer, page.features, page.number_matched, links,
                                lang_of(request.headers),
                                str(request.url.include_query_params(f="json")))
        page_html.headers.update(headers)
        return page_html
    body = page.feature_collection({
        "timeStamp": _now(), "numberMatched": page.number_matched,
        "numberReturned": returned, "numberMatchedExact": page.matched_exact,
        "links": links})
    return Response(body, media_type=GEOJSON,
                    headers={"Content-Crs": content_crs_header(out_crs), **headers})


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(collection_id: str, feature_id: str, request: Request, engine: EngineDep,
         who: PrincipalDep, crs: Annotated[str | None, Query()] = None,
         f: FORMAT = None) -> Response:
    layer = readable_layer(collection_id, who, request.app.state.settings)
    out_crs = served_crs(crs, "crs")
    feature = fetch_item(engine, layer, feature_id, out_crs)
    base = _collection_url(request, layer)
    if wants_html(request, f):
        return _items_html(layer, [feature], 1, [], lang_of(request.headers),
                           str(request.url.include_query_params(f="json")))
    body = json.loads(feature)
    body["links"] = [
        {"rel": "self", "type": GEOJSON, "href": str(request.url)},
        {"rel": "alternate", "type": "text/html",
         "href": str(request.url.include_query_params(f="html"))},
        {"rel": "collection", "type": "application/json", "href": base}]
    return Response(json.dumps(body, ensure_ascii=False), media_type=GEOJSON,
                    headers={"Content-Crs": content_crs_header(out_crs)})


def layer_title(layer: Layer, lang: Lang) -> str:
    return layer.zh if lang == "zh" else layer.en


def field_titles(layer: Layer, lang: Lang, *derived: str) -> dict[str, str]:
    """Titles of the catalogue fields and of the ``derived`` properties (id, areas)."""
    return {f.name: f.zh if lang == "zh" else f.en for f in layer.fields} | {
        name: text(f"ogc.field_{name}", lang) for name in derived}


def _items_html(layer: Layer, features: list[str], matched: int,
                links: list[dict[str, str]], lang: Lang, json_href: str) -> HTMLResponse:
    parsed = [json.loads(feature) for feature in features]
    names = list(parsed[0]["properties"]) if parsed else []
    titles = field_titles(layer, lang, "id", "area_m2", "area_mu", "area_ha")
    head = "".join(f"<th>{escape(titles.get(n, n))}<br><small>{escape(n)}</small></th>"
                   for n in ["id", *names])

    def cell(value: Any) -> str:
        return f"<td>{escape('' if value is None else str(value))}</td>"

    rows = "".join(
        f'<tr><td><a href="/ogc/collections/{layer.id}/items/{feat["id"]}?f=html">'
        f'{feat["id"]}</a></td>'
        + "".join(cell(feat["properties"].get(n)) for n in names) + "</tr>" for feat in parsed)
    nav = " ".join(f'<a href="{escape(x["href"])}">{words("ogc_html." + x["rel"], lang)}</a>'
                   for x in links if x["rel"] in ("prev", "next"))
    return html_page(layer_title(layer, lang),
                     f"<p>{words('ogc_html.matched', lang, count=matched)} · "
                     f"<a href='{escape(json_href)}'>GeoJSON</a> {nav}</p>"
                     f"<table><tr>{head}</tr>{rows}</table>", lang, json_href, GEOJSON)
