"""``/api/v1/control-lines/versions``: the versions of the control lines and what changed
between two of them (JSON, or GeoJSON as a map layer); ``/api/v1/land-classes/{division}``:
the survey's land-class totals in official areas. Readers need the layer's role (the red
line and the survey are planner data)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import PrincipalDep, readable_layer, readable_layers
from api.deps import EngineDep
from gis.analysis.line_versions import VersionDiff, diff_versions
from gis.analysis.survey_areas import LandClassTotal, land_class_totals
from gis.layers.versions import VersionRecord, list_versions, versioned_layer

router = APIRouter(prefix="/api/v1", tags=["control lines"])

AsOf = Annotated[dt.date | None, Query(
    alias="as_of", description="The day (YYYY-MM-DD, China) whose version in force is marked; "
    "default today")]


@router.get("/control-lines/versions", summary="Every version of the control lines")
async def all_versions(request: Request, engine: EngineDep, who: PrincipalDep,
                       as_of: AsOf = None) -> list[VersionRecord]:
    """The versions of each control line the caller may read, oldest first; ``in_force``
    marks the one in force on ``as_of`` (today)."""
    readable = {layer.id for layer in readable_layers(who, request.app.state.settings)}
    out: list[VersionRecord] = []
    for layer_id in ("eco_redline", "basic_farmland", "urban_boundary"):
        if layer_id in readable:
            out += await run_in_threadpool(list_versions, engine, layer_id, as_of)
    return out


@router.get("/control-lines/{layer_id}/versions", summary="The versions of one control line")
async def layer_versions(layer_id: str, request: Request, engine: EngineDep,
                         who: PrincipalDep, as_of: AsOf = None) -> list[VersionRecord]:
    versioned_layer(readable_layer(layer_id, who, request.app.state.settings).id)
    return await run_in_threadpool(list_versions, engine, layer_id, as_of)


@router.get("/control-lines/{layer_id}/diff", summary="What changed between two versions",
            response_model=VersionDiff, responses={200: {"content": {
                "application/geo+json": {}}}})
async def version_diff(
    layer_id: str, request: Request, engine: EngineDep, who: PrincipalDep,
    before: Annotated[int, Query(alias="from", ge=1, description="The earlier version")],
    after: Annotated[int, Query(alias="to", ge=1, description="The later version")],
    f: Annotated[Literal["json", "geojson"], Query(
        description="geojson: the added and removed pieces as a map layer")] = "json",
) -> JSONResponse:
    """Per zone: area before and after, added, removed and net (m², 亩, ha); per feature:
    added, removed or changed. ``f=geojson``: the added and removed pieces (``change``,
    ``zone``, areas) as a FeatureCollection in CRS84."""
    versioned_layer(readable_layer(layer_id, who, request.app.state.settings).id)
    diff = await run_in_threadpool(diff_versions, engine, layer_id, before, after)
    if f == "geojson":
        return JSONResponse(diff.feature_collection(), media_type="application/geo+json")
    return JSONResponse(diff.model_dump(mode="json", exclude={"pieces"}))


@router.get("/land-classes/{division}",
            summary="Survey land-class totals in official areas (planner: survey data)")
async def land_classes(division: str, request: Request, engine: EngineDep,
                       who: PrincipalDep) -> list[LandClassTotal]:
    """Per first-level class (GB/T 21010) of the survey patches under ``division`` (a county
    code, or 64): the total of 图斑地类面积 (TBDLMJ) where the survey carries it and of the
    polygon area where not (``basis``), the polygon total and the deducted area (KCMJ)."""
    readable_layer("survey_patches", who, request.app.state.settings)
    return await run_in_threadpool(land_class_totals, engine, division)
