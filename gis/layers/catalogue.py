"""The layer catalogue: validated data, not code.

``catalogue.yaml`` is loaded into pydantic models and checked on load (natural keys name
real fields, Shapefile names fit in 10 characters and are unique, source aliases do not
collide), so a bad edit fails at start-up with a message instead of corrupting a load.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, Field, model_validator

from gis.errors import UnknownLayer

FieldType = Literal["text", "int", "float", "bool", "date"]
Sensitivity = Literal["public", "planner", "forestry", "admin"]
Group = Literal["base", "control_lines", "planning", "forest_grass", "survey"]

#: Columns every layer table has besides its own fields.
SYSTEM_COLUMNS = ("id", "geom", "area_m2", "updated_at")


class LayerField(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType
    zh: str
    en: str
    required: bool = False
    source: list[str] = Field(default_factory=list)
    shp: str = Field(max_length=10)
    values: dict[str, list[str]] | None = None
    #: Lowest value a ``float`` field may hold (areas and quotas: 0); ``null`` for a signed
    #: quantity. Non-finite values are always refused, by the loader and by a CHECK.
    minimum: float | None = 0

    def canonical_value(self, raw: str) -> str | None:
        """Map a source spelling (e.g. 核心保护区) onto its canonical value (``core``)."""
        if self.values is None:
            return raw
        for canonical, spellings in self.values.items():
            if raw == canonical or raw in spellings:
                return canonical
        return None


class Layer(BaseModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    group: Group
    sensitivity: Sensitivity
    natural_key: list[str] = Field(min_length=1)
    fields: list[LayerField]

    @model_validator(mode="after")
    def _consistent(self) -> Layer:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"layer {self.id}: duplicate field names")
        if clash := set(names) & set(SYSTEM_COLUMNS):
            raise ValueError(f"layer {self.id}: fields {clash} clash with system columns")
        if missing := set(self.natural_key) - set(names):
            raise ValueError(f"layer {self.id}: natural key names unknown fields {missing}")
        shp = [f.shp.upper() for f in self.fields]
        if len(set(shp)) != len(shp):
            raise ValueError(f"layer {self.id}: duplicate Shapefile field names")
        seen: dict[str, str] = {}
        for f in self.fields:
            for alias in {a.casefold() for a in [*f.source, f.name, f.shp]}:
                if seen.setdefault(alias, f.name) != f.name:
                    raise ValueError(
                        f"layer {self.id}: source name {alias!r} maps to both "
                        f"{seen[alias]} and {f.name}"
                    )
        for f in self.fields:
            if f.name in self.natural_key:
                f.required = True
        return self

    def field(self, name: str) -> LayerField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


class Catalogue(BaseModel):
    layers: list[Layer]

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        for attr in ("id", "table"):
            values = [getattr(layer, attr) for layer in self.layers]
            if len(set(values)) != len(values):
                raise ValueError(f"duplicate layer {attr}s in the catalogue")
        return self

    def get(self, layer_id: str) -> Layer:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        known = ", ".join(layer.id for layer in self.layers)
        raise UnknownLayer(f"unknown layer {layer_id!r}; known layers: {known}", layer=layer_id)

    def __iter__(self):  # type: ignore[override]
        return iter(self.layers)


@cache
def load_catalogue() -> Catalogue:
    text = resources.files("gis.layers").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return Catalogue.model_validate(yaml.safe_load(text))


def get_layer(layer_id: str) -> Layer:
    return load_catalogue().get(layer_id)
