"""``GET /portal/api/search?q=``: find villages and parcels by name or number for the viewer.

Searching the large layers (survey patches, forest sub-compartments) has to happen in the
database; the browser only ever holds what is on screen. Only layers the caller's key may
read are searched, with the same rule as the layer API (``api.auth.readable_layers``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, text

from api.auth import Expensive, PrincipalDep, readable_layers
from api.deps import EngineDep

#: layer id -> SQL expression of the searched label (columns of the layer's table only).
SEARCHABLE: dict[str, str] = {
    "village_plans": "village_name || ' (' || coalesce(township_name, '') || ') ' || "
                     "village_code",
    "admin_divisions": "name || ' ' || code",
    "basic_farmland": "parcel_code || coalesce(' ' || survey_patch_no, '')",
    "cultivated_land": "patch_no || coalesce(' ' || village, '')",
    "survey_patches": "county_code || '/' || patch_no || coalesce(' ' || land_use_name, '')",
    "forest_parcels": "county_code || '/' || lin_ban || '/' || xiao_ban"
                      " || coalesce(' ' || village, '') || coalesce(' ' || certificate_no, '')",
    "grassland_parcels": "parcel_no || coalesce(' ' || village, '')"
                         " || coalesce(' ' || certificate_no, '')",
    "village_plan_zones": "zone_code || coalesce(' ' || land_use_name, '')",
    "projects": "project_code || ' ' || name",
    "eco_redline": "redline_code || coalesce(' ' || name, '')",
    "forest_farm_areas": "area_code || ' ' || area_name",
    "township_plans": "township_name || ' ' || township_code",
}
#: Villages first: a place name is the commonest search.
ORDER = ("village_plans", "admin_divisions", "basic_farmland", "cultivated_land",
         "forest_parcels", "grassland_parcels", "survey_patches", "village_plan_zones",
         "projects", "eco_redline", "forest_farm_areas", "township_plans")

router = APIRouter(prefix="/portal/api", tags=["portal"])


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(engine: Engine, q: str, layers: list[tuple[str, str, str]], limit: int
           ) -> list[dict[str, Any]]:
    """Features whose label contains ``q`` (case-insensitive), ``limit`` per layer."""
    pattern = f"%{_escape_like(q.strip())}%"
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for layer_id, table, title in layers:
            label = SEARCHABLE[layer_id]
            rows = conn.execute(text(
                f"SELECT id, {label} AS label, area_m2, "
                "ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, "
                "ST_YMax(geom) AS y1, ST_AsGeoJSON(geom, 7) AS geojson "
                f"FROM {table} WHERE ({label}) ILIKE :p ESCAPE '\\' "
                "ORDER BY length(" + label + "), id LIMIT :n"),
                {"p": pattern, "n": limit}).all()
            out.extend({
                "layer": layer_id, "layer_title": title, "id": r.id, "label": r.label,
                "area_m2": r.area_m2, "bbox": [r.x0, r.y0, r.x1, r.y1],
                "geometry": json.loads(r.geojson),
            } for r in rows)
    return out


@router.get("/search", summary="Find villages and parcels by name or number",
            dependencies=[Expensive])
async def search_endpoint(
    request: Request, engine: EngineDep, principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    lang: str = "zh",
    limit: Annotated[int, Query(ge=1, le=50)] = 8,
) -> list[dict[str, Any]]:
    readable = {layer.id: layer for layer in
                readable_layers(principal, request.app.state.settings)}
    layers = [(lid, readable[lid].table,
               readable[lid].zh if not lang.startswith("en") else readable[lid].en)
              for lid in ORDER if lid in readable]
    return await run_in_threadpool(search, engine, q, layers, limit)
