"""The words of the reports, each from its one source: headings and notes from the message
catalogue (``gis/messages/report.yaml``), verdicts, units and yes/no from ``labels.yaml``,
activities, documents and profile titles from the rule profile, layer and zone names from the
layer catalogue. Nothing here spells a word itself, and no code (``general``,
``justification_required``) reaches a reader.

Reports are Chinese with English headings: :class:`Both` carries a text in both languages and
reads "中文 English" where a heading is printed whole.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from gis.errors import UnknownLayer
from gis.layers.catalogue import get_layer
from gis.messages import label, text
from gis.rules.models import Profile

_CJK = re.compile(r"[\u4e00-\u9fff]")


class Both(NamedTuple):
    """A text in Chinese and English; ``str()`` is the bilingual heading "中文 English"."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}"

    def of(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def words(key: str, **params: Any) -> Both:
    """The report message ``report.<key>`` in both languages; a :class:`Both` parameter is
    given in the language being rendered (a profile's title_zh in Chinese, title_en in
    English)."""
    def render(lang: str) -> str:
        values = {k: v.of(lang) if isinstance(v, Both) else v for k, v in params.items()}
        return text(f"report.{key}", lang, **values)  # type: ignore[arg-type]
    return Both(render("zh"), render("en"))


def label_both(group: str, value: str) -> Both:
    """An enum value's labels (``labels.yaml``), e.g. a verdict."""
    return Both(label(group, value, "zh"), label(group, value, "en"))


def yes_no(value: bool) -> Both:
    return label_both("boolean", "true" if value else "false")


def unit(code: str) -> Both:
    """A unit's names (``labels.yaml`` group ``unit``): 平方米/m², 亩/mu, 公顷/ha."""
    return label_both("unit", code)


def layer_name(layer_id: str, fallback: str | None = None) -> Both:
    """A layer's title from the layer catalogue (the stored name if it has left it)."""
    try:
        layer = get_layer(layer_id)
    except UnknownLayer:
        return Both(fallback or layer_id, fallback or layer_id)
    return Both(layer.zh, layer.en)


def zone_name(layer_id: str, zone: str | None) -> Both:
    """The name of an overlap's zone or class (``core`` is 核心保护区, ``paddy`` 水田): the
    layer's style class, else the Chinese spelling the catalogue accepts for the value; "—"
    for none."""
    if not zone:
        return Both("—", "—")
    try:
        layer = get_layer(layer_id)
    except UnknownLayer:
        return Both(zone, zone)
    found = layer.style.matching_class(zone)
    if found:
        return Both(found.zh, found.en)
    for field in layer.fields:
        spellings = (field.values or {}).get(zone)
        if spellings:
            chinese = next((s for s in spellings if _CJK.search(s)), zone)
            return Both(chinese, zone.replace("_", " "))
    return Both(zone, zone)


def activity_name(profile: Profile, code: str, fallback_zh: str) -> Both:
    """An activity's name from the rule profile (the stored name if the profile no longer
    lists it)."""
    try:
        activity, _ = profile.activity(code)
    except KeyError:  # an activity the profile no longer has
        return Both(fallback_zh, fallback_zh)
    return Both(activity.zh, activity.en)


def profile_title(profile: Profile) -> Both:
    return Both(profile.title_zh, profile.title_en)


def document_title(profile: Profile, key: str) -> Both:
    """A cited document's title from the profile (its key if the profile has no such one)."""
    document = profile.documents.get(key)
    return Both(document.title_zh, document.title_en) if document else Both(key, key)
