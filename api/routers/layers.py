"""``/api/v1/layers``: the catalogue with feature counts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from gis.layers.catalogue import Layer, get_layer, load_catalogue
from gis.layers.stats import feature_counts

router = APIRouter(tags=["layers"])


def _describe(layer: Layer, count: int | None) -> dict:
    return {
        "id": layer.id, "title_zh": layer.zh, "title_en": layer.en, "table": layer.table,
        "group": layer.group, "sensitivity": layer.sensitivity,
        "natural_key": layer.natural_key, "features": count,
        "fields": [{"name": f.name, "type": f.type, "title_zh": f.zh, "title_en": f.en,
                    "required": f.required} for f in layer.fields],
    }


@router.get("/layers", summary="The layer catalogue")
async def list_layers(engine: EngineDep) -> list[dict]:
    counts = await run_in_threadpool(feature_counts, engine)
    return [_describe(layer, counts.get(layer.id)) for layer in load_catalogue()]


@router.get("/layers/{layer_id}", summary="One catalogue entry")
async def layer_detail(layer_id: str, engine: EngineDep) -> dict:
    layer = get_layer(layer_id)
    counts = await run_in_threadpool(feature_counts, engine)
    return _describe(layer, counts.get(layer.id))
