"""Cultivated land and permanent basic farmland of the samples: field blocks on turned grids.

Blocks are drawn over each village's farmland and a few township farm zones; blocks touching
the red line or the urban development boundary are dropped except the two planted across them
(the three-line conflicts TL-01 and TL-02), so those are the only overlaps.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import Block


class FarmlandSteps:
    """The farmland steps of the sample builder (a mixin of ``Builder``): fill ``blocks``
    (attributes, designation) and ``shelters``, and name the blocks later steps need: the
    planted conflicts ``tl_udb`` and ``tl_red``, and the plain ``block_cultivated_only``."""

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
