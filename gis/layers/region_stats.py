"""Statistics by region (issue 23): how much of a layer lies in each district, township or
village, per class of one of its fields, the "分区统计" of the provincial one-map systems.

Areas are the ellipsoidal areas (CGCS2000/GRS80, ``ST_Area(geography, true)``) of the parts of
the features inside each region, so a feature across a boundary counts in both regions with
its part in each. Where the layer carries the survey's official class area (三调
``official_area_m2``, TBDLMJ: the patch area less the deducted field ridges, issue 14), that is
the figure a land survey statistic must report: it is shared out to the regions in proportion
to the part of the patch in each (patches are cut at village boundaries, so in practice a
patch's whole official area goes to its village).

The statement is composed with SQLAlchemy Core over the layer tables (SQL policy).
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from gis.errors import InputError
from gis.layers.catalogue import Layer, get_layer
from gis.layers.schema import table_for
from gis.layers.versions import version_condition
from gis.messages import Joined, msg
from gis.units import Area

Level = Literal["district", "township", "village"]
LEVELS: tuple[str, ...] = ("district", "township", "village")
#: The field of a survey layer holding the official class area (issue 14).
OFFICIAL_FIELD = "official_area_m2"


class RegionClassArea(BaseModel):
    """One region and class: how many features touch it and the area inside it."""

    region_code: str
    region_name: str
    value: str | None  # the class (the field's value); None without a class field
    count: int
    area_m2: float
    area_mu: float
    area_ha: float
    #: The survey's official class area shared to the region (layers that carry one).
    official_area_m2: float | None = None


def check(layer: Layer, field: str | None, level: str, within: str | None) -> None:
    """Refuse a field the layer does not have, an unknown level or a malformed division."""
    if field is not None and field not in layer.field_names:
        raise InputError(msg("region_stats.unknown_field", field=field, layer=layer.id,
                             fields=Joined.of(layer.field_names)))
    if level not in LEVELS:
        raise InputError(msg("region_stats.unknown_level", level=level,
                             levels=Joined.of(LEVELS)))
    if within is not None and (not within.isdigit() or len(within) > 12):
        raise InputError(msg("region_stats.bad_division", division=within))


def region_stats(engine: Engine, layer: Layer, field: str | None, level: str = "township",
                 within: str | None = None) -> list[RegionClassArea]:
    """Areas of ``layer`` per region of ``level`` (under the division code prefix ``within``)
    and per value of ``field``, ordered by region code and class."""
    check(layer, field, level, within)
    features = table_for(layer)
    regions = table_for(get_layer("admin_divisions")).alias("region")
    part = sa.func.ST_Area(sa.func.geography(
        sa.func.ST_Intersection(features.c.geom, regions.c.geom)), True)
    whole = sa.func.ST_Area(sa.func.geography(features.c.geom), True)
    value = (sa.cast(features.c[field], sa.Text) if field else sa.null()).label("value")
    columns = [regions.c.code, sa.func.min(regions.c.name).label("name"), value,
               sa.func.count(features.c.id).label("count"), sa.func.sum(part).label("area")]
    official = OFFICIAL_FIELD in layer.field_names
    if official:
        columns.append(sa.func.sum(
            features.c[OFFICIAL_FIELD] * part / sa.func.nullif(whole, 0)).label("official"))
    joined = features.join(regions, sa.and_(
        sa.func.ST_Intersects(features.c.geom, regions.c.geom),
        sa.not_(sa.func.ST_Touches(features.c.geom, regions.c.geom))))
    keys = [regions.c.code, *([value] if field else [])]
    # a control line counts in its version in force today only (never two versions summed)
    query = (sa.select(*columns).select_from(joined)
             .where(regions.c.level == level, version_condition(layer))
             .group_by(*keys).order_by(*keys))
    if within:
        query = query.where(regions.c.code.startswith(within, autoescape=True))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        area = Area(float(row.area or 0))
        out.append(RegionClassArea(
            region_code=row.code, region_name=row.name, value=row.value, count=row.count,
            area_m2=round(area.m2, 2), area_mu=round(area.mu, 2), area_ha=round(area.ha, 4),
            official_area_m2=(round(float(row.official or 0), 2) if official else None)))
    return out
