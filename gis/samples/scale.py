"""Synthetic one-map data at scale, for benchmarks (never committed).

Real layers are *partitions*: survey patches tile the ground without gaps or overlaps, and so
do forest sub-compartments and grassland parcels among themselves, while the forestry and
grassland layers overlap each other where their surveys disagree. The generator reproduces
that: each layer is a jittered grid of quadrilaterals (shared corners, so no gaps or
overlaps within a layer) over Ningxia, with log-normally varying row and column spacing for
a realistic spread of parcel sizes (~0.3-20 ha), and the forest and grassland grids overlap
over part of their extent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gis.errors import InputError
from gis.messages import msg
from gis.progress import NullProgress, Progress
from gis.units import M2_PER_MU, ellipsoidal_areas

#: Ningxia, roughly: the generated layers stay inside this lon/lat box.
NINGXIA = (104.3, 35.3, 107.6, 39.3)
_LAND_USE = [("0101", "水田"), ("0102", "水浇地"), ("0103", "旱地"), ("0301", "乔木林地"),
             ("0305", "灌木林地"), ("0401", "天然牧草地"), ("0404", "其他草地"),
             ("0702", "农村宅基地"), ("1101", "河流水面")]
_SPECIES = ["油松", "青海云杉", "山杏", "柠条", "沙棘", "杨树", "旱柳"]
_GRASS = ["温性草原类", "温性荒漠草原类", "温性草原化荒漠类", "低地草甸类"]
_OWNERS = ["星海镇星光村村民委员会", "星海镇隆惠村村民委员会", "月牙湖乡镇河村村民委员会",
           "宁夏贺兰山国家级自然保护区管理局", "大武口区林业和草原局", "月牙湖乡塔桥村村民委员会"]


#: Mean parcel width in degrees (~175 m at 38°N, so ~3 ha parcels on average).
_CELL_DEG = 0.002


def _side(n: int, cell_deg: float = _CELL_DEG) -> float:
    """Approximate width (degrees) of the square-ish block that n parcels cover."""
    return float(np.sqrt(n * 1.3)) * cell_deg


@dataclass(frozen=True)
class ScaleSummary:
    path: Path
    layers: dict[str, int]


def jittered_grid(n: int, origin: tuple[float, float], mean_cell_deg: float,
                  rng: np.random.Generator) -> np.ndarray:
    """``n`` quadrilaterals tiling a roughly square area from ``origin`` (lon, lat) without
    gaps or overlaps; cells are ``mean_cell_deg`` wide on average (x0.78 tall)."""
    cols = max(1, int(np.sqrt(n * 1.3)))
    rows = max(1, int(np.ceil(n / cols)))
    widths = rng.lognormal(0.0, 0.45, cols)
    heights = rng.lognormal(0.0, 0.45, rows)
    widths /= widths.mean()
    heights /= heights.mean()
    xs = origin[0] + np.concatenate([[0], np.cumsum(widths)]) * mean_cell_deg
    ys = origin[1] + np.concatenate([[0], np.cumsum(heights)]) * mean_cell_deg * 0.78
    gx, gy = np.meshgrid(xs, ys)
    # Jitter interior corners by up to 30% of the neighbouring spacing: quads stay convex-ish
    # and valid, and neighbours share the moved corner, so the tiling stays exact.
    jx = rng.uniform(-0.3, 0.3, gx.shape) * np.minimum(
        np.diff(xs, prepend=xs[0] - 1e9)[None, :], np.diff(xs, append=xs[-1] + 1e9)[None, :])
    jy = rng.uniform(-0.3, 0.3, gy.shape) * np.minimum(
        np.diff(ys, prepend=ys[0] - 1e9)[:, None], np.diff(ys, append=ys[-1] + 1e9)[:, None])
    jx[:, [0, -1]] = 0
    jy[[0, -1], :] = 0
    gx, gy = gx + jx, gy + jy
    r, c = np.divmod(np.arange(rows * cols)[:n], cols)
    ring_x = np.stack([gx[r, c], gx[r, c + 1], gx[r + 1, c + 1], gx[r + 1, c], gx[r, c]], axis=1)
    ring_y = np.stack([gy[r, c], gy[r, c + 1], gy[r + 1, c + 1], gy[r + 1, c], gy[r, c]], axis=1)
    return shapely.polygons(np.stack([ring_x, ring_y], axis=2))


def _survey(geoms: np.ndarray, rng: np.random.Generator,
            forest_box: tuple[float, ...] | None = None,
            grass_box: tuple[float, ...] | None = None) -> pd.DataFrame:
    """Survey classes that mostly agree with the forestry and grassland layers, as real
    三调 data does: forest land (03xx) under the forest block, grassland (04xx) under the
    grassland block, either where the two blocks overlap (the ground they dispute), other
    classes elsewhere; about 3% of patches disagree at random."""
    n = len(geoms)
    x, y = shapely.get_coordinates(shapely.centroid(geoms)).T

    def inside(box: tuple[float, ...] | None) -> np.ndarray:
        if box is None:
            return np.zeros(n, dtype=bool)
        return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])

    in_forest, in_grass = inside(forest_box), inside(grass_box)
    forest_codes, grass_codes = [3, 4], [5, 6]
    other_codes = [k for k in range(len(_LAND_USE)) if k not in forest_codes + grass_codes]
    classes = rng.choice(other_codes, n)
    classes = np.where(in_forest, rng.choice(forest_codes, n), classes)
    classes = np.where(in_grass & ~in_forest, rng.choice(grass_codes, n), classes)
    both = in_forest & in_grass
    classes = np.where(both & (rng.random(n) < 0.5), rng.choice(grass_codes, n), classes)
    noise = rng.random(n) < 0.03
    classes = np.where(noise, rng.integers(0, len(_LAND_USE), n), classes)
    return pd.DataFrame({
        "county_code": "640202",
        "patch_no": np.char.mod("%08d", np.arange(1, n + 1)),
        "land_use_code": [_LAND_USE[k][0] for k in classes],
        "land_use_name": [_LAND_USE[k][1] for k in classes],
        "owner_unit_name": rng.choice(_OWNERS, n),
    })


def _certificate_no(prefix: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Certificate numbers for all but about 1% of parcels (无证)."""
    numbers = np.char.add(prefix, np.char.mod("%08d", np.arange(1, n + 1))).astype(object)
    numbers[rng.random(n) < 0.01] = None
    return numbers


