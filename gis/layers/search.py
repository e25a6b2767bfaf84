"""Find features by name or number: the viewer's search, over the layers a caller may read.

Searching the large layers (survey patches, forest sub-compartments) has to happen in the
database; a browser only ever holds what is on screen. Which layers are searched, in which
order, and what a hit is called come from the catalogue (``search`` of each layer): a hit's
label is built from the label parts, and the same label is what the query is matched against
(case-insensitive substring), so a user finds a parcel by anything they see in its label.
The statement is composed with SQLAlchemy Core from the catalogue's table objects; the query
text is a bound parameter with its LIKE wildcards escaped. A control line is searched in its
version in force today, as the map shows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Engine

from gis.errors import InvalidParameter
from gis.layers.catalogue import Layer, LayerSearch
from gis.layers.schema import table_for
from gis.layers.versions import version_condition
from gis.messages import msg

#: Most hits per layer a caller may ask for.
MAX_LIMIT = 50


class SearchHit(BaseModel):
    """One feature found: where it is (lon/lat bbox, geometry in EPSG:4490) and its label."""

    layer: str
    id: int
    label: str
    area_m2: float
    bbox: list[float]
    geometry: dict[str, Any]


def searched_layers(layers: Iterable[Layer]) -> list[Layer]:
    """The searchable ones among ``layers``, in the catalogue's search rank (villages first)."""
    found = [layer for layer in layers if layer.search is not None]
    return sorted(found, key=lambda layer: layer.search.rank)  # type: ignore[union-attr]


def label_expression(table: sa.Table, search: LayerSearch) -> sa.ColumnElement[str]:
    """``coalesce(prefix || field || suffix, '') || ...``: a part with an empty field
    disappears with its separator, and the label itself is never NULL."""
    parts = [sa.func.coalesce(sa.literal(part.prefix, sa.Text) + table.c[part.field]
                              + sa.literal(part.suffix, sa.Text), sa.literal("", sa.Text))
             for part in search.parts]
    label = parts[0]
    for part in parts[1:]:
        label = label + part
    return label


def _escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _statement(layer: Layer, pattern: str, limit: int) -> sa.Select[Any]:
    table = table_for(layer)
    label = label_expression(table, layer.search)  # type: ignore[arg-type]
    geom = table.c.geom
    return (sa.select(table.c.id, label.label("label"), table.c.area_m2,
                      sa.func.ST_XMin(geom).label("x0"), sa.func.ST_YMin(geom).label("y0"),
                      sa.func.ST_XMax(geom).label("x1"), sa.func.ST_YMax(geom).label("y1"),
                      sa.func.ST_AsGeoJSON(geom, 7).label("geojson"))
            .where(label.ilike(pattern, escape="\\"), version_condition(layer))
            .order_by(sa.func.length(label), table.c.id)
            .limit(limit))


def search_features(engine: Engine, q: str, layers: Iterable[Layer], limit: int = 8
                    ) -> list[SearchHit]:
    """Features of the searchable ``layers`` whose label contains ``q`` (case-insensitive),
    at most ``limit`` per layer, layers in search rank, each layer's shortest labels first.

    ``layers`` are those the caller may read: the caller decides, this only searches.
    """
    text = q.strip()
    if not text:
        raise InvalidParameter(msg("search.empty"), parameter="q")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(msg("search.bad_limit", max=MAX_LIMIT), parameter="limit")
    pattern = f"%{_escape_like(text)}%"
    hits: list[SearchHit] = []
    with engine.connect() as conn:
        for layer in searched_layers(layers):
            for row in conn.execute(_statement(layer, pattern, limit)):
                hits.append(SearchHit(layer=layer.id, id=row.id, label=row.label,
                                      area_m2=row.area_m2, bbox=[row.x0, row.y0, row.x1, row.y1],
                                      geometry=json.loads(row.geojson)))
    return hits
