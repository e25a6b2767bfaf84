"""Forest/grassland detection on scale data vs a plain geopandas overlay, at three sizes.

For each size N the scale generator writes N survey patches, N forest and N grassland parcels
(the forest and grassland partitions overlap over a third of their extent), `gis load` loads
them, and the run times `gis.analysis.forest_grass.detect` on a division covering everything
(which also checks the survey classes, ownership and certificates, and writes the work list)
side by side with `geopandas.overlay(forest, grass, how="intersection")` on the same data.
Peak memory is the process's max RSS after each step.

    .venv/bin/python benchmarks/bench_forest_grass.py [--sizes 50000 100000 200000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text

from gis.analysis.forest_grass import detect
from gis.db.cluster import cluster_from_settings
from gis.db.engine import make_engine
from gis.db.migrate import upgrade
from gis.layers.load import LoadOptions, load_file
from gis.layers.schema import layer_tables, metadata
from gis.samples.scale import write_scale_dataset
from gis.settings import get_settings

OUT = Path(__file__).parent / "out"


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    args = parser.parse_args()
    settings = get_settings()
    if settings.uses_embedded_cluster:
        cluster_from_settings(settings).up()
    engine = make_engine(settings)
    upgrade(engine)
    layer_tables()
    rows = []
    for n in args.sizes:
        path = OUT / f"forest_grass_{n}.gpkg"
        if not path.exists():
            write_scale_dataset(path, n, forest=n, grass=n)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables)
                              + " RESTART IDENTITY CASCADE"))
        for layer in ("survey_patches", "forest_parcels", "grassland_parcels"):
            load_file(engine, path, layer, LoadOptions(source_layer=layer))
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO admin_divisions (code, name, level, geom, area_m2) "
                "SELECT '640000', '宁夏', 'region', ST_Multi(ST_Envelope(ST_Collect(geom))), 0 "
                "FROM survey_patches"))
            conn.execute(text("ANALYZE"))
        t0 = time.perf_counter()
        summary = detect(engine, "640000")
        ours = time.perf_counter() - t0
        ours_rss = rss_gb()
        t0 = time.perf_counter()
        forest = gpd.read_file(path, layer="forest_parcels", engine="pyogrio")
        grass = gpd.read_file(path, layer="grassland_parcels", engine="pyogrio")
        read = time.perf_counter() - t0
        t0 = time.perf_counter()
        pieces = gpd.overlay(forest, grass, how="intersection", keep_geom_type=True)
        overlay = time.perf_counter() - t0
        overlaps = int((shapely.area(pieces.geometry.values) > 0).sum())
        rows.append((n, ours, summary.detected, read, overlay, overlaps, ours_rss, rss_gb()))
        print(f"N={n:,}: detect {ours:.1f} s {summary.detected}; geopandas read {read:.1f} s "
              f"+ overlay {overlay:.1f} s ({overlaps:,} pieces); max RSS {rss_gb():.1f} GB",
              flush=True)
    engine.dispose()
    print()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print("| parcels per layer | `detect` (all kinds, work list) | geopandas overlay (forest x "
          "grass only) | speed-up | max RSS |")
    print("|---|---|---|---|---|")
    for n, ours, _, read, overlay, _, _, rss in rows:
        print(f"| {n:,} | {ours:.1f} s | {overlay:.1f} s (+{read:.1f} s reading) | "
              f"{overlay / ours:.1f}x | {rss:.1f} GB |")


if __name__ == "__main__":
    main()
