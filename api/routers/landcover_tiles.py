"""``/api/v1/monitoring/.../landcover``: the classified land cover of a monitoring run's two
dates as PNG map tiles, for the portal's swipe between dates (issue 23).

- ``GET /monitoring/landcover``: the latest run's dates, extent, legend and tile URLs;
  ``GET /monitoring/runs/{run_id}/landcover`` the same for one run.
- ``GET /monitoring/runs/{run_id}/landcover/{which}/{z}/{x}/{y}.png``, ``which`` ``a`` (the
  earlier date) or ``b``: an XYZ Web Mercator tile (``gis.tiles.landcover``). Tiles are by
  run id, not "latest", so a cached tile never changes meaning when a new run is stored.

Who may read: the monitoring routes' rule (``AnyRole``: planner, forestry, admin); no key is
401, a refused key 401, as problem details in the request's language. The client names a run
and a date, never a file (``gis.tiles.landcover_runs``). Caching follows the vector tiles
(``ogc_tiles.py``): an ETag of the bytes, ``304`` on ``If-None-Match``, and
``Cache-Control: private`` since the data is not public. Every GET answers HEAD too.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import AnyRole
from api.deps import EngineDep
from api.errors import lang_of
from api.routers.ogc_common import add_head_routes
from gis.auth import Principal
from gis.tiles.landcover import PNG_MEDIA_TYPE, check_xyz, palette, render_png
from gis.tiles.landcover_runs import (
    RunLandCover,
    class_colours,
    describe,
    run_land_cover,
)

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
#: Seconds a browser may keep a tile: a run's rasters do not change, a re-run is a new id.
MAX_AGE = 300
TILE_PATH = "/monitoring/runs/{run_id}/landcover/{which}/{z}/{x}/{y}.png"
Which = Annotated[Literal["a", "b"], Path(description="a: the earlier date, b: the later")]
#: The monitoring routes' rule, as a parameter: ``add_head_routes`` copies a handler and its
#: parameters, not a route's ``dependencies``, and a HEAD twin must check the key too.
Reader = Annotated[Principal, AnyRole]


def _raster_dir(request: Request) -> Any:
    return request.app.state.settings.data.raster_dir


async def _run(request: Request, engine: Any, run_id: int | None) -> RunLandCover:
    return await run_in_threadpool(run_land_cover, engine, run_id, _raster_dir(request))


async def _describe(request: Request, run: RunLandCover) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + router.prefix
    template = base + TILE_PATH.replace("{run_id}", str(run.run_id))
    return await run_in_threadpool(describe, run, lang_of(request.headers), template)


@router.get("/monitoring/landcover",
            summary="The latest monitoring run's two land-cover dates: extent, legend, tiles")
async def latest_land_cover(request: Request, engine: EngineDep, who: Reader
                            ) -> dict[str, Any]:
    return await _describe(request, await _run(request, engine, None))


@router.get("/monitoring/runs/{run_id}/landcover",
            summary="A monitoring run's two land-cover dates: extent, legend, tiles")
async def run_land_cover_doc(run_id: int, request: Request, engine: EngineDep, who: Reader
                             ) -> dict[str, Any]:
    return await _describe(request, await _run(request, engine, run_id))


@cache
def _palette(profile: str) -> np.ndarray:
    """The colour table of a profile's classes (read-only once made: tiles only index it)."""
    lut = palette(class_colours(profile))
    lut.flags.writeable = False
    return lut


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


@router.get(TILE_PATH, response_class=Response,
            summary="A land-cover tile of one date of a monitoring run (PNG, Web Mercator)",
            responses={200: {"content": {PNG_MEDIA_TYPE: {}},
                             "description": "The tile (transparent where there is no data)"},
                       304: {"description": "Not modified (If-None-Match)"},
                       404: {"description": "No such run, or a tile not on the grid"},
                       409: {"description": "The run's raster is no longer on the server"}})
async def land_cover_tile(run_id: int, which: Which, z: int, x: int, y: int,
                          request: Request, engine: EngineDep, who: Reader) -> Response:
    check_xyz(z, x, y)
    run = await _run(request, engine, run_id)
    path = await run_in_threadpool(run.path, which)  # a stat: not on the event loop
    tile = await run_in_threadpool(render_png, path, z, x, y, _palette(run.profile))
    headers = {"ETag": tile.etag, "Cache-Control": f"private, max-age={MAX_AGE}"}
    if _matches(request.headers.get("if-none-match"), tile.etag):
        return Response(status_code=304, headers=headers)
    return Response(tile.data, media_type=PNG_MEDIA_TYPE, headers=headers)


add_head_routes(router)
