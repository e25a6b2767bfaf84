"""OGC API - Tiles: Mapbox Vector Tiles of every catalogue layer on WebMercatorQuad.

Under ``/ogc`` next to OGC API - Features (``ogc_features.py``); collection ids are catalogue
layer ids. Tile coordinates follow the OGC template ``{tileMatrix}/{tileRow}/{tileCol}``,
i.e. z/y/x. The tileset document doubles as TileJSON (``tiles``, ``minzoom``, ``maxzoom``,
``bounds``, ``vector_layers``), so MapLibre can take its URL as a vector source ``url``;
``.../tilejson.json`` is the plain TileJSON for clients that want nothing else.

HTTP decisions (documented in ``docs/architecture.md``):

- ``ETag`` is a hash of the tile bytes: always right, whatever changed the table; a
  conditional request still renders the tile but answers ``304`` without a body.
- ``Cache-Control: max-age=60``, ``public`` for public layers and ``private`` for the others,
  so a shared cache never hands a planner-only tile to someone else.
- An empty tile is ``204 No Content`` (allowed by ``/req/core/tc-error``; MapLibre treats it
  as an empty tile, and it saves clients decoding an empty protobuf).
- Tiles outside the tileset (zoom below the layer's minimum, row/column out of range) are
  404 problem details; non-integer coordinates are refused like every malformed request
  here (``api/errors.py``: 400 problem details).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool

from api.auth import PrincipalDep, readable_layer
from api.errors import lang_of
from gis.auth import layer_sensitivity
from gis.errors import NotFound
from gis.layers.catalogue import Layer
from gis.messages import msg, text
from gis.tiles import (
    CRS84,
    CRS_3857,
    MVT_MEDIA_TYPE,
    TILE_MAX_AGE,
    TMS_ID,
    TMS_URI,
    check_tile,
    layer_bounds,
    properties_schema,
    render_tile_async,
    tile_matrix_set,
    tile_policy,
    tile_pool,
    tilejson,
    tileset_limits,
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

#: OGC API - Tiles conformance classes these endpoints implement (for ``/ogc/conformance``).
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]
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


def _tms_or_404(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise NotFound(msg("tiles.unknown_tms", tms=tms_id, offered=TMS_ID),
                       tileMatrixSetId=tms_id)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _tileset_url(request: Request, layer: Layer) -> str:
    return f"{_base(request)}/collections/{layer.id}/tiles/{TMS_ID}"


@router.get("/tileMatrixSets", summary="Tile matrix sets offered")
async def tile_matrix_sets(request: Request) -> dict[str, Any]:
    href = f"{_base(request)}/tileMatrixSets/{TMS_ID}"
    return {"tileMatrixSets": [{
        "id": TMS_ID, "title": tile_matrix_set()["title"], "uri": TMS_URI,
        "links": [{"rel": "self", "href": href, "type": "application/json"}],
    }]}


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set definition")
async def tile_matrix_set_definition(
    tms_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> dict[str, Any]:
    _tms_or_404(tms_id)
    return tile_matrix_set()


def _tileset_summary(request: Request, layer: Layer) -> dict[str, Any]:
    url, lang = _tileset_url(request, layer), lang_of(request.headers)
    return {
        "title": f"{layer.en} ({layer.zh})",
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            {"rel": "self", "href": url, "type": "application/json",
             "title": text("tiles.tileset_title", lang, tms=TMS_ID,
                           layer=layer.zh if lang == "zh" else layer.en)},
            {"rel": REL_TILING_SCHEME, "href": f"{_base(request)}/tileMatrixSets/{TMS_ID}",
             "type": "application/json"},
            {"rel": "item", "href": f"{url}/{TILE_TEMPLATE}", "type": MVT_MEDIA_TYPE,
             "templated": True},
        ],
    }


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection")
async def collection_tilesets(layer: LayerDep, request: Request) -> dict[str, Any]:
    return {
        "tilesets": [_tileset_summary(request, layer)],
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
    _tms_or_404(tms_id)
    policy = tile_policy(layer)
    bounds = await run_in_threadpool(layer_bounds, request.app.state.engine, layer)
    url = _tileset_url(request, layer)
    summary = _tileset_summary(request, layer)
    doc: dict[str, Any] = {
        **summary,
        "links": [*summary["links"],
                  {"rel": "describedby", "href": f"{url}/tilejson.json",
                   "type": "application/json", "title": "TileJSON"}],
        "tileMatrixSetLimits": tileset_limits(bounds, policy),
        "layers": [{
            "id": layer.id, "title": layer.en, "description": layer.zh,
            "dataType": "vector", "geometryDimension": 2, "featureType": layer.id,
            "minTileMatrix": str(policy.minzoom), "maxTileMatrix": str(policy.maxzoom),
            "propertiesSchema": properties_schema(layer),
        }],
    }
    if bounds is not None:
        doc["boundingBox"] = {"lowerLeft": list(bounds[:2]), "upperRight": list(bounds[2:]),
                              "crs": CRS84}
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
    _tms_or_404(tms_id)
    bounds = await run_in_threadpool(layer_bounds, request.app.state.engine, layer)
    return tilejson(layer, f"{_tileset_url(request, layer)}/{{z}}/{{y}}/{{x}}", bounds)


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
) -> Response:
    _tms_or_404(tms_id)
    policy = tile_policy(layer)
    tile = check_tile(z, x, y, policy)
    pool = await _tile_pool(request.app)
    async with pool.connection() as conn:
        rendered = await render_tile_async(conn, layer, tile, policy)
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
