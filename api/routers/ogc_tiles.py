"""OGC API - Tiles: Mapbox Vector Tiles of every catalogue layer on WebMercatorQuad and on
CGCS2000Quad (EPSG:4490, the grid of Tianditu's ``_c`` base maps; ``gis/tiles/matrices.py``).

Under ``/ogc`` next to OGC API - Features (``ogc_features.py``); collection ids are catalogue
layer ids. Tile coordinates follow the OGC template ``{tileMatrix}/{tileRow}/{tileCol}``,
i.e. z/y/x. The WebMercatorQuad tileset document doubles as TileJSON (``tiles``,
``minzoom``, ``maxzoom``, ``bounds``, ``vector_layers``), so MapLibre can take its URL as a
vector source ``url``; ``.../tilejson.json`` is the plain TileJSON for clients that want
nothing else (TileJSON is Web Mercator only: none for CGCS2000Quad).

HTTP decisions (documented in ``docs/architecture.md``):

- ``ETag`` is a hash of the tile bytes: always right, whatever changed the table; a
  conditional request still renders the tile but answers ``304`` without a body.
- ``Cache-Control: max-age=60``, ``public`` for public layers and ``private`` for the others,
  so a shared cache never hands a planner-only tile to someone else.
- An empty tile is ``204 No Content`` (allowed by ``/req/core/tc-error``; MapLibre treats it
  as an empty tile, and it saves clients decoding an empty protobuf).
- Tiles outside the tileset (zoom outside the layer's range, row/column outside the matrix
  or outside the ``tileMatrixSetLimits`` of the layer's extent) are 404 problem details;
  non-integer coordinates are refused like every malformed request here (``api/errors.py``:
  400 problem details). Every GET resource answers HEAD too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool

from api.auth import PrincipalDep, readable_layer
from api.errors import lang_of
from api.routers.ogc_common import add_head_routes
from gis.auth import layer_sensitivity
from gis.errors import NotFound
from gis.layers.catalogue import Layer
from gis.layers.versions import check_version
from gis.messages import msg, text
from gis.ogc.conformance import TILES
from gis.ogc.temporal import parse_datetime
from gis.tiles import (
    CRS84,
    MATRIX_SETS,
    MVT_MEDIA_TYPE,
    TILE_MAX_AGE,
    TMS_ID,
    MatrixSet,
    cached_layer_bounds,
    check_limits,
    check_tile,
    claim_bounds_refresh,
    layer_bounds,
    matrix_set,
    properties_schema,
    refresh_layer_bounds,
    render_tile_async,
    render_with_retry,
    tile_matrix_set,
    tile_policy,
    tile_pool,
    tilejson,
    tileset_limits,
    zoom_range,
)


async def _tile_pool(app: FastAPI) -> AsyncConnectionPool:
    """The app's tile connection pool, opened on the first tile request (an app that never
    serves a tile, like most test apps, opens no connection for it)."""
    pool = getattr(app.state, "tile_pool", None)
    if pool is not None:
        return pool
    lock = getattr(app.state, "tile_pool_lock", None)
    if lock is None:  # no await since the check: no other task can get in between
        lock = app.state.tile_pool_lock = asyncio.Lock()
    async with lock:
        pool = getattr(app.state, "tile_pool", None)
        if pool is None:
            pool = tile_pool(app.state.settings)
            await pool.open(wait=True, timeout=30)
            app.state.tile_pool = pool
    return pool


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Merged into the app's lifespan by ``include_router``: closes the tile pool."""
    try:
        yield
    finally:
        pool = getattr(app.state, "tile_pool", None)
        if pool is not None:
            app.state.tile_pool = None
            await pool.close()


router = APIRouter(prefix="/ogc", tags=["ogc-tiles"], lifespan=_lifespan)

#: OGC API - Tiles and TMS conformance classes these endpoints implement (gis.ogc.conformance).
CONFORMANCE = TILES
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILE_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


