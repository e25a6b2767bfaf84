"""The sample projects (建设项目) for the siting check: one per situation the check decides.

Each footprint is placed where its situation holds (the red line's core or general zone, a
designated or a plain field block, the centralized construction zone, a road across the
mountains, temporary land in the wetland) and away from everything drawn before, so it
overlaps exactly what it was planted to overlap (checked in ``_truth_planning``).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import RESERVE_OWNER, Block


class ProjectSteps:
    """The project steps of the sample builder (a mixin of ``Builder``): fill ``projects``
    (each footprint in metres and in EPSG:4490) and keep ``block_designated``."""

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
                "geom": geo.checked(geo.to_deg(geom_m), "project"),
            })
            self.avoid_m.append(geom_m.buffer(150.0))

    def _river_angle_near(self, area: BaseGeometry) -> float:
        c = area.centroid
        d = self.river_m.project(c)
        a, b = self.river_m.interpolate(d - 200.0), self.river_m.interpolate(d + 200.0)
        return float(np.arctan2(b.y - a.y, b.x - a.x))
