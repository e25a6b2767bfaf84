"""Small builders of realistic source files for load/export tests.

Everything sits around Dawukou district (大武口区, Shizuishan, XZQDM 640202) at about
106.3E 39.0N. Parcels are axis-aligned lon/lat rectangles of a few hectares laid out on a
grid with gaps, so they never overlap. Geometries are built in EPSG:4490 (CGCS2000 lon/lat)
and transformed with geopandas when a frame is requested in another CRS; ``lonlat_geoms``
gives the untransformed originals to compare against.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pyproj
import shapely
from shapely.geometry import Polygon, box

from gis.units import geodesic_area

#: South-west corner of the grid (near Dawukou, Shizuishan).
ORIGIN_LON, ORIGIN_LAT = 106.30, 39.00
#: Parcel size in degrees: ~0.002 x 0.0015 deg is ~173 m x 167 m, i.e. ~2.9 ha.
CELL_W, CELL_H = 0.002, 0.0015
#: Grid pitch (leaves a gap between neighbours).
PITCH_X, PITCH_Y = 0.003, 0.0025
COLUMNS = 4

COUNTY_CODE = "640202"

LAND_USES = [
    ("0301", "乔木林地"),
    ("0401", "天然牧草地"),
    ("0102", "水浇地"),
    ("0103", "旱地"),
    ("0305", "灌木林地"),
    ("0702", "农村宅基地"),
]
VILLAGES = [
    ("640202101201", "星海镇星光村"),
    ("640202101202", "星海镇星火村"),
    ("640202102203", "长胜街道龙泉村"),
    ("640202103204", "长兴街道潮湖村"),
]
SPECIES = ["油松", "樟子松", "山杏", "柠条", "沙棘", "侧柏"]
FOREST_TYPES = ["水土保持林", "防风固沙林", "水源涵养林"]
OWNERS = ["宁夏贺兰山国家级自然保护区管理局", "石嘴山市大武口区林业和草原局", "星光村村民委员会"]


def lonlat_geoms(n: int, start: int = 0) -> list[Polygon]:
    """``n`` disjoint rectangles in lon/lat, numbered from ``start`` on the grid."""
    out = []
    for i in range(start, start + n):
        col, row = i % COLUMNS, i // COLUMNS
        x0 = ORIGIN_LON + col * PITCH_X
        y0 = ORIGIN_LAT + row * PITCH_Y
        out.append(box(x0, y0, x0 + CELL_W, y0 + CELL_H))
    return out


def bowtie(index: int = 0) -> Polygon:
    """A self-intersecting "bow-tie" ring inside grid cell ``index`` (invalid, not empty)."""
    cell = lonlat_geoms(1, start=index)[0]
    x0, y0, x1, y1 = cell.bounds
    return Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])


def bowtie_repaired_area_m2(index: int = 0) -> float:
    """Area of the two triangles the bow-tie of :func:`bowtie` stands for."""
    return geodesic_area(shapely.make_valid(bowtie(index))).m2


def _frame(records: dict[str, list], geoms, crs) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(records, geometry=list(geoms), crs=4490)
    if crs is not None and pyproj.CRS.from_user_input(crs) != frame.crs:
        frame = frame.to_crs(crs)
    return frame


def survey_frame(n: int = 5, crs=4490, start: int = 0, county: str = COUNTY_CODE
                 ) -> gpd.GeoDataFrame:
    """三调-style land-use patches (TBBH, DLBM, DLMC, QSDWDM, QSDWMC, TBMJ, XZQDM)."""
    geoms = lonlat_geoms(n, start)
    uses = [LAND_USES[i % len(LAND_USES)] for i in range(start, start + n)]
    villages = [VILLAGES[i % len(VILLAGES)] for i in range(start, start + n)]
    records = {
        "TBBH": [f"{i + 1:04d}" for i in range(start, start + n)],
        "DLBM": [u[0] for u in uses],
        "DLMC": [u[1] for u in uses],
        "QSDWDM": [v[0] + "0000000" for v in villages],
        "QSDWMC": [v[1] for v in villages],
        "TBMJ": [round(geodesic_area(g).m2, 2) for g in geoms],
        "XZQDM": [county] * n,
    }
    return _frame(records, geoms, crs)


def forest_frame(n: int = 4, crs=4490, start: int = 0, chinese_names: bool = False
                 ) -> gpd.GeoDataFrame:
    """林地小班-style parcels: 林班/小班 numbers, 地类, 林种, 优势树种, 林权, 公益林 level.

    With ``chinese_names`` the columns are named as in many county 一张图 exports (林班, 小班,
    地类, ...) instead of the pinyin abbreviations.
    """
    geoms = lonlat_geoms(n, start)
    idx = range(start, start + n)
    records = {
        "XIAN": [COUNTY_CODE] * n,
        "LIN_BAN": [f"{12 + i // 3:03d}" for i in idx],
        "XIAO_BAN": [f"{i % 3 + 1:03d}" for i in idx],
        "XIANG": ["星海镇"] * n,
        "DI_LEI": ["乔木林地" if i % 2 == 0 else "灌木林地" for i in idx],
        "LIN_ZHONG": [FOREST_TYPES[i % len(FOREST_TYPES)] for i in idx],
        "YOU_SHI_SZ": [SPECIES[i % len(SPECIES)] for i in idx],
        "PINGJUN_NL": [15 + i for i in idx],
        "QLR": [OWNERS[i % len(OWNERS)] for i in idx],
        "LQZH": [f"宁林证字（2009）第{64020200 + i:08d}号" for i in idx],
        "ZSMJ": [round(geodesic_area(g).mu, 2) for g in geoms],
        "SEN_LIN_LB": ["公益林" if i % 3 else "商品林" for i in idx],
        "SHI_QUAN_D": ["国家级" if i % 3 == 1 else ("地方级" if i % 3 == 2 else None)
                       for i in idx],
    }
    if chinese_names:
        rename = {"XIAN": "XZQDM", "LIN_BAN": "林班", "XIAO_BAN": "小班", "XIANG": "乡镇",
                  "DI_LEI": "地类", "LIN_ZHONG": "林种", "YOU_SHI_SZ": "优势树种",
                  "PINGJUN_NL": "林龄", "QLR": "权利人", "LQZH": "林权证号",
                  "ZSMJ": "证书面积", "SEN_LIN_LB": "森林类别", "SHI_QUAN_D": "事权等级"}
        records = {rename[k]: v for k, v in records.items()}
    return _frame(records, geoms, crs)


def cultivated_frame(n: int = 3, crs=4490, start: int = 0) -> gpd.GeoDataFrame:
    """耕地 patches: TBBH, DLMC (水浇地/旱地), ZLDB quality grade, GDPDJB slope, YJD saline."""
    geoms = lonlat_geoms(n, start)
    idx = range(start, start + n)
    records = {
        "TBBH": [f"GD{i + 1:04d}" for i in idx],
        "DLMC": ["水浇地" if i % 2 == 0 else "旱地" for i in idx],
        "ZLDB": [6 + i % 5 for i in idx],
        "GDPDJB": [1 + i % 3 for i in idx],
        "YJD": ["是" if i % 2 else "否" for i in idx],
        "XZMC": ["星海镇"] * n,
        "CMC": [VILLAGES[i % len(VILLAGES)][1][3:] for i in idx],
    }
    return _frame(records, geoms, crs)


def redline_frame(n: int = 3, crs=4490, start: int = 0) -> gpd.GeoDataFrame:
    """生态保护红线 polygons: HXBM, HXMC, GKFQ (核心保护区/一般控制区), BHDMC, BHDLX."""
    geoms = lonlat_geoms(n, start)
    idx = range(start, start + n)
    records = {
        "HXBM": [f"6402022010{i + 1:03d}" for i in idx],
        "HXMC": [f"贺兰山生态保护红线{i + 1}号" for i in idx],
        "GKFQ": ["核心保护区" if i % 2 == 0 else "一般控制区" for i in idx],
        "BHDMC": ["宁夏贺兰山国家级自然保护区"] * n,
        "BHDLX": ["自然保护区"] * n,
        "XZQDM": [COUNTY_CODE] * n,
    }
    return _frame(records, geoms, crs)


_DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON",
            ".json": "GeoJSON", ".gdb": "OpenFileGDB"}


def write(frame: gpd.GeoDataFrame, path: Path | str, driver: str | None = None, **kw) -> Path:
    """Write ``frame`` with pyogrio (driver from the extension unless given); return the path."""
    path = Path(path)
    driver = driver or _DRIVERS[path.suffix.lower()]
    pyogrio.write_dataframe(frame, path, driver=driver, **kw)
    return path
