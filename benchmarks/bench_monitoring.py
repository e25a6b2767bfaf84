"""Red-line change monitoring on a generated 20,000 x 20,000 pixel pair, in bounded memory.

Generates (once, into benchmarks/out/) two classified land-cover GeoTIFFs of 20,000 x 20,000
pixels (10 m cells, 200 km square on CGCS2000 / GK CM 105E, tiled, DEFLATE) that differ by
planted new construction / bare patches, and a red-line layer (core and general zones of
irregular polygons) plus permanent basic farmland parcels over part of them. Then it runs
``gis.analysis.monitoring_detect.detect_changes`` (what ``gis monitor run`` does before it
writes the work list) in a child process per window size and records wall time and the
child's peak RSS. The zones are handed to the library directly rather than loaded into
PostGIS: the database part of a run (loading zones, inserting a few thousand patches) is
small and the same at any raster size, and the memory question is about the rasters.

The planted patches are checked: the area found inside the zones must equal the area of the
planted rectangles clipped to the zones (pyproj.Geod), so a fast wrong answer cannot pass (the
check counts every piece; the table's piece counts apply the profile's minimum patch area).

GDAL keeps decoded blocks in its cache (GDAL_CACHEMAX, by default 5% of RAM, here ~1.2 GB),
which counts in the RSS; each run states the cache it had.

    .venv/bin/python benchmarks/bench_monitoring.py [--windows 2048 1024] [--whole]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

from gis.analysis.monitoring_detect import LandCoverPair, ZoneFeature, detect_changes
from gis.rules import load_profile

OUT = Path(__file__).parent / "out"
SIZE = 20_000
CELL = 10.0
X0, Y1 = 400_000.0, 4_400_000.0  # west and north edges, EPSG:4544
SEED = 20260109
STRIP = 512
CLASSES = {1: "cultivated 耕地", 2: "forest 林地", 3: "grassland 草地", 4: "water 水域",
           5: "construction 建设用地", 6: "bare 裸地"}
#: planted change rectangles: one chance per SLOT x SLOT pixel slot
SLOT, CHANCE = 160, 0.25
#: share of pixels with a random class (the same at both dates): texture, as in a real
#: classification, so the files compress (and decompress) like real ones
NOISE = 0.03


def _background(rng: np.random.Generator) -> np.ndarray:
    """Classes 1-4 on 50 x 50 pixel blocks (no construction or bare land at the first date,
    so every planted pixel is a change)."""
    return rng.integers(1, 5, size=(SIZE // 50, SIZE // 50), dtype=np.uint8)


def _planted(rng: np.random.Generator) -> list[tuple[int, int, int, int, int]]:
    """(row, col, height, width, class) rectangles, one slot each, never touching."""
    out = []
    for r in range(0, SIZE, SLOT):
        for c in range(0, SIZE, SLOT):
            if rng.random() < CHANCE:
                h, w = (int(v) for v in rng.integers(3, 40, size=2))
                dr, dc = (int(v) for v in rng.integers(1, SLOT - 41, size=2))
                out.append((r + dr, c + dc, h, w, int(rng.choice([5, 6]))))
    return out


def generate(path_a: Path, path_b: Path) -> None:
    rng = np.random.default_rng(SEED)
    coarse = _background(rng)
    planted = _planted(rng)
    profile = {"driver": "GTiff", "width": SIZE, "height": SIZE, "count": 1, "dtype": "uint8",
               "crs": "EPSG:4544", "transform": from_origin(X0, Y1, CELL, CELL), "nodata": 0,
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
               "BIGTIFF": "IF_SAFER"}
    by_strip: dict[int, list] = {}
    for rect in planted:
        for s in range(rect[0] // STRIP, (rect[0] + rect[2] - 1) // STRIP + 1):
            by_strip.setdefault(s, []).append(rect)
    with rasterio.open(path_a, "w", **profile) as a, rasterio.open(path_b, "w", **profile) as b:
        for dst, year in ((a, "2020"), (b, "2023")):
            dst.update_tags(YEAR=year, SOURCE="benchmarks/bench_monitoring.py (generated)")
            dst.update_tags(1, **{f"CLASS_{k}": v for k, v in CLASSES.items()})
        for s, row in enumerate(range(0, SIZE, STRIP)):
            h = min(STRIP, SIZE - row)
            rows = np.arange(row, row + h) // 50
            strip = np.repeat(coarse[rows], 50, axis=1)
            noise = np.random.default_rng(SEED + 100 + s)
            speckle = noise.random(strip.shape) < NOISE
            strip[speckle] = noise.integers(1, 5, size=int(speckle.sum()), dtype=np.uint8)
            a.write(strip, 1, window=Window(0, row, SIZE, h))
            for r, c, rh, rw, cls in by_strip.get(s, []):
                r0, r1 = max(r, row) - row, min(r + rh, row + h) - row
                strip[r0:r1, c:c + rw] = cls
            b.write(strip, 1, window=Window(0, row, SIZE, h))


def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float,
          vertices: int) -> shapely.Polygon:
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    wobble = 1 + 0.25 * np.sin(3 * angles + rng.uniform(0, 6)) + 0.1 * np.sin(
        11 * angles + rng.uniform(0, 6)) + rng.normal(0, 0.01, vertices)
    return shapely.Polygon(np.column_stack((cx + radius * wobble * np.cos(angles),
                                            cy + radius * wobble * np.sin(angles))))


def zones() -> list[ZoneFeature]:
    """16 red-line areas (a core zone inside each general zone, 2,000 vertices each) and
    2,000 farmland parcels in the south-east quarter, in EPSG:4490."""
    rng = np.random.default_rng(SEED + 1)
    to_4490 = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)
    span = SIZE * CELL
    out = []

    def geo(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(to_4490.transform(*xy.T)))

    for i in range(16):
        cx = X0 + span * (0.1 + 0.8 * rng.random())
        cy = Y1 - span * (0.1 + 0.8 * rng.random())
        radius = span * (0.03 + 0.05 * rng.random())
        general = _blob(rng, cx, cy, radius, 2000).buffer(0)
        core = _blob(rng, cx, cy, radius * 0.4, 2000).buffer(0).intersection(general)
        out.append(ZoneFeature("eco_redline", f"BENCH-HX-{i:02d}G",
                               geo(general.difference(core)), zone="general"))
        out.append(ZoneFeature("eco_redline", f"BENCH-HX-{i:02d}C", geo(core), zone="core"))
    for j in range(2000):
        x = X0 + span * (0.5 + 0.5 * rng.random())
        y = Y1 - span * (0.5 + 0.5 * rng.random())
        w, h = rng.uniform(150, 600, size=2)
        out.append(ZoneFeature("basic_farmland", f"BENCH-JBNT-{j:04d}",
                               geo(shapely.box(x, y, x + w, y + h))))
    return out


def expected_area() -> float:
    """Area (pyproj.Geod) of every planted rectangle clipped to every zone it touches."""
    rng = np.random.default_rng(SEED)
    _background(rng)
    planted = _planted(rng)
    to_4490 = pyproj.Transformer.from_crs(4544, 4490, always_xy=True)
    geod = pyproj.Geod(ellps="GRS80")
    boxes = []
    for r, c, h, w, _cls in planted:
        x, y = X0 + c * CELL, Y1 - r * CELL
        box = shapely.segmentize(shapely.box(x, y - h * CELL, x + w * CELL, y), 16 * CELL)
        boxes.append(shapely.transform(box, lambda xy: np.column_stack(
            to_4490.transform(*xy.T))))
    zone_list = zones()
    geoms = np.array([z.geometry for z in zone_list], dtype=object)
    left, right = shapely.STRtree(geoms).query(np.array(boxes, dtype=object),
                                                predicate="intersects")
    total = 0.0
    for b, z in zip(left, right, strict=True):
        piece = boxes[b].intersection(geoms[z])
        total += sum(abs(geod.geometry_area_perimeter(shapely.orient_polygons(p))[0])
                     for p in shapely.get_parts(piece) if p.geom_type == "Polygon")
    return total


def worker(window: int | None) -> None:
    """One measured run (in its own process, so its peak RSS is its own)."""
    profile = load_profile("ningxia").monitoring
    keep_all = profile.model_copy(update={"min_patch_m2": 1e-9})  # for the area check
    zone_list = zones()
    start = time.perf_counter()
    with LandCoverPair.open(OUT / "bench_lc_a.tif", OUT / "bench_lc_b.tif", keep_all) as pair:
        pieces = detect_changes(pair, zone_list, window)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    kept = [p for p in pieces if p.area_m2 >= profile.min_patch_m2]
    print(json.dumps({"window": window, "seconds": seconds, "peak_rss_mib": rss,
                      "cache": os.environ.get("GDAL_CACHEMAX", "default (5% of RAM)"),
                      "pieces": len(kept), "area_all_m2": sum(p.area_m2 for p in pieces),
                      "layers": {k: sum(p.layer == k for p in kept)
                                 for k in ("eco_redline", "basic_farmland")}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[2048, 1024])
    parser.add_argument("--cache-mb", type=int, default=64,
                        help="GDAL_CACHEMAX of the windowed runs (the first also runs with "
                        "GDAL's default)")
    parser.add_argument("--whole", action="store_true",
                        help="also read both rasters whole (for contrast; needs many GB)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker or None)
        return
    OUT.mkdir(exist_ok=True)
    a, b = OUT / "bench_lc_a.tif", OUT / "bench_lc_b.tif"
    if not (a.exists() and b.exists()):
        start = time.perf_counter()
        generate(a, b)
        print(f"generated the pair in {time.perf_counter() - start:.0f} s "
              f"({(a.stat().st_size + b.stat().st_size) / 1e6:,.0f} MB on disk, "
              f"{2 * SIZE * SIZE / 1e9:.1f} GB uncompressed)")
    truth = expected_area()
    plan = [(args.windows[0], None), *((w, args.cache_mb) for w in args.windows)]
    if args.whole:
        plan.append((0, None))
    runs = []
    for window, cache in plan:
        env = {k: v for k, v in os.environ.items() if k != "GDAL_CACHEMAX"}
        if cache:
            env["GDAL_CACHEMAX"] = f"{cache}MB"
        result = subprocess.run([sys.executable, __file__, "--worker", str(window)],
                                capture_output=True, text=True, check=True, env=env)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(f"\nMachine: {platform.system()} {platform.release()} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"GDAL {rasterio.__gdal_version__}")
    print(f"Pair: {SIZE:,} x {SIZE:,} px uint8 (10 m), {a.stat().st_size / 1e6:,.0f} + "
          f"{b.stat().st_size / 1e6:,.0f} MB on disk; planted change inside the zones: "
          f"{truth / 1e6:,.4f} km²\n")
    print("| read | GDAL cache | time (s) | peak RSS (MiB) | patches >= min area (red line / "
          "farmland) | area found vs planted |")
    print("|---|---|---|---|---|---|")
    for r in runs:
        label = f"windows of {r['window']} px" if r["window"] else "whole rasters"
        print(f"| {label} | {r['cache']} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | "
              f"{r['pieces']:,} ({r['layers']['eco_redline']:,} / "
              f"{r['layers']['basic_farmland']:,}) | {r['area_all_m2'] / truth - 1:+.1e} |")


if __name__ == "__main__":
    main()
