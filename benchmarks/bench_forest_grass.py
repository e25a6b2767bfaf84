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
import threading
import time
from pathlib import Path

import geopandas as gpd
import shapely
from geopandas_detection import detect_with_geopandas
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


class PostgresPeak:
    """Peak summed RSS of the PostgreSQL processes while a block runs (the work happens there,
    not in this process), sampled every 0.2 s from /proc."""

    def __enter__(self) -> PostgresPeak:
        self.peak, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if f.read().strip() != "postgres":
                            continue
                    with open(f"/proc/{pid}/status") as f:
                        total += next(int(line.split()[1]) for line in f
                                      if line.startswith("VmRSS"))
                except (OSError, StopIteration):
                    continue
            self.peak = max(self.peak, total / 1e6)


class StageTimes:
    """A progress sink that notes when each stage of ``detect`` starts, to split the run into
    detection proper (the PostGIS scan) and bringing the work list up to date (writes)."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, float]] = []

    def stage(self, description: str, total: int | None = None) -> None:
        self.starts.append((description, time.perf_counter()))

    def advance(self, steps: int = 1) -> None:
        pass

    def split(self, end: float) -> tuple[float, float]:
        (_, scan), (_, writes) = self.starts[:2]
        return writes - scan, end - writes


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    args = parser.parse_args()
    settings = get_settings()
    if settings.database.uses_embedded_cluster:
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
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables
                                                      if t.name != "api_keys")
                              + " RESTART IDENTITY CASCADE"))
        for layer in ("survey_patches", "forest_parcels", "grassland_parcels"):
            load_file(engine, path, layer, LoadOptions(source_layer=layer))
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO admin_divisions (code, name, level, geom, area_m2) "
                "SELECT '640000', '宁夏', 'region', ST_Multi(ST_Envelope(ST_Collect(geom))), 0 "
                "FROM (SELECT geom FROM survey_patches UNION ALL SELECT geom FROM forest_parcels "
                "UNION ALL SELECT geom FROM grassland_parcels) AS everything"))
            conn.execute(text("ANALYZE"))
        t0 = time.perf_counter()
        with engine.connect() as conn:
            # The same operation as the geopandas overlay: forest x grass pieces, no more.
            same_op = conn.execute(text(
                "SELECT count(*) FROM forest_parcels a JOIN grassland_parcels b "
                "ON ST_Intersects(a.geom, b.geom) "
                "WHERE NOT ST_Touches(a.geom, b.geom) "
                "AND ST_Area(ST_Intersection(a.geom, b.geom)) > 0")).scalar_one()
        postgis_overlay = time.perf_counter() - t0
        t0 = time.perf_counter()
        stages = StageTimes()
        with PostgresPeak() as pg_mem:
            summary = detect(engine, "640000", progress=stages)
        end = time.perf_counter()
        ours = end - t0
        scan, writes = stages.split(end)
        t0 = time.perf_counter()
        forest = gpd.read_file(path, layer="forest_parcels", engine="pyogrio")
        grass = gpd.read_file(path, layer="grassland_parcels", engine="pyogrio")
        read = time.perf_counter() - t0
        t0 = time.perf_counter()
        pieces = gpd.overlay(forest, grass, how="intersection", keep_geom_type=True)
        overlay = time.perf_counter() - t0
        overlaps = int((shapely.area(pieces.geometry.values) > 0).sum())
        t0 = time.perf_counter()
        same_detection = detect_with_geopandas(path)
        geopandas_detect = time.perf_counter() - t0
        if same_detection != summary.detected:
            raise SystemExit(f"geopandas detection disagrees: {same_detection} vs "
                             f"{summary.detected}")
        rows.append((n, ours, scan, writes, summary.detected, read, overlay, overlaps,
                     postgis_overlay, geopandas_detect, rss_gb(), pg_mem.peak))
        print(f"N={n:,}: detect {ours:.1f} s (scan {scan:.1f} s, work list {writes:.1f} s) "
              f"{summary.detected}; PostGIS forest x grass "
              f"{postgis_overlay:.1f} s ({same_op:,} pieces); geopandas read {read:.1f} s "
              f"+ overlay {overlay:.1f} s ({overlaps:,} pieces); geopandas, same detection "
              f"{geopandas_detect:.1f} s; max RSS {rss_gb():.1f} GB",
              flush=True)
    engine.dispose()
    print()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print("| parcels per layer | findings | `detect` (all kinds, work list) | of which scan / "
          "work list | PostGIS forest x grass only | geopandas overlay (forest x grass only) | "
          "overlay / detect | geopandas, same detection (reading included, no work list) | "
          "max RSS (bench / PostgreSQL) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (n, ours, scan, writes, found, read, overlay, pieces, pg_overlay, gp_detect, rss,
         pg_rss) in rows:
        print(f"| {n:,} | {sum(found.values()):,} | {ours:.1f} s | {scan:.1f} / {writes:.1f} s "
              f"| {pg_overlay:.1f} s | "
              f"{overlay:.1f} s (+{read:.1f} s reading; {pieces:,} pieces) | "
              f"{overlay / ours:.2f} | {gp_detect:.1f} s | {rss:.1f} / {pg_rss:.1f} GB |")


if __name__ == "__main__":
    main()
