"""Forest and grassland of the samples: forest farm areas, parcel mosaics, shelterbelts.

A mosaic partitions a region into survey cells, splits them into forest and grass by a forest
outline, and groups cells into parcels (sub-compartments, grassland parcels) inset a metre
from their cells, so forest parcels never overlap each other and grassland parcels neither;
the planted overlaps are grown afterwards (``_planted``). Attributes come from ``_forest_attrs``.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import (
    COLLECTIVE,
    FARM_NAME,
    FOREST_CLASS_CODE,
    RESERVE_NAME,
    STATE,
    YYH_FARM,
    Cell,
    Owner,
    Parcel,
)
from gis.units import M2_PER_MU

#: Gap (m) between the parcels of one mosaic and the edge of their survey cells.
PARCEL_INSET_M = 1.0

# Forest farm management areas (001:238-246, 001:2585-2593): name, nominal 亩, centre, radius (m),
# stretch, angle, and the deviation of the mapped area from the nominal (all within 1%).
FARM_AREAS = (
    ("贺兰山生态修复项目绿化区", 10000.0, (106.3415, 39.0395), 1250.0, 1.55, 1.45, 0.0035),
    ("沟口生态林区", 12000.0, (106.3180, 38.9620), 1500.0, 1.30, 1.05, -0.0042),
    ("北武当林区", 2600.0, (106.3985, 39.1190), 700.0, 1.25, 0.40, 0.0061),
)


class ForestSteps:
    """The forest and grassland drawing steps of the sample builder (a mixin of
    ``Builder``): fill ``farm_areas``, ``mosaics``, ``parcels`` and the parcels' survey
    ``cells``, shelterbelts included."""

    def build_farm_areas(self) -> None:
        keep_clear = geo.union([self.udb_raw_m.buffer(300.0),
                                *(v["geom_m"].buffer(200.0) for v in self.villages.values())])
        for i, (name, mu, centre, radius, stretch, angle, dev) in enumerate(FARM_AREAS):
            cx, cy = geo.xy_m(*centre)
            shape_m = geo.blob(self.rng, cx, cy, radius, stretch=stretch, angle=angle,
                               roughness=0.15)
            target = mu * M2_PER_MU * (1 + dev)
            shape_m = geo.fit_area(shape_m, target)
            if not self.inner_m[places.DWK].contains(shape_m):
                raise RuntimeError(f"forest farm area {name} leaves the district")
            if shape_m.intersects(keep_clear):
                raise RuntimeError(f"forest farm area {name} runs into the city or a village")
            self.farm_areas.append({"area_code": f"{places.DWK}-LCGH-{i + 1:02d}",
                                    "farm_name": FARM_NAME, "area_name": name,
                                    "nominal_area_mu": mu, "geom_m": shape_m, "deviation": dev})

    def build_mosaics(self) -> None:
        dwk = self.inner_m[places.DWK]
        core = self.redline_by_name("贺兰山国家级自然保护区核心保护区")["geom_m"]
        clear = geo.union([self.udb_raw_m.buffer(300.0),
                           *(v["geom_m"].buffer(150.0) for v in self.villages.values())])
        fa = {a["area_name"]: a["geom_m"] for a in self.farm_areas}
        # Reserve: natural forest deep in the core zone.
        c = polylabel(core, tolerance=50.0)
        reserve = geo.blob(self.rng, c.x, c.y, 1150.0, stretch=1.6, angle=2.4)
        reserve = geo.largest_part(reserve.intersection(geo.inset(core, 400.0)))
        specs = [
            ("reserve", places.DWK, reserve, reserve, 6.5e4, 100),
        ]
        lobes = {"贺兰山生态修复项目绿化区": (0.0, -1.0, 850.0), "沟口生态林区": (1.0, 0.0, 900.0),
                 "北武当林区": (0.0, 0.0, 650.0)}
        start = {"贺兰山生态修复项目绿化区": 10, "沟口生态林区": 20, "北武当林区": 30}
        for name, area_m in fa.items():
            dx, dy, width = lobes[name]
            ring = area_m.buffer(width).difference(area_m)
            if dx or dy:
                c = area_m.centroid
                half = geo.rect(c.x + dx * 5000, c.y + dy * 5000, 10000, 10000)
                ring = ring.intersection(half)
            grass = geo.largest_part(ring.intersection(dwk).difference(clear)
                                     .difference(geo.union(fa.values()).buffer(300.0)
                                                 .difference(area_m.buffer(width))))
            grass = geo.largest_part(grass.difference(
                geo.union(v for k, v in fa.items() if k != name).buffer(300.0)))
            region = area_m.union(grass)
            specs.append((name, places.DWK, region, area_m, 7e4, start[name]))
        xstar = self.villages["640202100201"]["woodland_m"]
        specs.append(("woodland", places.DWK, xstar, xstar, 5e4, 40))
        yx, yy = geo.xy_m(106.620, 38.462)
        yyh = geo.blob(self.rng, yx, yy, 1700.0, stretch=1.3, angle=0.5)
        yyh = geo.largest_part(yyh.intersection(self.inner_m[places.XQ])
                               .difference(self.redline_raw_m.buffer(200.0)))
        west = geo.rect(yx - 5000 + 150, yy, 10000, 10000, 0.25)
        specs.append(("yueyahu", places.XQ, yyh, yyh.intersection(west), 7e4, 1))
        for name, county, region, forest, cell_m2, lin_ban0 in specs:
            self._mosaic(name, county, region, forest, cell_m2, lin_ban0)

    def _mosaic(self, name: str, county: str, region: BaseGeometry, forest: BaseGeometry,
                cell_m2: float, lin_ban0: int) -> None:
        rng = self.rng
        raw = geo.partition(region, rng, cell_m2)
        cells: list[tuple[str, BaseGeometry]] = []
        for cell in raw:
            f = geo.polygonal(cell.intersection(forest), 0.0)
            g = geo.polygonal(cell.difference(forest), 0.0)
            for kind, part in (("forest", f), ("grass", g)):
                for piece in shapely.get_parts(part):
                    if piece.area >= 400.0:
                        cells.append((kind, piece))
        order = geo.spatial_order([g for _, g in cells], band=600.0)
        cells = [cells[i] for i in order]
        groups = _group_cells(rng, cells)
        self.mosaics[name] = {"county": county, "region_m": region, "forest_m": forest,
                              "parcels": []}
        self.avoid_m.append(region.buffer(80.0))
        forest_groups = [g for g in groups if g["kind"] == "forest"]
        grass_groups = [g for g in groups if g["kind"] == "grass"]
        for kind, kind_groups in (("forest", forest_groups), ("grass", grass_groups)):
            for k, group in enumerate(kind_groups):
                geoms = [cells[i][1] for i in group["cells"]]
                terr = geo.union(geoms)
                if group["bare"]:
                    owner = self._mosaic_owner(name, county, terr)
                    code = "1207" if county == places.DWK else "0404"
                    for g in geoms:
                        self.cells.append(Cell(g, code, county, owner))
                    continue
                parcel_m = geo.inset(terr, PARCEL_INSET_M)
                parcel = Parcel(kind, county, name, terr, parcel_m, [])
                attrs = (self._forest_attrs(name, county, parcel, k, lin_ban0) if kind == "forest"
                         else self._grass_attrs(name, county, parcel))
                parcel.attrs = attrs
                owner = self._mosaic_owner(name, county, terr)
                code = (FOREST_CLASS_CODE[attrs["land_class"]] if kind == "forest"
                        else ("0401" if attrs["grass_class"] == "温性荒漠草原类" else "0404"))
                for g in geoms:
                    cell = Cell(g, code, county, owner)
                    parcel.cells.append(cell)
                    self.cells.append(cell)
                self.parcels.append(parcel)
                self.mosaics[name]["parcels"].append(parcel)

    def _mosaic_owner(self, mosaic: str, county: str, terr: BaseGeometry) -> Owner:
        where = self.where(geo.to_deg(terr.representative_point()))
        if mosaic == "woodland":
            v = self.villages[where["village_code"]]
            return Owner(v["village"].code + "0000000", "星海镇" + v["village"].name, COLLECTIVE)
        if mosaic == "yueyahu":
            return Owner(places.YUEYAHU.code + "0000000000", YYH_FARM, STATE)
        if mosaic == "reserve":
            return Owner(where["township_code"] + "0000000000", RESERVE_NAME, STATE)
        return Owner(where["township_code"] + "0000000000", FARM_NAME, STATE)

    def build_shelterbelts(self) -> None:
        """Village farmland shelterbelts (农田防护林): one parcel and one survey patch each."""
        by_village: dict[str, int] = {}
        for s in self.shelters:
            zone = s["zone"]
            village = self.villages[zone["village"]]
            n = by_village.get(zone["village"], 0)
            by_village[zone["village"]] = n + 1
            vname = village["village"].name
            owner = Owner(village["village"].code + "0000000", "星海镇" + vname
                          if zone["county"] == places.DWK else vname, COLLECTIVE)
            cell = Cell(s["geom_m"], "0301", zone["county"], owner)
            township = self.townships[zone["township"]]["name"]
            parcel = Parcel("forest", zone["county"], "shelterbelt", s["geom_m"],
                            geo.inset(s["geom_m"], PARCEL_INSET_M), [cell])
            year = int(self.rng.integers(2008, 2016))
            index = sorted(self.villages).index(zone["village"])
            parcel.attrs = {
                "lin_ban": f"{50 + index:03d}", "xiao_ban": f"{n + 1:03d}",
                "township": township, "village": vname, "land_class": "乔木林地",
                "forest_type": "防护林", "origin": "人工", "dominant_species": "杨树",
                "stand_age": 2023 - year, "forest_category": "public_welfare",
                "public_welfare_level": "local", "owner": f"{township}{vname}村民委员会",
                "certificate_status": "issued",
                "certificate_no": self._cert(
                    "宁(2019)大武口区不动产权" if zone["county"] == places.DWK
                    else "宁(2020)银川市不动产权"),
                "certificate_area_mu": None, "boundaries": "东至农田，西至农田，南至渠道，北至村道",
                "acquired_date": f"{year}-04-{int(self.rng.integers(1, 28)):02d}",
            }
            self.cells.append(cell)
            self.parcels.append(parcel)


def _group_cells(rng: np.random.Generator, cells: list[tuple[str, BaseGeometry]]) -> list[dict]:
    """Group survey cells into parcels: crumbs (< 0.6 ha) join their longest-shared neighbour
    of the same class, other cells sometimes pair up (a parcel stays below 18 ha); a crumb
    with no such neighbour stays a survey patch without parcel (``bare``)."""
    n = len(cells)
    tree = shapely.STRtree([g for _, g in cells])
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, (kind, g) in enumerate(cells):
        grown = g.buffer(0.5)
        for j in sorted(int(j) for j in tree.query(grown, predicate="intersects")):
            if j != i and cells[j][0] == kind:
                shared = grown.intersection(cells[j][1].buffer(0.5)).area
                if shared > 20.0:
                    neighbours[i].append((j, shared))
    group_of = list(range(n))
    members = {i: [i] for i in range(n)}

    def area(gid: int) -> float:
        return sum(cells[k][1].area for k in members[gid])

    def merge(a: int, b: int) -> None:
        ga, gb = group_of[a], group_of[b]
        if ga == gb:
            return
        for k in members[gb]:
            group_of[k] = ga
        members[ga].extend(members.pop(gb))

    bare = set()
    for i in sorted(range(n), key=lambda i: cells[i][1].area):
        if cells[i][1].area >= 6000.0 or len(members.get(group_of[i], [])) > 1:
            continue
        options = sorted(neighbours[i], key=lambda t: -t[1])
        if options:
            merge(options[0][0], i)
        else:
            bare.add(i)
    for i in range(n):
        if i in bare or len(members[group_of[i]]) > 1 or rng.random() > 0.35:
            continue
        for j, _ in sorted(neighbours[i], key=lambda t: -t[1]):
            if j in bare or len(members[group_of[j]]) > 1:
                continue
            if area(group_of[i]) + area(group_of[j]) <= 1.8e5:
                merge(i, j)
                break
    out = []
    for gid in sorted(members, key=lambda g: min(members[g])):
        ids = sorted(members[gid])
        out.append({"kind": cells[ids[0]][0], "cells": ids,
                    "bare": len(ids) == 1 and ids[0] in bare})
    return out
