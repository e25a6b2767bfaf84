"""``POST /api/v1/print``: the workbench's 打印 tool (issue 23). The viewer posts its current
view (bbox in CRS84), the visible layers, a title, paper, orientation and format; the answer
is the map as a PDF or PNG file (:func:`gis.reports.print_map.print_map`, the report map's
drawing path).

Anyone may print public layers; a restricted layer needs a key whose role may read it, with
the same 401/403 the layer's own routes give (:func:`api.auth.readable_layer`), so a print
never shows what the caller could not see in the viewer. Rendering costs seconds of CPU, so
a print is charged to the caller's rate limit like the other expensive routes.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator

from api.auth import Expensive, PrincipalDep, readable_layer
from api.deps import EngineDep
from api.errors import lang_of
from gis.layers.catalogue import load_catalogue
from gis.messages import text
from gis.reports.print_map import print_map

router = APIRouter(tags=["print"])
#: Most layers on one print (the catalogue has 13; a repeated id is printed once).
MAX_LAYERS = 20


class PrintRequest(BaseModel):
    """What to print: the view, the layers (top first, as the layer panel lists them)."""

    bbox: Annotated[list[float], Field(min_length=4, max_length=4, description=(
        "min lon, min lat, max lon, max lat (CRS84, CGCS2000 degrees)"))]
    layers: Annotated[list[str], Field(min_length=1, max_length=MAX_LAYERS)]
    title: Annotated[str, Field(max_length=200)] = ""
    paper: Literal["A4", "A3"] = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"
    format: Literal["pdf", "png"] = "pdf"

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: list[float]) -> list[float]:
        if not all(math.isfinite(v) for v in value):
            raise ValueError(text("print.bad_bbox", "en"))
        minx, miny, maxx, maxy = value
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise ValueError(text("print.bad_bbox", "en"))
        return value

    @field_validator("layers")
    @classmethod
    def _layers(cls, value: list[str]) -> list[str]:
        known = {layer.id for layer in load_catalogue()}
        if unknown := [v for v in value if v not in known]:
            raise ValueError(f"unknown layers: {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(known))}")
        return list(dict.fromkeys(value))


@router.post("/print", summary="Print the map (PDF or PNG, A4/A3)", response_class=Response,
             dependencies=[Expensive],
             responses={200: {"content": {"application/pdf": {}, "image/png": {}}}})
async def print_view(body: PrintRequest, request: Request, engine: EngineDep,
                     who: PrincipalDep) -> Response:
    settings = request.app.state.settings
    for layer_id in body.layers:  # 404 unknown, 401 without a key, 403 for the wrong role
        readable_layer(layer_id, who, settings)
    lang = lang_of(request.headers)
    title = body.title.strip() or text("portal.wb_print_default_title", lang)
    data = await run_in_threadpool(
        print_map, engine, tuple(body.bbox), body.layers, title, body.paper,
        body.orientation, lang, body.format, who.role, settings.api.layer_sensitivity)
    media = "application/pdf" if body.format == "pdf" else "image/png"
    name = f"onemap-{body.paper.lower()}-{body.orientation}.{body.format}"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
