"""Import speed: `gis load` against GDAL's `ogr2ogr` on the same 200,000-polygon GeoPackage.

Both load into the same PostGIS (the embedded cluster unless GIS_DATABASE_URL is set), in one
run, on this machine. `ogr2ogr` gets the settings a GIS user would use for a fast bulk load
(COPY, GiST index, MultiPolygon promotion); `gis load` additionally maps and types fields,
validates and repairs geometry, checks the CRS and extent, computes ellipsoidal areas and
upserts by natural key in one transaction.

    .venv/bin/python benchmarks/bench_import.py [--features 200000] [--repeat 2]

Prints a Markdown table to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from sqlalchemy import make_url, text

from gis.db.cluster import cluster_from_settings
from gis.db.engine import database_url, make_engine
from gis.db.migrate import upgrade
from gis.layers.load import LoadOptions, load_file
from gis.samples.scale import write_scale_dataset
from gis.settings import get_settings

OUT = Path(__file__).parent / "out"


def generate(n: int, path: Path) -> None:
    """n survey patches from the scale generator (``gis samples scale``), ~3 ha each."""
    write_scale_dataset(path, n, forest=0, grass=0)


def ogr2ogr_load(gpkg: Path, pg_dsn: str) -> float:
    cmd = [
        "ogr2ogr", "-f", "PostgreSQL", pg_dsn, str(gpkg), "survey_patches",
        "-nln", "bench_ogr2ogr", "-overwrite", "-nlt", "MULTIPOLYGON", "-t_srs", "EPSG:4490",
        "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-lco", "FID=id",
        "--config", "PG_USE_COPY", "YES", "-gt", "65536",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def gis_load(engine, gpkg: Path) -> float:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE survey_patches RESTART IDENTITY"))
    start = time.perf_counter()
    summary = load_file(engine, gpkg, "survey_patches", LoadOptions())
    elapsed = time.perf_counter() - start
    assert summary.inserted == summary.features, summary
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: install gdal-bin (make setup-test does)")
    settings = get_settings()
    if settings.database.uses_embedded_cluster:
        cluster_from_settings(settings).up()
    engine = make_engine(settings)
    upgrade(engine)
    url = make_url(database_url(settings))
    pg_dsn = (f"PG:host={url.host} port={url.port} dbname={url.database} "
              f"user={url.username} password={url.password}")
    gpkg = OUT / f"survey_{args.features}.gpkg"
    t0 = time.perf_counter()
    generate(args.features, gpkg)
    print(f"generated {gpkg} ({gpkg.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    ogr, ours = [], []
    for i in range(args.repeat):
        ogr.append(ogr2ogr_load(gpkg, pg_dsn))
        ours.append(gis_load(engine, gpkg))
        print(f"run {i + 1}: ogr2ogr {ogr[-1]:.1f} s, gis load {ours[-1]:.1f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_ogr2ogr"))
        conn.execute(text("TRUNCATE survey_patches RESTART IDENTITY"))
    engine.dispose()
    m_ogr, m_ours = statistics.median(ogr), statistics.median(ours)
    gdal = subprocess.run(["ogr2ogr", "--version"], capture_output=True, text=True).stdout.strip()
    print()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {gdal}")
    print(f"| tool | median of {args.repeat} (s) | features/s |")
    print("|---|---|---|")
    print(f"| ogr2ogr (COPY, GiST) | {m_ogr:.1f} | {args.features / m_ogr:,.0f} |")
    print(f"| gis load (validate, map, upsert) | {m_ours:.1f} | {args.features / m_ours:,.0f} |")
    print(f"\nratio gis load / ogr2ogr: {m_ours / m_ogr:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
