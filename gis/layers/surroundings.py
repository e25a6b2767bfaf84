"""What lies around a footprint, for the report map: the district and township outlines and
the control lines inside the map's frame (clipped to it, simplified to what the printed map
can show), and the districts of the whole loaded region for the locator inset.

The report itself never queries the database (``gis.reports`` only draws what it is given);
this is the one query behind its map. Features are read from the catalogue's tables with
SQLAlchemy Core, each layer's style field kept so the map colours them as the portal does.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from pydantic import BaseModel
from shapely.geometry import shape
from sqlalchemy import Engine, func, literal, select

from gis.layers.catalogue import get_layer
from gis.layers.schema import table_for
from gis.layers.versions import version_condition

#: Control layers drawn around the footprint, bottom to top.
CONTROL_LAYERS = ("cultivated_land", "basic_farmland", "urban_boundary", "eco_redline")
#: Division levels outlined on the map (villages would crowd a printed page).
OUTLINED_LEVELS = ("district", "township")
#: Most features read per layer: a frame over a dense survey is capped, not slow.
MAX_FEATURES = 3000
#: The frame: the footprint's extent grown by this share on every side, and at least this
#: many metres across, so a small parcel is seen among its neighbours.
FRAME_MARGIN = 0.6
MIN_FRAME_M = 1500.0
#: Clipping runs this much wider than the frame, so clipped edges fall outside the picture.
CLIP_MARGIN = 0.05
#: Simplification tolerance: the frame's width over this (well under a printed pixel).
DETAIL = 1500.0
LOCATOR_TOLERANCE_DEG = 0.002
#: Metres per degree of latitude (near enough for a frame).
M_PER_DEG = 111_320.0


class MapFeature(BaseModel):
    """A feature to draw: its layer, the value of the layer's style field, a name, and its
    geometry as GeoJSON (EPSG:4490 lon/lat)."""

    layer: str
    value: str | None = None
    name: str | None = None
    geometry: dict[str, Any]


class MapContext(BaseModel):
    """The map's frame (min lon, min lat, max lon, max lat) and what is drawn in it."""

    frame: tuple[float, float, float, float]
    features: list[MapFeature]
    locator: list[MapFeature]


def map_frame(footprint: dict[str, Any]) -> tuple[float, float, float, float]:
    """The frame of a report map around ``footprint``: grown by :data:`FRAME_MARGIN`, at
    least :data:`MIN_FRAME_M` across, and square on the ground."""
    minx, miny, maxx, maxy = shape(footprint).bounds
    lat = (miny + maxy) / 2
    m_per_lon = M_PER_DEG * math.cos(math.radians(lat))
    width_m, height_m = (maxx - minx) * m_per_lon, (maxy - miny) * M_PER_DEG
    side = max(width_m, height_m) * (1 + 2 * FRAME_MARGIN)
    side = max(side, MIN_FRAME_M)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_lon, half_lat = side / 2 / m_per_lon, side / 2 / M_PER_DEG
    return (cx - half_lon, cy - half_lat, cx + half_lon, cy + half_lat)


def _features(conn: Any, layer_id: str, frame: tuple[float, float, float, float],
              version: int | None = None) -> list[MapFeature]:
    layer = get_layer(layer_id)
    table = table_for(layer)
    minx, miny, maxx, maxy = frame
    grow = (maxx - minx) * CLIP_MARGIN
    clip = func.ST_MakeEnvelope(minx - grow, miny - grow, maxx + grow, maxy + grow, 4490)
    tolerance = (maxx - minx) / DETAIL
    field = layer.style.field
    value = table.c[field] if field else literal(None)
    name = table.c["name"] if "name" in table.c else literal(None)
    geom = func.ST_AsGeoJSON(func.ST_Intersection(
        func.ST_SimplifyPreserveTopology(table.c.geom, tolerance), clip), 7)
    query = (select(value.label("value"), name.label("name"), geom.label("geometry"))
             .where(func.ST_Intersects(table.c.geom, clip),
                    # one version of a control line: the run's, else the one in force today
                    version_condition(layer, version))
             .limit(MAX_FEATURES))
    if layer_id == "admin_divisions":
        query = query.where(table.c.level.in_(OUTLINED_LEVELS))
    return [_feature(layer_id, row) for row in conn.execute(query)]


def _feature(layer_id: str, row: Any) -> MapFeature:
    import json

    return MapFeature(layer=layer_id, value=None if row.value is None else str(row.value),
                      name=row.name, geometry=json.loads(row.geometry))


def map_context(engine: Engine, footprint: dict[str, Any],
                versions: dict[str, int] | None = None) -> MapContext:
    """Everything the report map draws besides the run itself: the control lines in the
    versions the run was checked against (``versions``: layer id to version number; a line
    not named there in the version in force today), never two versions of one line."""
    versions = versions or {}
    frame = map_frame(footprint)
    divisions = table_for(get_layer("admin_divisions"))
    with engine.connect() as conn:
        features = [f for layer_id in (*CONTROL_LAYERS, "admin_divisions")
                    for f in _features(conn, layer_id, frame, versions.get(layer_id))]
        locator = conn.execute(
            select(divisions.c.level.label("value"), divisions.c.name.label("name"),
                   func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(
                       divisions.c.geom, LOCATOR_TOLERANCE_DEG), 5).label("geometry"))
            .where(divisions.c.level == "district").limit(200)).all()
    features = [f for f in features if not shapely.is_empty(shape(f.geometry))]
    return MapContext(frame=frame, features=features,
                      locator=[_feature("admin_divisions", row) for row in locator])
