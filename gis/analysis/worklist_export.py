"""A work list's exports: what the screen shows, as an official ledger.

The xlsx and the GeoPackage take the list's filters (the page's division, kind, status,
township, village ...), hold every item matching them in the list's order, and write the
list's columns (``WorkList.columns``): labels rather than codes, layers by their catalogue
names, the decision's reason, who decided (unverified actors marked), on whose behalf, when
(Beijing time, said in the header) and the version. The xlsx has a frozen header with an
autofilter, fitted column widths and a totals row in m², 亩 and ha
(:func:`gis.reports.tables.ledger_xlsx`). A file shows what its reader's role may see
(:mod:`gis.analysis.worklist_policy`): withheld columns are left out, outlines replaced.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gis.analysis import worklist_ops as ops
from gis.analysis.worklist import WorkList
from gis.analysis.worklist_policy import FULL, View
from gis.errors import InputError
from gis.messages import DEFAULT_LANG, Lang, Named, msg, text

#: Formats by file extension, with their media types.
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}


def require_format(fmt: str) -> None:
    if fmt not in MEDIA:
        formats = Named("、".join(sorted(MEDIA)), str(sorted(MEDIA)))
        raise InputError(msg("recon.export_formats", formats=formats, fmt=fmt))


def table(wl: WorkList, items: list[Any], lang: Lang, view: View = FULL
          ) -> tuple[list[str], list[str], list[list[Any]]]:
    """Headers, column kinds and rows of ``items`` in ``lang``, as ``view`` may see them."""
    columns = [c for c in wl.columns if view.shows(c.field)]
    items = view.items(items)
    headers = [text(c.header, lang) for c in columns]
    kinds = [c.kind for c in columns]
    rows = [[c.value(item, lang) for c in columns] for item in items]
    return headers, kinds, rows


def write_xlsx(wl: WorkList, items: list[Any], path: Path, lang: Lang,
               view: View = FULL) -> None:
    from gis.reports.tables import ledger_xlsx

    headers, kinds, rows = table(wl, items, lang, view)
    ledger_xlsx(headers, kinds, rows, text("worklist.sheet", lang),
                text("worklist.totals", lang, count=len(rows)), path)


def write_gpkg(wl: WorkList, items: list[Any], path: Path, lang: Lang,
               layer: str | None = None, extra: Mapping[str, list[Any]] | None = None,
               view: View = FULL) -> None:
    """The items as one GeoPackage layer (EPSG:4490) with the list's columns (times as
    Beijing-time text) and ``extra`` columns; appended when ``layer`` names a new layer of
    an existing file."""
    import geopandas as gpd
    from shapely.geometry import shape

    headers, kinds, rows = table(wl, items, lang, view)
    items = view.items(items)
    columns: dict[str, list[Any]] = {}
    for i, (header, kind) in enumerate(zip(headers, kinds, strict=True)):
        values = [row[i] for row in rows]
        if kind == "datetime":
            values = [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S") for v in values]
        columns[header] = values
    columns.update(extra or {})
    frame = gpd.GeoDataFrame(columns, geometry=[shape(i.geometry) for i in items],
                             crs="EPSG:4490")
    if layer is None and path.exists():
        path.unlink()
    frame.to_file(path, layer=layer or str(wl.items.name), driver="GPKG",
                  geometry_type="MultiPolygon", mode="a" if layer and path.exists() else "w")


def export(engine: Engine, wl: WorkList, path: str | Path, filters: Mapping[str, Any],
           lang: Lang = DEFAULT_LANG, view: View = FULL) -> str:
    """Write the items matching ``filters`` to ``path`` (.xlsx or .gpkg)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        raise InputError(msg("recon.export_format", suffix=target.suffix))
    items = ops.all_items(engine, wl, filters, with_geometry=suffix == ".gpkg")
    if suffix == ".xlsx":
        write_xlsx(wl, items, target, lang, view)
    else:
        write_gpkg(wl, items, target, lang, view=view)
    return str(target)


def export_bytes(engine: Engine, wl: WorkList, fmt: str, filters: Mapping[str, Any],
                 lang: Lang = DEFAULT_LANG, view: View = FULL) -> bytes:
    """The export as bytes (``fmt`` xlsx or gpkg), for a download."""
    require_format(fmt)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"worklist.{fmt}"
        export(engine, wl, path, filters, lang, view)
        return path.read_bytes()