def _forest(geoms: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(geoms)
    idx = np.arange(n)
    return pd.DataFrame({
        "county_code": "640202",
        "lin_ban": np.char.mod("%04d", idx // 50 + 1),
        "xiao_ban": np.char.mod("%03d", idx % 50 + 1),
        "land_class": rng.choice(["乔木林地", "灌木林地", "疏林地"], n),
        "dominant_species": rng.choice(_SPECIES, n),
        "stand_age": rng.integers(3, 80, n),
        "forest_category": rng.choice(["public_welfare", "commercial"], n, p=[0.8, 0.2]),
        "owner": rng.choice(_OWNERS, n),
        "certificate_no": _certificate_no("宁(2020)林权第", n, rng),
        "certificate_area_mu": _certificate_mu(geoms, rng),
    })


def _certificate_mu(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Certificates agree with the map within 2%, except about 1% of them (证地不符)."""
    mu = ellipsoidal_areas(geoms) / M2_PER_MU
    wrong = rng.random(len(mu)) < 0.01
    factor = np.where(wrong, rng.uniform(1.3, 2.0, len(mu)), rng.uniform(0.98, 1.02, len(mu)))
    return np.round(mu * factor, 1)


def _grass(geoms: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = len(geoms)
    return pd.DataFrame({
        "parcel_no": np.char.mod("CD%08d", np.arange(1, n + 1)),
        "grass_class": rng.choice(_GRASS, n),
        "owner": rng.choice(_OWNERS, n),
        "certificate_no": _certificate_no("宁草证", n, rng),
        "certificate_area_mu": _certificate_mu(geoms, rng),
    })


def _blobs(n: int, box: tuple[float, float, float, float], radius: tuple[float, float],
           vertices: int, rng: np.random.Generator) -> np.ndarray:
    """n irregular star-shaped polygons with ``vertices`` vertices (red-line-like shapes)."""
    cx = rng.uniform(box[0], box[2], n)[:, None]
    cy = rng.uniform(box[1], box[3], n)[:, None]
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)[None, :]
    base = rng.uniform(*radius, (n, 1))
    # A few harmonics give lobes and bays, like a reserve boundary following ridges.
    wobble = sum(rng.uniform(0.05, 0.15, (n, 1)) * np.sin(k * angles + rng.uniform(0, 6, (n, 1)))
                 for k in (3, 7, 17))
    r = base * (1 + wobble)
    xs, ys = cx + r * np.cos(angles), cy + r * np.sin(angles) * 0.78
    rings = np.stack([np.concatenate([xs, xs[:, :1]], axis=1),
                      np.concatenate([ys, ys[:, :1]], axis=1)], axis=2)
    return shapely.make_valid(shapely.polygons(rings))


def _control_lines(survey: gpd.GeoDataFrame, box: tuple[float, float, float, float],
                   rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Cultivated land and basic farmland from the survey's 01xx patches; red-line and urban
    development boundary polygons as large irregular shapes."""
    cultivated = survey[survey["land_use_code"].str.startswith("01")].reset_index(drop=True)
    subclass = cultivated["land_use_code"].map({"0101": "paddy", "0102": "irrigated",
                                                "0103": "dry"})
    out = {"cultivated_land": gpd.GeoDataFrame({
        "patch_no": cultivated["patch_no"], "subclass": subclass,
        "quality_grade": rng.integers(1, 16, len(cultivated)),
    }, geometry=cultivated.geometry.values, crs="EPSG:4490")}
    farmland = cultivated.sample(frac=0.6, random_state=int(rng.integers(1 << 31)))
    out["basic_farmland"] = gpd.GeoDataFrame({
        "parcel_code": "JBNT-" + farmland["patch_no"],
        "survey_patch_no": farmland["patch_no"],
    }, geometry=farmland.geometry.values, crs="EPSG:4490")
    redline = _blobs(40, box, (0.03, 0.12), 2000, rng)
    out["eco_redline"] = gpd.GeoDataFrame({
        "redline_code": [f"HX-{i:04d}" for i in range(len(redline))],
        "name": [f"生态保护红线{i}" for i in range(len(redline))],
        "zone": ["core" if i % 4 == 0 else "general" for i in range(len(redline))],
    }, geometry=redline, crs="EPSG:4490")
    urban = _blobs(10, box, (0.02, 0.06), 500, rng)
    out["urban_boundary"] = gpd.GeoDataFrame({
        "boundary_code": [f"UDB-{i:03d}" for i in range(len(urban))],
        "zone": ["centralized_construction" if i % 3 else "flexible_development"
                 for i in range(len(urban))],
    }, geometry=urban, crs="EPSG:4490")
    return out


def write_scale_dataset(
    path: Path | str,
    parcels: int,
    forest: int | None = None,
    grass: int | None = None,
    seed: int = 20261123,
    progress: Progress | None = None,
    control_lines: bool = False,
    cell_deg: float = _CELL_DEG,
) -> ScaleSummary:
    """Write a GeoPackage with ``survey_patches`` (``parcels``), ``forest_parcels`` and
    ``grassland_parcels`` (each ``parcels // 5`` unless given) in EPSG:4490; with
    ``control_lines`` also cultivated land, permanent basic farmland (from the survey's
    cultivated patches), red-line and urban-development-boundary polygons. ``cell_deg``
    is the grid cell (0.002 degrees, parcels of 0.4-12 ha); a finer cell fits more parcels
    into Ningxia (1,000,000 forest and 1,000,000 grassland parcels need 0.0017 or less)."""
    progress = progress or NullProgress()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    forest = parcels // 5 if forest is None else forest
    grass = parcels // 5 if grass is None else grass
    rng = np.random.default_rng(seed)
    west, south, _east, _north = NINGXIA
    survey_side = _side(parcels, cell_deg)
    forest_side, grass_side = _side(forest, cell_deg), _side(grass, cell_deg)
    # Forest from the west, grassland from the east end of the forest block, overlapping it
    # by a third: two surveys that disagree about the same ground, as in real one-maps.
    forest_x = west + 0.05
    grass_x = forest_x + forest_side * 2 / 3
    plans = [
        ("survey_patches", parcels, (west + 0.05, south + 0.05), _survey),
        ("forest_parcels", forest, (forest_x, south + 0.05), _forest),
        ("grassland_parcels", grass, (grass_x, south + 0.05), _grass),
    ]
    if max(survey_side, grass_x - west + grass_side) > min(
            NINGXIA[2] - NINGXIA[0], (NINGXIA[3] - NINGXIA[1]) / 0.78):
        raise InputError(msg("samples.too_many_parcels", parcels=parcels))
    counts: dict[str, int] = {}
    # Geometries first: the survey's classes depend on where the forest and grassland are.
    geometries = {layer: jittered_grid(n, origin, cell_deg, rng)
                  for layer, n, origin, _ in plans if n > 0}
    boxes = {layer: tuple(shapely.total_bounds(g)) for layer, g in geometries.items()}
    for layer, n, _origin, attributes in plans:
        if n <= 0:
            continue
        progress.stage(msg("samples.stage.generating", layer=layer), n)
        geoms = geometries[layer]
        if layer == "survey_patches":
            table = _survey(geoms, rng, boxes.get("forest_parcels"),
                            boxes.get("grassland_parcels"))
        else:
            table = attributes(geoms, rng)
        frame = gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4490")
        progress.advance(n)
        progress.stage(msg("samples.stage.writing", layer=layer), n)
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", append=path.exists())
        progress.advance(n)
        counts[layer] = n
        if layer == "survey_patches" and control_lines:
            bounds = tuple(frame.total_bounds)
            for name, extra in _control_lines(frame, bounds, rng).items():
                progress.stage(msg("samples.stage.writing", layer=name), len(extra))
                pyogrio.write_dataframe(extra, path, layer=name, driver="GPKG", append=True)
                progress.advance(len(extra))
                counts[name] = len(extra)
    return ScaleSummary(path, counts)
