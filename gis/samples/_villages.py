"""Village plans of the samples: settlements laid out as plan zones, a collective woodland,
the flexible-quota ledger, and the township plans' figures.

Each village's settlement is a residential block and a row of commercial, green and reserved
(留白, the flexible quota) zones whose areas are fitted exactly to the plan's figures, so the
quota shares planted in ``_places`` are what the analyses measure.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.ops import polylabel

from gis.samples import _geo as geo
from gis.samples import _places as places

#: Township plans (乡级国土空间规划) of the towns (镇/乡; streets have none): planned
#: construction land (m²) and the share of it reserved as an indicator. Dawukou asks for no
#: less than 10% (001:1142-1144): 星海镇 is planted below it; Xingqing has no township rule.
TOWNSHIP_PLANS = {
    "640202100": (3_150_000.0, 0.092, "2021-09-30"),
    "640104100": (4_800_000.0, 0.12, "2022-03-15"),
    "640104101": (2_650_000.0, 0.06, "2022-03-15"),
    "640104201": (1_920_000.0, 0.10, "2021-12-20"),
}


class VillageSteps:
    """The village-plan steps of the sample builder (a mixin of ``Builder``): add each
    village's plan ``zones``, settlement and quota figures (and ``woodland_m`` where flagged)
    to its record in ``villages``, and the historical draws to ``ledger``."""

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
