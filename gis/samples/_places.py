"""Names, codes and anchor coordinates of the sample one-map (EPSG:4490 lon/lat).

The two district outlines are real (see ``boundaries.geojson``); the townships, villages and
everything drawn inside them are generated around the anchors below, which only put things
roughly where they are (Helan Mountain along Dawukou's south-western border, the city at the
mountain front, 星海镇 on the plain to the south-east; Yinchuan's Xingqing city in the west of
兴庆区, the Yellow River across its east with 月牙湖乡 on the far bank). Township and village
codes follow the 9- and 12-digit statistical-division pattern but are illustrative.

Village categories (the five types of 000:842-852 and 001:1132-1136): Xingqing's seed names one
village of three types, 镇河村 集聚提升, 月牙湖村 整治改善 and 塔桥村 搬迁撤并 (000:848-852),
and the samples follow it (``category_source``). Dawukou's seed lists the five types for its 8
villages (潮湖村、果园村等, 001:1132-1136) without saying which is which, so the categories of
its villages are illustrative (``category_source`` None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DWK = "640202"  # 大武口区
XQ = "640104"  # 兴庆区


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    seeds: tuple[tuple[float, float], ...]  # Voronoi seeds (lon, lat)


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    category: str
    resettled: bool
    planned_construction_m2: float
    share: float  # flexible quota / planned construction
    approved: str  # approval date, ISO
    woodland: bool = False  # has a collective-forest block (forest one-map situations)
    category_source: str | None = None  # seed:lines naming the category; None: illustrative


@dataclass(frozen=True)
class VillageCluster:
    township: str
    centre: tuple[float, float]
    radius_m: float
    stretch: float
    angle: float
    villages: tuple[Village, ...]
    grid_angle_deg: float = 12.0


@dataclass(frozen=True)
class District:
    code: str
    name: str
    townships: tuple[Township, ...]
    clusters: tuple[VillageCluster, ...] = field(default_factory=tuple)


TOWNSHIPS_DWK = (
    Township("640202001", "长胜街道", ((106.395, 38.998), (106.372, 38.962))),
    Township("640202002", "长兴街道", ((106.395, 39.050), (106.410, 39.085))),
    Township("640202003", "沟口街道", ((106.300, 38.960), (106.325, 38.905), (106.260, 39.010),
                                     (106.330, 39.040))),
    Township("640202004", "石炭井街道", ((106.380, 39.215), (106.330, 39.170), (106.450, 39.250),
                                      (106.400, 39.140))),
    Township("640202005", "白芨沟街道", ((106.150, 39.085), (106.200, 39.045), (106.240, 39.100))),
    Township("640202100", "星海镇", ((106.445, 38.960), (106.460, 39.015), (106.405, 38.925),
                                   (106.380, 38.895))),
)

TOWNSHIPS_XQ = (
    Township("640104001", "凤凰北街街道", ((106.285, 38.490), (106.270, 38.470))),
    Township("640104002", "丽景街街道", ((106.310, 38.425), (106.330, 38.455))),
    Township("640104100", "掌政镇", ((106.420, 38.480), (106.470, 38.470), (106.390, 38.500))),
    Township("640104101", "大新镇", ((106.370, 38.410), (106.395, 38.360))),
    Township("640104200", "通贵乡", ((106.450, 38.400), (106.440, 38.330))),
)
#: East of the Yellow River: the whole far bank is 月牙湖乡.
YUEYAHU = Township("640104201", "月牙湖乡", ())

CLUSTERS_DWK = (
    VillageCluster(
        "640202100", (106.418, 38.938), 2600.0, 1.35, 0.85,
        (
            Village("640202100201", "星光村", "agglomeration", True, 420000.0, 0.06, "2021-12-20",
                    woodland=True),
            Village("640202100202", "隆惠村", "agglomeration", True, 380000.0, 0.03, "2021-12-20"),
            Village("640202100203", "果园村", "suburban", True, 300000.0, 0.07, "2021-12-20"),
            Village("640202100204", "星海村", "agglomeration", True, 360000.0, 0.05, "2022-03-15"),
            Village("640202100205", "临湖村", "suburban", True, 300000.0, 0.08, "2022-03-15"),
            Village("640202100206", "祥和村", "improvement", True, 250000.0, 0.0498, "2022-03-15"),
            Village("640202100207", "富民村", "improvement", True, 280000.0, 0.065, "2022-03-15"),
        ),
        grid_angle_deg=14.0,
    ),
    VillageCluster(
        "640202001", (106.374, 38.962), 1100.0, 1.1, 0.2,
        (Village("640202001201", "潮湖村", "suburban", True, 520000.0, 0.075, "2021-11-30"),),
        grid_angle_deg=8.0,
    ),
)

CLUSTERS_XQ = (
    VillageCluster(
        "640104201", (106.592, 38.528), 2500.0, 0.9, 1.1,
        (
            # 000:848-852: 镇河村等 9个行政村 集聚提升, 月牙湖村等 16个 整治改善, 塔桥村等 14个
            # 搬迁撤并.
            Village("640104201201", "镇河村", "agglomeration", False, 240000.0, 0.06,
                    "2021-09-28", category_source="000:848-852"),
            Village("640104201202", "月牙湖村", "improvement", False, 310000.0, 0.04,
                    "2021-09-28", category_source="000:848-852"),
            Village("640104201203", "塔桥村", "relocation", False, 120000.0, 0.05, "2021-09-28",
                    category_source="000:848-852"),
        ),
        grid_angle_deg=20.0,
    ),
)

DISTRICTS = {
    DWK: District(DWK, "大武口区", TOWNSHIPS_DWK, CLUSTERS_DWK),
    XQ: District(XQ, "兴庆区", (*TOWNSHIPS_XQ, YUEYAHU), CLUSTERS_XQ),
}

# --- Landforms ----------------------------------------------------------------------------------

#: The Helan Mountain crest along Dawukou's south-western border (the Inner Mongolia line).
HELAN_RIDGE = ((106.085, 39.085), (106.150, 39.020), (106.230, 38.960), (106.290, 38.905),
               (106.350, 38.858))
#: The mountain front: Helan Mountain to the west and north of it, the plain to the east.
HELAN_FRONT = ((106.352, 38.850), (106.356, 38.930), (106.364, 38.990), (106.366, 39.060),
               (106.384, 39.100), (106.420, 39.128), (106.520, 39.150))
#: Closes the front into the mountain polygon (far side of the border, outside both districts).
HELAN_FRONT_CLOSE = ((106.600, 39.400), (106.000, 39.400), (106.000, 38.800), (106.352, 38.800))

#: The Yellow River through Xingqing, south to north (its centre line).
YELLOW_RIVER = ((106.444, 38.270), (106.452, 38.340), (106.470, 38.400), (106.490, 38.450),
                (106.512, 38.500), (106.531, 38.540), (106.533, 38.580), (106.545, 38.620),
                (106.578, 38.670))
#: Closes the river line into the far-bank polygon (月牙湖乡).
RIVER_EAST_CLOSE = ((106.800, 38.670), (106.800, 38.270))

#: 星海湖: a lake on the city's east side, within the urban boundary's special-use zone.
XINGHAI_LAKE = (106.418, 39.018)

#: Coal-mining sites in the northern mountains (existing construction land in both years).
MINES = ((106.352, 39.198, 600.0), (106.405, 39.232, 450.0), (106.178, 39.070, 500.0))
