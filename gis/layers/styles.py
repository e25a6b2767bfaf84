"""How a catalogue layer is drawn: its colours (by class or zone where it is classified) and
its legend, as validated data from ``catalogue.yaml``.

One model serves every map the project draws: the portal (its page configuration and legend),
the report map (``gis.reports.mapimage``) and the notebooks all ask a layer's
:class:`LayerStyle` for a feature's colour, so a colour changed in the catalogue changes
everywhere and no map can disagree with its legend. :meth:`LayerStyle.colour_for` is the
algorithm the portal's ``OneMap.colorFor`` runs in the browser, written once more in Python
for the maps drawn on the server; a test compares the two.

This module knows nothing about the catalogue itself (``catalogue.py`` checks that a style's
field and class values exist in its layer), so it imports nothing from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: ``#rrggbb`` in lower case: the form every consumer (Leaflet, matplotlib, CSS) accepts.
COLOUR = r"^#[0-9a-f]{6}$"
#: A fill more transparent than this is drawn in the legend as an outline swatch.
OUTLINE_BELOW_OPACITY = 0.1


class StyleClass(BaseModel):
    """One class of a classified layer: the value of the style's field (or, for a ``prefix``
    style, a code prefix such as ``03`` 林地), its colour and its legend label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1)
    color: str = Field(pattern=COLOUR)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class LegendEntry(BaseModel):
    """One legend row: a swatch and its label in both languages."""

    model_config = ConfigDict(frozen=True)

    color: str
    zh: str
    en: str
    #: drawn as an outline: the layer is (almost) unfilled, a filled swatch would mislead
    outline: bool

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class LayerStyle(BaseModel):
    """A base colour, drawing parameters, and optionally a colour per value of ``field``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    color: str = Field(pattern=COLOUR)
    fill_opacity: float = Field(ge=0, le=1)
    weight: float = Field(gt=0, le=10)
    #: SVG dash pattern of the outline ("6 4"), none for a solid line
    dash: str | None = Field(default=None, pattern=r"^\d+( \d+)+$")
    #: drawing order: a layer with a higher ``z`` is drawn above one with a lower
    z: int = Field(ge=0, le=99)
    #: shown when the viewer opens
    visible: bool = False
    #: the classified attribute; ``None`` for a layer drawn in one colour
    field: str | None = None
    #: classes are code prefixes (the longest matching prefix wins), not whole values
    prefix: bool = False
    classes: list[StyleClass] = Field(default_factory=list)

    @model_validator(mode="after")
    def _classes_need_a_field(self) -> LayerStyle:
        if bool(self.field) != bool(self.classes):
            raise ValueError("a style has both a classified `field` and its `classes`, or "
                             "neither")
        if self.prefix and not self.field:
            raise ValueError("a `prefix` style needs a `field`")
        values = [c.value for c in self.classes]
        if len(set(values)) != len(values):
            raise ValueError(f"duplicate class values in {values}")
        return self

    @property
    def class_colours(self) -> dict[str, str]:
        """value (or prefix) -> colour, in the catalogue's order."""
        return {c.value: c.color for c in self.classes}

    def matching_class(self, value: object) -> StyleClass | None:
        """The class a field value falls in: equal value, or the longest matching prefix."""
        if value is None or not self.classes:
            return None
        text = str(value)
        if not self.prefix:
            return next((c for c in self.classes if c.value == text), None)
        matches = [c for c in self.classes if text.startswith(c.value)]
        return max(matches, key=lambda c: len(c.value)) if matches else None

    def colour_for(self, properties: Mapping[str, object] | None = None) -> str:
        """The colour of a feature with these attributes: its class's colour, else the base
        colour (an unclassified layer, a missing value, a value of no class)."""
        if not self.field or properties is None:
            return self.color
        found = self.matching_class(properties.get(self.field))
        return found.color if found else self.color

    def legend(self, title_zh: str, title_en: str) -> list[LegendEntry]:
        """One entry per class, or one entry titled with the layer for an unclassified layer."""
        outline = self.fill_opacity < OUTLINE_BELOW_OPACITY
        if not self.classes:
            return [LegendEntry(color=self.color, zh=title_zh, en=title_en, outline=outline)]
        return [LegendEntry(color=c.color, zh=c.zh, en=c.en, outline=outline)
                for c in self.classes]


#: Colours of the monitoring land-cover classes, by class code (the class table itself is the
#: rule profile's ``monitoring.classes``; the names are the catalogue's ``landcover.class.*``
#: messages). Close to the usual land-use map colours (GB/T 21010 maps): yellow cultivated
#: land, greens for forest and grassland, blue water, red construction, tan bare land; all
#: far apart, so the two dates of the portal's swipe read at a glance.
LAND_COVER_COLOURS: dict[str, str] = {
    "cultivated": "#f3d34a",
    "forest": "#1f7a33",
    "grassland": "#9ccf5a",
    "water": "#2b7bd6",
    "construction": "#d7301f",
    "bare": "#b59b78",
}
#: A class code of another profile that has no colour above: grey, never a missing pixel.
LAND_COVER_OTHER = "#8c8c8c"


def land_cover_colour(code: str) -> str:
    """The colour of a land-cover class code."""
    return LAND_COVER_COLOURS.get(code, LAND_COVER_OTHER)
