"""Intermediate records of the sample generator (before they become layer rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

#: GB/T 21010 (三调 working classification) codes used by the samples.
LAND_USE = {
    "0101": "水田",
    "0102": "水浇地",
    "0103": "旱地",
    "0301": "乔木林地",
    "0305": "灌木林地",
    "0307": "其他林地",
    "0401": "天然牧草地",
    "0404": "其他草地",
    "0602": "采矿用地",
    "0702": "农村宅基地",
    "1101": "河流水面",
    "1102": "湖泊水面",
    "1207": "裸岩石砾地",
}
FOREST_CODES = ("0301", "0305", "0307")
GRASS_CODES = ("0401", "0404")
FOREST_CLASS_CODE = {"乔木林地": "0301", "灌木林地": "0305", "疏林地": "0307"}

#: 国土空间调查、规划、用途管制用地用海分类 codes used by the village plans.
PLAN_USE = {
    "01": ("耕地", False),
    "0703": ("农村宅基地", True),
    "09": ("商业服务业用地", True),
    "1401": ("公园绿地", True),
    "16": ("留白用地(机动指标)", True),
}

#: The forest survey's minimum mapping unit (0.067 ha): overlaps below it are slivers (noise).
SLIVER_M2 = 670.0
#: Overlaps below this are floating-point noise along shared edges, not overlaps at all.
NOISE_M2 = 1.0
#: The GeoPackage table of draws on village flexible quotas.
QUOTA_LEDGER = "quota_ledger"
#: The catalogue layers the samples hold, in the order they are written to the GeoPackage.
LAYER_IDS = (
    "admin_divisions", "eco_redline", "basic_farmland", "cultivated_land", "urban_boundary",
    "village_plans", "village_plan_zones", "forest_parcels", "grassland_parcels",
    "survey_patches", "forest_farm_areas", "projects", "township_plans",
)

FARM_NAME = "大武口区贺兰山林场"
RESERVE_NAME = "宁夏贺兰山国家级自然保护区"
RESERVE_OWNER = "宁夏贺兰山国家级自然保护区管理局"
YYH_FARM = "兴庆区月牙湖治沙林场"

STATE = "10"  # 国有土地所有权
COLLECTIVE = "30"  # 集体土地所有权


@dataclass
class Owner:
    code: str
    name: str
    kind: str  # STATE | COLLECTIVE


@dataclass
class Cell:
    """A future survey patch (三调图斑)."""

    geom_m: BaseGeometry
    code: str
    county: str
    owner: Owner
    geom: BaseGeometry | None = None  # EPSG:4490
    patch_no: str | None = None
    #: The field block's slope grade (坡度级 1-5) of a cultivated patch: its 田坎 deduction.
    slope_grade: int | None = None


@dataclass
class Parcel:
    """A forest sub-compartment or grassland parcel while it is being drawn."""

    kind: str  # forest | grass
    county: str
    mosaic: str
    terr_m: BaseGeometry  # its survey cells together (the parcel's "territory")
    geom_m: BaseGeometry
    cells: list[Cell]
    attrs: dict = field(default_factory=dict)
    geom: BaseGeometry | None = None  # EPSG:4490

    @property
    def key(self) -> dict:
        if self.kind == "forest":
            return {"county_code": self.county, "lin_ban": self.attrs["lin_ban"],
                    "xiao_ban": self.attrs["xiao_ban"]}
        return {"parcel_no": self.attrs["parcel_no"]}

    @property
    def label(self) -> str:
        if self.kind == "forest":
            return f"{self.county}/{self.attrs['lin_ban']}/{self.attrs['xiao_ban']}"
        return self.attrs["parcel_no"]


@dataclass
class Block:
    """A cultivated field block (one survey patch, one cultivated-land patch)."""

    geom_m: BaseGeometry
    county: str
    township: str  # code
    village: str | None  # code
    zone: str
    angle: float
    attrs: dict = field(default_factory=dict)
    designated: bool = False
    cell: Cell | None = None
    geom: BaseGeometry | None = None


@dataclass
class Feature:
    """One row of a sample layer: attributes by catalogue field name, EPSG:4490 geometry."""

    attrs: dict
    geom: BaseGeometry
