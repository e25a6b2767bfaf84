"""The columns of the work lists' exports, built from the item models: every code becomes its
label (labels.yaml), every layer its catalogue name, and who decided, when (Beijing time)
and why comes from the item's decision trail, so the file says what the screen says.

Each list names its columns (``WorkList.columns``) with these builders; the exporter
(:mod:`gis.analysis.worklist_export`) writes them.
"""

from __future__ import annotations

from typing import Any

from gis.analysis.worklist import BEIJING, ExportColumn
from gis.errors import UnknownLayer
from gis.layers.catalogue import get_layer
from gis.messages import Lang, label, text


def ident() -> ExportColumn:
    return ExportColumn("worklist.column.id", lambda item, lang: item.id, "int")


def plain(header: str, field: str, kind: Any = "text") -> ExportColumn:
    """A value as it is (a name, a code the reader knows by its text, a number)."""
    return ExportColumn(header, lambda item, lang: getattr(item, field), kind, field)


def labelled(header: str, field: str, group: str) -> ExportColumn:
    """A coded value by its label in the sheet's language (林草重叠, not the code)."""
    def value(item: Any, lang: Lang) -> str | None:
        code = getattr(item, field)
        return None if code is None else label(group, code, lang)

    return ExportColumn(header, value, field=field)


def _decider(item: Any, lang: Lang) -> str | None:
    if item.decided_by is None:
        return None
    if item.decided_verified is False:
        return text("worklist.unverified", lang, who=item.decided_by)
    return item.decided_by


def _decided_at(item: Any, lang: Lang) -> Any:
    at = item.decided_at
    return None if at is None else at.astimezone(BEIJING).replace(tzinfo=None)


def trail(decided_by: str, decided_at: str) -> tuple[ExportColumn, ...]:
    """Why, who (unverified actors marked), on whose behalf and when (Beijing time, named in
    the header) of the item's latest decision, and the version; the list's header keys for
    the decider and the time (决定人, 认定人 ...)."""
    return (
        ExportColumn("worklist.column.reason", lambda item, lang: item.decision_reason),
        ExportColumn(decided_by, _decider),
        ExportColumn("worklist.column.on_behalf_of",
                     lambda item, lang: item.decided_on_behalf_of),
        ExportColumn(decided_at, _decided_at, "datetime"),
        ExportColumn("worklist.column.version", lambda item, lang: item.version, "int"),
    )


def areas() -> tuple[ExportColumn, ...]:
    return (
        ExportColumn("worklist.column.area_m2", lambda item, lang: round(item.area_m2, 2),
                     "m2"),
        ExportColumn("worklist.column.area_mu", lambda item, lang: item.area_mu, "mu"),
        ExportColumn("worklist.column.area_ha", lambda item, lang: item.area_ha, "ha"),
    )


def layer_name(layer: str, lang: Lang) -> str:
    """A layer by its catalogue name (林地小班), its id when the catalogue has none."""
    try:
        found = get_layer(layer)
    except UnknownLayer:
        return layer
    return found.en if lang == "en" else found.zh


def parcels_text(parcels: list[dict[str, Any]], lang: Lang) -> str:
    """The parcels of a finding as the page lists them: 林地小班 640202/001/001；草地图斑 CD-1."""
    parts = [f"{layer_name(p.get('layer', ''), lang)} {p.get('key', '')}" for p in parcels]
    return ("; " if lang == "en" else "；").join(parts)


def parcels() -> ExportColumn:
    return ExportColumn("worklist.column.parcels",
                        lambda item, lang: parcels_text(item.parcels, lang))
