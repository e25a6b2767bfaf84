"""``/api/v1/layers/{layer_id}/stats``: a layer's areas by region (district, township or
village) and by class of one of its fields, for the portal's statistics tool (issue 23).
The layer must be readable with the caller's key, as for its items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import PrincipalDep, readable_layer
from api.deps import EngineDep
from gis.layers.region_stats import RegionClassArea, region_stats

router = APIRouter(tags=["layers"])


@router.get("/layers/{layer_id}/stats", summary="Areas by region and class")
async def stats(
    layer_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
    by: Annotated[str, Query(description="district, township or village")] = "township",
    field: Annotated[str | None, Query(description="a field of the layer to class by")] = None,
    division: Annotated[str | None, Query(description="only regions under this code")] = None,
) -> list[RegionClassArea]:
    layer = readable_layer(layer_id, who, request.app.state.settings)
    return await run_in_threadpool(region_stats, engine, layer, field or None, by,
                                   division or None)
