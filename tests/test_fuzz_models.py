"""Issue 21: property-based tests (hypothesis) of the request boundary: every request model
of the app takes any JSON and either validates it or raises a ValidationError (never another
exception), and what it admits is finite; the NUL scan of JSON bodies agrees with the JSON
parser; footprints made of any coordinates (NaN, infinities, open rings, junk) are refused
with a GISError or accepted, never anything else."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from api.app import create_app
from api.models import has_json_nul
from gis.analysis.footprint import prepare_footprint
from gis.errors import GISError
from gis.rules import load_profile

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=20)


def request_models() -> list[type[BaseModel]]:
    app = create_app()
    models: set[type[BaseModel]] = set()

    def walk(routes) -> None:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                walk(route.effective_route_contexts())
            body = getattr(route, "body_field", None)
            annotation = getattr(getattr(body, "field_info", None), "annotation", None)
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                models.add(annotation)

    walk(app.routes)
    return sorted(models, key=lambda m: m.__qualname__)


MODELS = request_models()


def _numbers(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, BaseModel):
        return _numbers(value.model_dump())
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _numbers(v)]
    return []


def test_the_app_has_request_models() -> None:
    assert len(MODELS) >= 8, MODELS


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__qualname__)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_request_models_validate_or_refuse(model, data) -> None:
    fields = {name: data.draw(JSON | st.floats(), label=name) for name in model.model_fields}
    extra = data.draw(st.dictionaries(st.text(max_size=6), JSON, max_size=2))
    try:
        parsed = model.model_validate({**extra, **fields})
    except ValidationError:
        return
    assert all(math.isfinite(n) for n in _numbers(parsed))


@settings(max_examples=300, deadline=None)
@given(value=JSON)
def test_the_nul_scan_agrees_with_the_json_parser(value) -> None:
    def has_nul(v: Any) -> bool:
        if isinstance(v, str):
            return "\x00" in v
        if isinstance(v, dict):
            return any(has_nul(k) or has_nul(x) for k, x in v.items())
        if isinstance(v, list):
            return any(has_nul(x) for x in v)
        return False

    body = json.dumps(value).encode()
    assert has_json_nul(body) == has_nul(value)


COORD = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**20, 10**20)
POINT = st.lists(COORD, min_size=0, max_size=3)
RING = st.lists(POINT, max_size=6)
PROFILE = load_profile("ningxia")


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["Polygon", "MultiPolygon", "LineString", "Point", "Polygon\x00"]),
       rings=st.lists(RING, max_size=3), near=st.booleans())
def test_footprints_are_accepted_or_refused_cleanly(kind, rings, near) -> None:
    if near:  # rings near Ningxia, so some are valid and reach the later checks
        rings = [[[106 + (p[0] if p and isinstance(p[0], float) and abs(p[0]) < 1 else 0.0),
                   38 + (p[1] if len(p) > 1 and isinstance(p[1], float) and abs(p[1]) < 1
                         else 0.0)] for p in ring] for ring in rings]
    coordinates: Any = [rings] if kind == "MultiPolygon" else rings
    if kind == "LineString":
        coordinates = rings[0] if rings else []
    if kind == "Point":
        coordinates = rings[0][0] if rings and rings[0] else []
    with contextlib.suppress(GISError):
        prepare_footprint({"type": kind, "coordinates": coordinates}, "CRS84",
                          PROFILE.siting, line_width_m=10.0)
