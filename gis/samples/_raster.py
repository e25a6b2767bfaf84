"""The sample rasters: a DEM of both districts and two land-cover classifications of Dawukou.

Both are on one CGCS2000 / 3-degree Gauss-Kruger CM 105E grid (EPSG:4544): the DEM in 60 m cells
over the two districts, the land cover in 30 m cells over Dawukou, aligned so that every DEM
cell holds exactly 2 x 2 land-cover cells. They are written as Cloud-Optimized GeoTIFFs.

The land cover of 2020 is painted from the vector samples (fields, forest and grassland
parcels, the city, villages, mines, 星海湖) over a terrain-driven background of grassland and
bare rock. The 2023 land cover is an exact copy except for the planted change patches, so
that a two-date comparison finds exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio import features
from rasterio.transform import Affine
from shapely.geometry.base import BaseGeometry

from gis.samples import _geo as geo
from gis.samples import _places as places

DEM_CELL = 60.0
LC_CELL = 30.0
DEM_NODATA = -32768
LC_NODATA = 0

#: Land-cover classes (value, English, Chinese, colour).
LANDCOVER_CLASSES = (
    (1, "cultivated", "耕地", (230, 200, 60)),
    (2, "forest", "林地", (30, 130, 40)),
    (3, "grassland", "草地", (160, 210, 110)),
    (4, "water", "水域", (60, 120, 220)),
    (5, "construction", "建设用地", (200, 60, 60)),
    (6, "bare", "裸地", (190, 180, 160)),
)
CONSTRUCTION_OR_BARE = (5, 6)


@dataclass(frozen=True)
class Grid:
    x0: float  # west edge
    y1: float  # north edge
    cell: float
    width: int
    height: int

    @property
    def transform(self):
        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y1)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        xs = self.x0 + (np.arange(self.width) + 0.5) * self.cell
        ys = self.y1 - (np.arange(self.height) + 0.5) * self.cell
        return np.meshgrid(xs, ys)

    def pixel(self, x: float, y: float) -> tuple[int, int]:
        return int((self.y1 - y) // self.cell), int((x - self.x0) // self.cell)

    def window_polygon(self, row: int, col: int, h: int, w: int) -> shapely.Polygon:
        x = self.x0 + col * self.cell
        y = self.y1 - row * self.cell
        return shapely.box(x, y - h * self.cell, x + w * self.cell, y)


def grid_over(bounds: tuple[float, float, float, float], cell: float, margin: float,
              snap: float = DEM_CELL) -> Grid:
    minx, miny, maxx, maxy = bounds
    x0 = np.floor((minx - margin) / snap) * snap
    y1 = np.ceil((maxy + margin) / snap) * snap
    x1 = np.ceil((maxx + margin) / snap) * snap
    y0 = np.floor((miny - margin) / snap) * snap
    return Grid(float(x0), float(y1), cell, round((x1 - x0) / cell), round((y1 - y0) / cell))


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    """Value noise: unit normals on a coarse lattice, bilinearly interpolated."""
    h, w = shape
    gh, gw = int(h / cell_px) + 3, int(w / cell_px) + 3
    lattice = rng.normal(size=(gh, gw))
    yy = np.arange(h) / cell_px
    xx = np.arange(w) / cell_px
    y0, x0 = np.floor(yy).astype(int), np.floor(xx).astype(int)
    fy, fx = (yy - y0)[:, None], (xx - x0)[None, :]
    a = lattice[y0][:, x0]
    b = lattice[y0][:, x0 + 1]
    c = lattice[y0 + 1][:, x0]
    d = lattice[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def mask(grid: Grid, geoms: list[BaseGeometry], all_touched: bool = False) -> np.ndarray:
    """Pixels whose centre is inside any of ``geoms`` (metres)."""
    items = [g for g in geoms if g is not None and not g.is_empty]
    if not items:
        return np.zeros((grid.height, grid.width), dtype=bool)
    return features.rasterize(((g, 1) for g in items), out_shape=(grid.height, grid.width),
                              transform=grid.transform, fill=0, dtype="uint8",
                              all_touched=all_touched).astype(bool)


def elevation(rng: np.random.Generator, grid: Grid, terrain: dict) -> np.ndarray:
    """Elevation (m, float) of every cell of ``grid`` from the sample terrain model."""
    x, y = grid.centres()
    shape = x.shape
    ridge = geo.segment_distance(x, y, terrain["ridge_m"])
    front = geo.segment_distance(x, y, terrain["front_m"])
    mountain = mask(grid, [terrain["mountain_m"]])
    s = np.where(mountain, front, 0.0)
    # Dawukou: a plain sloping east towards the Yellow River, Helan Mountain rising west of
    # the front to a crest of ~2,900 m along the south-western border, lower in the north.
    plain = 1092.0 + 0.0055 * np.clip(terrain["x_east"] - x, 0, None)
    relief = 1300.0 * (1 - np.exp(-s / 3800.0)) + 300.0 * np.exp(-(ridge / 2600.0) ** 2)
    north = np.clip((y - terrain["y_39_10"]) / (terrain["y_39_20"] - terrain["y_39_10"]), 0, 1)
    relief = relief * (1 - 0.45 * north)
    n1 = smooth_noise(rng, shape, 1200.0 / grid.cell)
    n2 = smooth_noise(rng, shape, 300.0 / grid.cell)
    fade = np.clip(s / 1500.0, 0, 1)
    dwk = plain + mountain * (relief + fade * (90.0 * n1 + 30.0 * n2))
    dwk += 2.5 * smooth_noise(rng, shape, 500.0 / grid.cell)
    # Xingqing: the Yellow River plain (~1,110 m, falling gently north) and the sandy
    # terraces of 月牙湖 rising east of the river.
    river = geo.segment_distance(x, y, terrain["river_m"])
    far_bank = mask(grid, [terrain["far_bank_m"]])
    base = 1112.0 - 0.00035 * (y - terrain["y_38_29"])
    west = base + 6.0 * (1 - np.exp(-river / 3000.0))
    east = base + np.minimum(0.013 * np.clip(river - 1200.0, 0, None), 170.0)
    xq = np.where(far_bank, east, west) - 4.0 * np.exp(-((river / 200.0) ** 2))
    xq += 1.5 * smooth_noise(rng, shape, 400.0 / grid.cell)
    xq += far_bank * 6.0 * smooth_noise(rng, shape, 240.0 / grid.cell)
    return np.where(y > terrain["y_split"], dwk, xq)


def write_cog(path: Path, data: np.ndarray, grid: Grid, nodata: int, resampling: str,
              tags: dict[str, str], band_tags: dict[str, str], description: str,
              colormap: dict | None = None) -> None:
    profile = {
        "driver": "COG", "width": grid.width, "height": grid.height, "count": 1,
        "dtype": data.dtype.name, "crs": f"EPSG:{geo.METRIC_EPSG}",
        "transform": grid.transform, "nodata": nodata, "compress": "DEFLATE",
        "predictor": 2, "overview_resampling": resampling, "blocksize": 512,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(**tags)
        dst.update_tags(1, **band_tags)
        dst.set_band_description(1, description)
        if colormap is not None:
            dst.write_colormap(1, colormap)


class RasterSteps:
    """The raster steps of the sample builder (a mixin of ``Builder``)."""

    def build_rasters(self) -> None:
        rng = self.rng
        dwk_m, xq_m = self.district_m[places.DWK], self.district_m[places.XQ]
        union_bounds = geo.union([dwk_m, xq_m]).bounds
        dem_grid = grid_over(union_bounds, DEM_CELL, 1200.0)
        y_of = {lat: geo.xy_m(106.4, lat)[1] for lat in (38.29, 39.10, 39.20)}
        terrain = {
            "ridge_m": self.ridge_m, "front_m": self.front_m, "mountain_m": self.mountain_m,
            "river_m": self.river_m,
            "far_bank_m": geo.poly_m([*places.YELLOW_RIVER, *places.RIVER_EAST_CLOSE]),
            "x_east": geo.xy_m(106.50, 39.0)[0], "y_38_29": y_of[38.29],
            "y_39_10": y_of[39.10], "y_39_20": y_of[39.20],
            "y_split": (dwk_m.bounds[1] + xq_m.bounds[3]) / 2,
        }
        elev = elevation(rng, dem_grid, terrain)
        inside = mask(dem_grid, [dwk_m.buffer(1000.0), xq_m.buffer(1000.0)])
        dem = np.where(inside, np.round(elev), DEM_NODATA).astype("int16")
        self.dem = dem
        self.dem_grid = dem_grid

        # Land cover, Dawukou: the DEM cells split 2 x 2, then painted from the vectors.
        lc_grid = grid_over(dwk_m.bounds, LC_CELL, 300.0)
        r0 = round((dem_grid.y1 - lc_grid.y1) / DEM_CELL)
        c0 = round((lc_grid.x0 - dem_grid.x0) / DEM_CELL)
        sub = elev[r0:r0 + lc_grid.height // 2, c0:c0 + lc_grid.width // 2]
        lc_elev = np.repeat(np.repeat(sub, 2, axis=0), 2, axis=1)
        shape = (lc_grid.height, lc_grid.width)
        mountain = mask(lc_grid, [self.mountain_m])
        nb = smooth_noise(rng, shape, 600.0 / LC_CELL)
        nf = smooth_noise(rng, shape, 400.0 / LC_CELL)
        ng = smooth_noise(rng, shape, 250.0 / LC_CELL)
        lc = np.full(shape, 3, dtype="uint8")
        lc[mountain & (nb + (lc_elev - 1500.0) / 900.0 > 0.35)] = 6
        lc[mountain & (lc_elev > 2300.0) & (nf > 0.9)] = 2
        lc[~mountain & (nb > 0.8)] = 6

        def paint(geoms: list[BaseGeometry], value: int) -> None:
            lc[mask(lc_grid, [geo.to_m(g) for g in geoms])] = value

        dwk = places.DWK
        paint([p.geom for p in self.parcels if p.kind == "grass" and p.county == dwk], 3)
        paint([p.geom for p in self.parcels if p.kind == "forest" and p.county == dwk], 2)
        paint([b.geom for b in self.blocks if b.county == dwk], 1)
        udb = {u["zone"]: u for u in self.udb if u["county_code"] == dwk}
        city = mask(lc_grid, [geo.to_m(udb["centralized_construction"]["geom"])])
        lc[city & (ng < 0.9)] = 5
        paint([udb["special_use"]["geom"]], 3)
        paint([z["geom"] for v in self.villages.values() if v["county"] == dwk
               for z in v["zones"] if z["use"] == "0703"], 5)
        paint([geo.to_deg(m) for m in self.mines_m], 5)
        paint([geo.to_deg(self.lake_m)], 4)
        lc[~mask(lc_grid, [dwk_m])] = LC_NODATA
        lc2020 = lc
        lc2023 = lc.copy()
        self._plant_landcover(lc_grid, lc2020, lc2023)
        self.lc2020, self.lc2023, self.lc_grid = lc2020, lc2023, lc_grid

    def write_rasters(self, out_dir: Path) -> list[Path]:
        dem, dem_grid = self.dem, self.dem_grid
        lc2020, lc2023, lc_grid = self.lc2020, self.lc2023, self.lc_grid
        cmap = {0: (0, 0, 0, 0)}
        cmap.update({v: (*rgb, 255) for v, _, _, rgb in LANDCOVER_CLASSES})
        classes = {f"CLASS_{v}": f"{en} {zh}" for v, en, zh, _ in LANDCOVER_CLASSES}
        common = {"SOURCE": "generated sample data (gis samples build), seed "
                            f"{self.seed}; not a real survey", "CRS": f"EPSG:{geo.METRIC_EPSG}"}
        paths = [out_dir / "dem.tif", out_dir / "landcover_2020.tif",
                 out_dir / "landcover_2023.tif"]
        write_cog(paths[0], dem, dem_grid, DEM_NODATA, "average",
                         {**common, "UNITS": "metre"}, {"UNITS": "metre"}, "elevation (m)")
        for path, data, year in ((paths[1], lc2020, 2020), (paths[2], lc2023, 2023)):
            write_cog(path, data, lc_grid, LC_NODATA, "nearest",
                             {**common, "YEAR": str(year), "CLASS_0": "nodata"},
                             classes, f"land cover {year}", cmap)
        return paths

    def _plant_landcover(self, grid, lc2020: np.ndarray, lc2023: np.ndarray) -> None:
        avoid = geo.union(self.avoid_m).buffer(100.0)
        red = {r["name"]: r for r in self.redline}
        core = red["贺兰山国家级自然保护区核心保护区"]["geom_m"]
        general = red["贺兰山国家级自然保护区一般控制区"]["geom_m"]
        north = red["石炭井北部防风固沙区"]["geom_m"]
        fas = geo.union(a["geom_m"] for a in self.farm_areas).buffer(300.0)
        lines = geo.union([self.redline_raw_m, self.udb_raw_m,
                           *(v["geom_m"] for v in self.villages.values())]).buffer(400.0)
        plain = self.inner_m[places.DWK].difference(self.mountain_m).difference(lines)
        foothill = self.inner_m[places.DWK].intersection(self.mountain_m).difference(lines)
        block = self.block_designated.geom_m
        specs = [
            ("LC-01", "landcover_new_construction", general.difference(fas), 3, 5, 10, 8,
             200.0, "疑似采石场扩建(新增建设用地)",
             "suspected quarry extension (new construction)"),
            ("LC-02", "landcover_new_construction", north, 3, 5, 7, 9, 200.0,
             "疑似新建房屋和场地(新增建设用地)",
             "suspected new buildings and yards (new construction)"),
            ("LC-03", "landcover_new_bare", core, 3, 6, 7, 7, 200.0,
             "疑似采挖造成的新增裸地", "new bare ground, suspected digging"),
            ("LC-04", "landcover_new_construction", block, 1, 5, 5, 6, 45.0,
             "永久基本农田上的疑似新建设施(耕地变建设用地)",
             "suspected new buildings on permanent basic farmland (cultivated to construction)"),
            ("LC-05", "landcover_new_construction", plain, 3, 5, 8, 8, 200.0,
             "三条控制线以外的新增建设用地(对照，不应报告为红线或基本农田内)",
             "new construction outside all control lines (a control: must not be reported as "
             "inside the red line or farmland)"),
            ("LC-06", "landcover_other_change", foothill, 6, 2, 12, 10, 200.0,
             "山地造林(裸地变林地，不是新增建设或裸地)",
             "afforestation in the mountains (bare to forest: not new construction)"),
        ]
        self.lc_patches = []
        for sid, kind, zone, before, after, h, w, margin, zh, en in specs:
            allowed = geo.inset(zone, margin)
            if sid != "LC-04":
                allowed = allowed.difference(avoid)
            for _ in range(200):
                x, y = geo.random_points(self.rng, allowed, 1)[0]
                row, col = grid.pixel(x, y)
                row, col = row - h // 2, col - w // 2
                box = grid.window_polygon(row, col, h, w)
                if allowed.buffer(margin * 0.5).contains(box) and zone.contains(box):
                    break
            else:
                raise RuntimeError(f"no room for land-cover patch {sid}")
            window = (slice(row, row + h), slice(col, col + w))
            lc2020[window] = before
            lc2023[window] = after
            # An L-shaped patch: a corner keeps its 2020 class in 2023.
            cut = (slice(row, row + 2), slice(col + w - 3, col + w))
            lc2023[cut] = before
            footprint = box.difference(grid.window_polygon(row, col + w - 3, 2, 3))
            self.lc_patches.append({
                "id": sid, "kind": kind, "zh": zh, "en": en, "before": before, "after": after,
                "window": {"row_off": row, "col_off": col, "height": h, "width": w},
                "pixels": h * w - 6, "footprint_m": footprint,
                "footprint": geo.to_deg(footprint)})
            self.avoid_m.append(box.buffer(100.0))
