"""The layer catalogue: validated data, not code.

``catalogue.yaml`` is loaded into pydantic models and checked on load (natural keys name
real fields, Shapefile names fit in 10 characters and are unique, source aliases do not
collide), so a bad edit fails at start-up with a message instead of corrupting a load.

It is the one place for everything about a layer: its table and fields, its style and legend
(``gis.layers.styles``), its tile policy, how it is searched and its primary date. The tile
service, the search, the portal, the report map and the notebooks read these settings from
here rather than keeping tables of their own that could drift apart.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Formatter
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gis.errors import UnknownLayer
from gis.layers.styles import LayerStyle
from gis.messages import Joined, msg

FieldType = Literal["text", "int", "float", "bool", "date"]
Sensitivity = Literal["public", "planner", "forestry", "admin"]
Group = Literal["base", "control_lines", "planning", "forest_grass", "survey"]

#: Columns every layer table has besides its own fields.
SYSTEM_COLUMNS = ("id", "geom", "area_m2", "updated_at")
#: The column a versioned layer (``versioned: true``) has besides: the version of each row.
VERSION_COLUMN = "version"
#: Deepest WebMercatorQuad zoom served: 4096 grid units per tile at z22 are ~2 mm, beyond any
#: survey's precision. A layer's tile policy may not go deeper.
MAX_TILE_ZOOM = 22


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


class TilePolicy(BaseModel):
    """How a layer travels to maps: as vector tiles or whole as GeoJSON (the portal's
    choice), which zooms of its tileset exist, how many features one tile may hold, and
    whether geometries are simplified before they are cut (worth it only for detailed
    polygons, not for parcels that already have a handful of vertices)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["tiles", "geojson"]
    minzoom: int = Field(ge=0, le=MAX_TILE_ZOOM)
    maxzoom: int = Field(ge=0, le=MAX_TILE_ZOOM)
    max_features: int = Field(gt=0)
    simplify: bool

    @model_validator(mode="after")
    def _range(self) -> TilePolicy:
        if self.minzoom > self.maxzoom:
            raise ValueError(f"minzoom {self.minzoom} is above maxzoom {self.maxzoom}")
        return self


class LabelPart(BaseModel):
    """One piece of a search label: text around exactly one field, e.g. ``/{patch_no}``."""

    model_config = ConfigDict(frozen=True)

    prefix: str
    field: str
    suffix: str


def _label_part(template: str) -> LabelPart:
    pieces = list(Formatter().parse(template))  # (text before, field, spec, conversion)
    named = [i for i, piece in enumerate(pieces) if piece[1] is not None]
    if len(named) != 1 or not pieces[named[0]][1] or any(pieces[named[0]][2:]):
        raise ValueError(f"search label part {template!r} must name exactly one field, as "
                         "'{field}' with optional text around it")
    at = named[0]
    return LabelPart(prefix="".join(p[0] for p in pieces[:at + 1]), field=pieces[at][1],
                     suffix="".join(p[0] for p in pieces[at + 1:]))


class LayerSearch(BaseModel):
    """How the viewer's search finds a layer's features: the label a hit is shown with, and
    matched against, built from parts each holding one field (a part whose field is empty is
    left out, with its separator); ``rank`` orders the layers among the hits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(ge=1)
    label: list[str] = Field(min_length=1)

    @property
    def parts(self) -> list[LabelPart]:
        return [_label_part(template) for template in self.label]

    @property
    def fields(self) -> list[str]:
        """The searched fields: those the label is made of."""
        return [part.field for part in self.parts]

    @field_validator("label")
    @classmethod
    def _parse(cls, label: list[str]) -> list[str]:
        for template in label:
            _label_part(template)
        return label


class Layer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    group: Group
    sensitivity: Sensitivity
    natural_key: list[str] = Field(min_length=1)
    #: Every version of the layer is kept (control lines, 003:237-239): rows carry their
    #: ``version`` and readers see one version at a time (``gis.layers.versions``).
    versioned: bool = False
    #: The primary date field (what a ``datetime`` filter will compare), ``null`` where the
    #: layer has none. Stated for every layer, so a missing entry is an error, not a default.
    temporal: str | None
    style: LayerStyle
    tiles: TilePolicy
    #: ``null``: the viewer's search does not look in this layer
    search: LayerSearch | None
    fields: list[LayerField]

    @model_validator(mode="after")
    def _consistent(self) -> Layer:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"layer {self.id}: duplicate field names")
        if clash := set(names) & {*SYSTEM_COLUMNS, VERSION_COLUMN}:
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
        self._check_settings({f.name: f for f in self.fields})
        return self

    def _check_settings(self, fields: dict[str, LayerField]) -> None:
        """The temporal property, style and search name real fields of the right type, and a
        coded field's classes are its canonical values, labelled as the catalogue spells
        them (so the legend says what the popups and the imports say)."""
        if self.temporal is not None and (
                self.temporal not in fields or fields[self.temporal].type != "date"):
            raise ValueError(f"layer {self.id}: temporal {self.temporal!r} is not a date field")
        if self.search is not None:
            for name in self.search.fields:
                if name not in fields or fields[name].type != "text":
                    raise ValueError(f"layer {self.id}: search label field {name!r} is not a "
                                     "text field of the layer")
        style = self.style
        if style.field is None:
            return
        field = fields.get(style.field)
        if field is None or (style.prefix and field.type != "text"):
            raise ValueError(f"layer {self.id}: style field {style.field!r} is not a "
                             f"{'text ' if style.prefix else ''}field of the layer")
        if style.prefix or field.values is None:
            return
        for c in style.classes:
            if c.value not in field.values:
                raise ValueError(f"layer {self.id}: style class {c.value!r} is not a value of "
                                 f"{field.name} ({', '.join(field.values)})")
            if c.zh not in field.values[c.value]:
                raise ValueError(f"layer {self.id}: legend label {c.zh!r} of {c.value!r} is "
                                 f"not one of its spellings {field.values[c.value]}")

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
        ranks = [layer.search.rank for layer in self.layers if layer.search]
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"duplicate search ranks in the catalogue: {sorted(ranks)}")
        return self

    def get(self, layer_id: str) -> Layer:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        known = Joined(tuple(layer.id for layer in self.layers))
        raise UnknownLayer(msg("layer.unknown", layer=layer_id, known=known), layer=layer_id)

    def __iter__(self):  # type: ignore[override]
        return iter(self.layers)


@cache
def load_catalogue() -> Catalogue:
    text = resources.files("gis.layers").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return Catalogue.model_validate(yaml.safe_load(text))


def get_layer(layer_id: str) -> Layer:
    return load_catalogue().get(layer_id)
