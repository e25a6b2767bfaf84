"""The attribute table's selection as a file (issue 23): every feature of a layer that the
table's CQL2 filter selects, as an xlsx ledger (the table's columns and texts: field titles,
coded values by their labels, areas in m², 亩 and ha, a totals row) or as a GeoPackage (the
geometries in EPSG:4490, the storage CRS, with the fields' own names and values for GIS use).

The features are read through the OGC items query (:func:`gis.ogc.items.fetch_items`), the
same the table pages through, so the file holds exactly the rows the table lists, filter,
order and all; the portal's words (titles, labels) are passed in by the caller.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from gis.errors import InputError
from gis.layers.catalogue import Layer
from gis.messages import Lang, msg, text
from gis.ogc.items import MAX_LIMIT, ItemsQuery, fetch_items
from gis.reports.tables import ledger_xlsx
from gis.units import Area

#: At most this many features in one export: a bigger selection is a bulk download, which
#: ``gis export`` and the OGC items paging serve better than a spreadsheet.
MAX_EXPORT_FEATURES = 50_000


def select_all(engine: Engine, query: ItemsQuery,
               max_features: int = MAX_EXPORT_FEATURES) -> list[dict[str, Any]]:
    """Every feature the query selects (all pages), as GeoJSON dicts in the query's order."""
    features: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = fetch_items(engine, replace(query, limit=MAX_LIMIT, offset=offset))
        if offset == 0 and page.matched_exact and page.number_matched > max_features:
            raise InputError(msg("selection.too_many", count=page.number_matched,
                                 limit=max_features))
        features += [json.loads(f) for f in page.features]
        if len(page.features) < MAX_LIMIT:
            return features
        offset += MAX_LIMIT
        if len(features) > max_features:
            raise InputError(msg("selection.too_many", count=len(features), limit=max_features))


def table_rows(layer: Layer, features: list[dict[str, Any]], lang: Lang,
               coded: Mapping[str, Mapping[str, str]]) -> tuple[list[str], list[str],
                                                                list[list[Any]]]:
    """Headers, column kinds and rows of the table: id, each catalogue field (coded values
    by label), the area in m², 亩 and ha."""
    headers = [text("selection.id", lang)]
    headers += [f.zh if lang == "zh" else f.en for f in layer.fields]
    headers += [text("selection.area_m2", lang), text("selection.area_mu", lang),
                text("selection.area_ha", lang)]
    kinds = ["int", *("text" for _ in layer.fields), "m2", "mu", "ha"]
    rows = []
    for feature in features:
        props = feature.get("properties") or {}
        row: list[Any] = [feature.get("id")]
        for f in layer.fields:
            value = props.get(f.name)
            labels = coded.get(f.name) or {}
            if value is not None and str(value) in labels:
                value = labels[str(value)]
            elif isinstance(value, bool):
                value = text("selection.yes" if value else "selection.no", lang)
            row.append(value)
        m2 = props.get("area_m2")
        area = Area(float(m2)) if m2 is not None else None
        row += [round(area.m2, 2) if area else None, round(area.mu, 2) if area else None,
                round(area.ha, 4) if area else None]
        rows.append(row)
    return headers, kinds, rows


def selection_xlsx(layer: Layer, features: list[dict[str, Any]], lang: Lang,
                   coded: Mapping[str, Mapping[str, str]]) -> bytes:
    headers, kinds, rows = table_rows(layer, features, lang, coded)
    title = layer.zh if lang == "zh" else layer.en
    return ledger_xlsx(headers, kinds, rows, title, text("selection.totals", lang))


def selection_gpkg(layer: Layer, features: list[dict[str, Any]]) -> bytes:
    """A GeoPackage of the features, one layer named after the catalogue layer, EPSG:4490
    (the items are read in CRS84, whose coordinates are CGCS2000's: no datum shift)."""
    import geopandas as gpd

    names = ["id", *layer.field_names, "area_m2"]
    frame = gpd.GeoDataFrame.from_features(
        [{**f, "properties": {"id": f.get("id"), **{n: (f.get("properties") or {}).get(n)
                                                   for n in names[1:]}}} for f in features],
        crs="EPSG:4490", columns=[*names, "geometry"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer.id}.gpkg"
        frame.to_file(path, driver="GPKG", layer=layer.id)
        return path.read_bytes()
