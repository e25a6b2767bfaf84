"""The ecological protection red line and the urban development boundary of the samples.

The red line follows the Helan Mountains (core and general zones of the nature reserve, a
sand-fixing area in the north) and the Yellow River wetland and 月牙湖 sands in Xingqing; the
urban development boundary's three zones keep clear of villages and the red line, so the only
three-line conflicts are the ones farmland planting puts there (``_farmland``).
"""

from __future__ import annotations

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import RESERVE_NAME


class ControlLineSteps:
    """The red-line and boundary steps of the sample builder (a mixin of ``Builder``): fill
    ``redline`` and ``udb`` (drawn in metres) and keep the landmarks later steps draw against
    (``mountain_m``, ``ridge_m``, ``front_m``, ``river_m``, ``lake_m``)."""

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
