"""``GET /portal/api/search?q=``: find villages and parcels by name or number (the viewer's
search box).

Only layers the caller's key may read are searched, with the same rule as the layer API
(``api.auth.readable_layers``); which layers are searchable and how a hit is labelled is the
catalogue's (``gis.layers.search``). The URL stays under ``/portal/api`` because the viewer
is its client; the endpoint is the API's like every other data request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import Expensive, PrincipalDep, readable_layers
from api.deps import EngineDep
from gis.layers.search import MAX_LIMIT, SearchHit, search_features
from gis.messages import negotiate

router = APIRouter(prefix="/portal/api", tags=["search"])


class SearchResult(SearchHit):
    """A hit with its layer's title in the language asked for."""

    layer_title: str


@router.get("/search", summary="Find villages and parcels by name or number",
            dependencies=[Expensive])
async def search_endpoint(
    request: Request, engine: EngineDep, principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    lang: Annotated[str | None, Query(description="zh or en (default: Accept-Language)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 8,
) -> list[SearchResult]:
    layers = readable_layers(principal, request.app.state.settings)
    hits = await run_in_threadpool(search_features, engine, q, layers, limit)
    english = (lang or negotiate(request.headers.get("accept-language"))).startswith("en")
    titles = {layer.id: layer.en if english else layer.zh for layer in layers}
    return [SearchResult(**hit.model_dump(), layer_title=titles[hit.layer]) for hit in hits]