async def _layer_or_404(collection_id: str, request: Request, who: PrincipalDep) -> Layer:
    """The catalogue layer of a collection the caller may read: 404 for an unknown id,
    401/403 for a layer the caller's role may not read (``api.auth.readable_layer``).

    Every handler gets its layer through this one dependency. The id is only ever compared
    with catalogue ids: nothing the caller typed reaches SQL. ``async`` because it does no
    I/O: a sync dependency would cost every tile a hop through the thread pool.
    """
    return readable_layer(collection_id, who, request.app.state.settings)


LayerDep = Annotated[Layer, Depends(_layer_or_404)]


def _tms_or_404(tms_id: str) -> MatrixSet:
    return matrix_set(tms_id)  # NotFound naming the sets offered


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _tileset_url(request: Request, layer: Layer, tms_id: str = TMS_ID) -> str:
    return f"{_base(request)}/collections/{layer.id}/tiles/{tms_id}"


@router.get("/tileMatrixSets", summary="Tile matrix sets offered")
async def tile_matrix_sets(request: Request) -> dict[str, Any]:
    out = []
    for tms in MATRIX_SETS.values():
        href = f"{_base(request)}/tileMatrixSets/{tms.id}"
        entry = {"id": tms.id, "title": tile_matrix_set(tms.id)["title"], "crs": tms.crs,
                 "links": [{"rel": "self", "href": href, "type": "application/json"}]}
        if tms.uri:
            entry["uri"] = tms.uri
        out.append(entry)
    return {"tileMatrixSets": out,
            "links": [{"rel": "self", "href": f"{_base(request)}/tileMatrixSets",
                       "type": "application/json"}]}


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set definition")
async def tile_matrix_set_definition(
    tms_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> dict[str, Any]:
    return _tms_or_404(tms_id).document()


def _tileset_summary(request: Request, layer: Layer, tms: MatrixSet) -> dict[str, Any]:
    url, lang = _tileset_url(request, layer, tms.id), lang_of(request.headers)
    summary: dict[str, Any] = {
        "title": f"{layer.en} ({layer.zh})",
        "dataType": "vector",
        "crs": tms.crs,
        "links": [
            {"rel": "self", "href": url, "type": "application/json",
             "title": text("tiles.tileset_title", lang, tms=tms.id,
                           layer=layer.zh if lang == "zh" else layer.en)},
            {"rel": REL_TILING_SCHEME, "href": f"{_base(request)}/tileMatrixSets/{tms.id}",
             "type": "application/json"},
            {"rel": "item", "href": f"{url}/{TILE_TEMPLATE}", "type": MVT_MEDIA_TYPE,
             "templated": True},
        ],
    }
    if tms.uri:
        summary["tileMatrixSetURI"] = tms.uri
    return summary


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection")
async def collection_tilesets(layer: LayerDep, request: Request) -> dict[str, Any]:
    return {
        "tilesets": [_tileset_summary(request, layer, tms) for tms in MATRIX_SETS.values()],
        "links": [{"rel": "self", "href": f"{_base(request)}/collections/{layer.id}/tiles",
                   "type": "application/json"},
                  {"rel": "collection", "href": f"{_base(request)}/collections/{layer.id}",
                   "type": "application/json"}],
    }


@router.get("/collections/{collection_id}/tiles/{tileMatrixSetId}",
            summary="Tileset metadata (OGC, and TileJSON fields for MapLibre)")
async def collection_tileset(
    layer: LayerDep, request: Request,
    tms_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> dict[str, Any]:
    tms = _tms_or_404(tms_id)
    policy = tile_policy(layer)
    lo, hi = zoom_range(policy, tms.id)
    bounds = await run_in_threadpool(layer_bounds, request.app.state.engine, layer)
    url = _tileset_url(request, layer, tms.id)
    summary = _tileset_summary(request, layer, tms)
    doc: dict[str, Any] = {
        **summary,
        "tileMatrixSetLimits": tileset_limits(bounds, policy, tms.id),
        "layers": [{
            "id": layer.id, "title": layer.en, "description": layer.zh,
            "dataType": "vector", "geometryDimension": 2, "featureType": layer.id,
            "minTileMatrix": str(lo), "maxTileMatrix": str(hi),
            "propertiesSchema": properties_schema(layer),
        }],
    }
    if bounds is not None:
        doc["boundingBox"] = {"lowerLeft": list(bounds[:2]), "upperRight": list(bounds[2:]),
                              "crs": CRS84}
    if not tms.geographic:
        doc["links"] = [*summary["links"],
                        {"rel": "describedby", "href": f"{url}/tilejson.json",
                         "type": "application/json", "title": "TileJSON"}]
        tj = tilejson(layer, f"{url}/{{z}}/{{y}}/{{x}}", bounds)
        doc.update({k: tj[k] for k in ("tilejson", "tiles", "minzoom", "maxzoom", "bounds",
                                       "center", "vector_layers")})
    return doc


@router.get("/collections/{collection_id}/tiles/{tileMatrixSetId}/tilejson.json",
            summary="TileJSON 3.0 of a collection's vector tiles")
async def collection_tilejson(
    layer: LayerDep, request: Request,
    tms_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> dict[str, Any]:
    if _tms_or_404(tms_id).geographic:
        raise NotFound(msg("tiles.no_tilejson", tms=tms_id), tileMatrixSetId=tms_id)
    bounds = await run_in_threadpool(layer_bounds, request.app.state.engine, layer)
    return tilejson(layer, f"{_tileset_url(request, layer)}/{{z}}/{{y}}/{{x}}", bounds)


#: Background reads of expired layer extents (kept referenced until they finish).
_refreshes: set[asyncio.Task] = set()


async def _tile_bounds(engine: Any, layer: Layer) -> tuple[float, float, float, float] | None:
    """The extent a tile's limits are checked against. Expired, it is still used while one
    request reads it again in the background (``claim_bounds_refresh``): a tile's limits
    may lag a load by a few seconds more than the minute they are cached anyway."""
    hit = cached_layer_bounds(engine, layer)
    if hit is None:
        return await run_in_threadpool(layer_bounds, engine, layer)
    bounds, fresh = hit
    if not fresh and claim_bounds_refresh(engine, layer):
        task = asyncio.create_task(run_in_threadpool(refresh_layer_bounds, engine, layer))
        _refreshes.add(task)
        task.add_done_callback(_refreshes.discard)
    return bounds


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` with our (strong) ETag."""
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


@router.get(
    "/collections/{collection_id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A Mapbox Vector Tile", response_class=Response,
    responses={200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile"},
               204: {"description": "No feature in this tile"},
               304: {"description": "Not modified (If-None-Match)"},
               404: {"description": "Unknown collection or tile outside the tileset"}},
)
async def collection_tile(
    layer: LayerDep, request: Request,
    tms_id: Annotated[str, Path(alias="tileMatrixSetId")],
    z: Annotated[int, Path(alias="tileMatrix")],
    y: Annotated[int, Path(alias="tileRow")],
    x: Annotated[int, Path(alias="tileCol")],
    datetime: Annotated[str | None, Query(description=(
        "A control line: the version in force on this day (an interval: its last day)"))
    ] = None,
    version: Annotated[int | None, Query(ge=1, description=(
        "A control line's version (default: the one in force today)"))] = None,
) -> Response:
    tms = _tms_or_404(tms_id)
    days = parse_datetime(datetime)
    if version is not None:
        await run_in_threadpool(check_version, request.app.state.engine, layer, version)
    policy = tile_policy(layer)
    tile = check_tile(z, x, y, policy, tms.id)
    check_limits(tile, await _tile_bounds(request.app.state.engine, layer))
    pool = await _tile_pool(request.app)
    day = days.end if days is not None else None
    rendered = await render_with_retry(
        pool, lambda conn: render_tile_async(conn, layer, tile, policy, version, day))
    sensitivity = layer_sensitivity(layer, request.app.state.settings.api.layer_sensitivity)
    scope = "public" if sensitivity == "public" else "private"
    headers = {"ETag": rendered.etag, "Cache-Control": f"{scope}, max-age={TILE_MAX_AGE}"}
    if rendered.truncated:
        # The cap was reached: the client gets a partial tile and is told so.
        headers["OneMap-Tile-Truncated"] = str(policy.max_features)
    if _matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    if not rendered.data:
        return Response(status_code=204, headers=headers)
    return Response(rendered.data, media_type=MVT_MEDIA_TYPE, headers=headers)


add_head_routes(router)
