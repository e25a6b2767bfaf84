"""``/api/v1/layers/{layer_id}/selection.{xlsx|gpkg}``: the attribute table's selection as a
file (issue 23). The selection is the table's own query, the OGC items parameters ``filter``
(CQL2, text or JSON), ``filter-lang``, ``bbox`` and ``sortby``, so the file holds exactly the
table's rows (all pages); the layer must be readable with the caller's key, as for the items.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import PrincipalDep, readable_layer
from api.deps import EngineDep
from api.errors import lang_of
from gis.errors import InvalidParameter
from gis.layers.selection_export import select_all, selection_gpkg, selection_xlsx
from gis.messages import msg
from gis.ogc.items import ItemsQuery, parse_bbox, parse_sortby
from portal.styles import coded_labels

router = APIRouter(tags=["layers"])

TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "gpkg": "application/geopackage+sqlite3"}


@router.get("/layers/{layer_id}/selection.{fmt}",
            summary="The features a CQL2 filter selects, as xlsx or GeoPackage")
async def selection(
    layer_id: str, fmt: str, request: Request, engine: EngineDep, who: PrincipalDep,
    filter: Annotated[str | None, Query(description="CQL2 text or JSON")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (CRS84)")] = None,
    sortby: Annotated[str | None, Query(description="e.g. -area_m2,+id")] = None,
) -> Response:
    if fmt not in TYPES:
        raise InvalidParameter(msg("selection.bad_format", format=fmt), parameter="fmt")
    layer = readable_layer(layer_id, who, request.app.state.settings)
    query = ItemsQuery(layer=layer, filter=filter, filter_lang=filter_lang,
                       bbox=parse_bbox(bbox), sortby=parse_sortby(sortby, layer))
    features = await run_in_threadpool(select_all, engine, query)
    lang = lang_of(request.headers)
    if fmt == "xlsx":
        data = await run_in_threadpool(selection_xlsx, layer, features, lang,
                                       coded_labels(layer, lang))
    else:
        data = await run_in_threadpool(selection_gpkg, layer, features)
    return Response(data, media_type=TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{layer.id}-selection.{fmt}"'})
