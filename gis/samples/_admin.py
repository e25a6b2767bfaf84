"""Administrative divisions of the samples, and the lookup of what lies where.

The district outlines are real (``boundaries.geojson``); townships are cut from them by seeded
Voronoi cells around hand-placed seeds (``_places``), villages are drawn in clusters inside
their township. ``where`` answers, for any later step, which township and village a point is in.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import Feature


def _lonlat_poly(points: Iterable[tuple[float, float]]) -> shapely.Polygon:
    return shapely.Polygon(list(points))


class AdminSteps:
    """The division steps of the sample builder (a mixin of ``Builder``): fill ``townships``,
    ``villages`` and the ``admin_divisions`` rows from the outlines in ``district``;
    ``build_lookup`` then orders them for ``where``."""

    def build_admin(self) -> None:
        for code, district in places.DISTRICTS.items():
            outline = self.district[code]
            props = self.district_props[code]
            self.layers["admin_divisions"].append(Feature(
                {"code": code, "name": props["name"], "level": "district",
                 "parent_code": props["parent_code"]}, geo.as_multi(outline)))
            rest = outline
            townships = list(district.townships)
            if code == places.XQ:
                far_bank = _lonlat_poly([*places.YELLOW_RIVER, *places.RIVER_EAST_CLOSE])
                self._add_township(code, places.YUEYAHU, outline.intersection(far_bank))
                rest = outline.difference(far_bank)
                townships = [t for t in townships if t.code != places.YUEYAHU.code]
            seeds = [(t, geo.xy_m(*s)) for t in townships for s in t.seeds]
            big = geo.to_m(outline).buffer(20000).envelope
            cells = geo.voronoi_cells(big, np.array([xy for _, xy in seeds]))
            pieces: dict[str, list[BaseGeometry]] = {}
            for (township, _), cell in zip(seeds, cells, strict=True):
                pieces.setdefault(township.code, []).append(geo.to_deg(cell).intersection(rest))
            for township in townships:
                self._add_township(code, township, geo.union(pieces[township.code]))
            for cluster in district.clusters:
                self._add_villages(code, cluster)

    def _add_township(self, county: str, township: places.Township, geom: BaseGeometry) -> None:
        geom = geo.as_multi(_polygonal_deg(geom))
        self.townships[township.code] = {"code": township.code, "name": township.name,
                                         "county": county, "geom": geom,
                                         "geom_m": geo.to_m(geom)}
        self.layers["admin_divisions"].append(Feature(
            {"code": township.code, "name": township.name, "level": "township",
             "parent_code": county}, geom))

    def _add_villages(self, county: str, cluster: places.VillageCluster) -> None:
        township = self.townships[cluster.township]
        cx, cy = geo.xy_m(*cluster.centre)
        region = geo.blob(self.rng, cx, cy, cluster.radius_m, stretch=cluster.stretch,
                          angle=cluster.angle, roughness=0.12)
        region = geo.largest_part(region.intersection(geo.inset(township["geom_m"], 60.0)))
        n = len(cluster.villages)
        if n == 1:
            cells = [region]
        else:
            seeds = geo.balanced_seeds(self.rng, region, n)
            cells = geo.voronoi_cells(region, seeds)
            cells = [cells[i] for i in geo.spatial_order(cells, band=cluster.radius_m * 0.6)]
        for village, cell in zip(cluster.villages, cells, strict=True):
            geom = geo.as_multi(_polygonal_deg(geo.to_deg(cell).intersection(township["geom"])))
            self.villages[village.code] = {
                "village": village, "county": county, "township": cluster.township,
                "geom": geom, "geom_m": geo.to_m(geom), "grid_angle": cluster.grid_angle_deg,
            }
            self.layers["admin_divisions"].append(Feature(
                {"code": village.code, "name": village.name, "level": "village",
                 "parent_code": cluster.township}, geom))

    def build_lookup(self) -> None:
        self._village_items = sorted(self.villages.items())
        self._township_items = sorted(self.townships.items())

    def where(self, point_deg: BaseGeometry) -> dict:
        """Administrative township and village (if any) at a point (EPSG:4490)."""
        out: dict = {"township_code": None, "township_name": None, "village_code": None,
                     "village_name": None}
        for code, t in self._township_items:
            if t["geom"].covers(point_deg):
                out.update(township_code=code, township_name=t["name"])
                break
        for code, v in self._village_items:
            if v["geom"].covers(point_deg):
                out.update(village_code=code, village_name=v["village"].name)
                break
        return out

    def township_at(self, point_deg: BaseGeometry) -> str:
        code = self.where(point_deg)["township_code"]
        if code is None:
            raise RuntimeError(f"no township at {point_deg}")
        return code


def _polygonal_deg(geom: BaseGeometry) -> BaseGeometry:
    """Polygon parts of a lon/lat geometry (crumbs below ~1 m² dropped)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1e-10]
    for p in shapely.get_parts(geom):
        if p.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(shapely.get_parts(_polygonal_deg(p)))
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
