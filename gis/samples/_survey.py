"""The land survey (三调) patches not drawn with another layer: fields, homesteads, water,
mines, and who owns them.

Forest and grassland cells come from the mosaics (``_forest``); this step adds one patch per
field block and residential zone, 星海湖, the Yellow River cut into reaches, and the mines.
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import COLLECTIVE, STATE, Block, Cell, Owner

#: 田坎 deduction coefficients (KCXS) of cultivated patches by slope grade (坡度级: 1 <= 2°,
#: 2 2-6°, 3 6-15°, 4 15-25°, 5 > 25°): illustrative, shaped like the third survey's county
#: tables, which rise with the slope (terraces take more of a sloping field).
TIANKAN_COEFFICIENTS = {1: 0.012, 2: 0.053, 3: 0.098, 4: 0.142, 5: 0.187}
#: The deducted class: 1203 田坎 (GB/T 21010).
TIANKAN = "1203"


def official_areas(code: str, slope_grade: int | None, tbmj: float) -> dict[str, object]:
    """A patch's survey area fields: KCDLBM, KCXS, KCMJ = TBMJ x KCXS and TBDLMJ = TBMJ -
    KCMJ, each area to 0.01 m² as the survey records them; only cultivated land (01) is
    deducted here."""
    if not code.startswith("01"):
        return {"deducted_class_code": None, "deduction_coefficient": 0.0,
                "deducted_area_m2": 0.0, "official_area_m2": tbmj}
    coefficient = TIANKAN_COEFFICIENTS[slope_grade or 1]
    kcmj = round(tbmj * coefficient, 2)
    return {"deducted_class_code": TIANKAN, "deduction_coefficient": coefficient,
            "deducted_area_m2": kcmj, "official_area_m2": round(tbmj - kcmj, 2)}


class SurveySteps:
    """The survey-patch steps of the sample builder (a mixin of ``Builder``): add the
    remaining survey ``cells`` (and ``mines_m``, which the land cover paints)."""

    def build_other_cells(self) -> None:
        for block in self.blocks:
            code = {"paddy": "0101", "irrigated": "0102", "dry": "0103"}[block.attrs["subclass"]]
            block.cell = Cell(block.geom_m, code, block.county, self._collective(block),
                              slope_grade=block.attrs.get("slope_grade"))
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
