"""Forest/grassland detection against the same detection in geopandas (issue 24, section 1).

For each size N the scale generator writes N survey patches, N forest and N grassland parcels
(the forest and grassland partitions overlap over a third of their extent), `gis load` loads
them, and a division covering all three is added. Then, in one run and alternating
(A B A B A B: geopandas, then each of our variants, per round), the benchmark times:

- A: `benchmarks/geopandas_detection.py`, the same detection in vectorised geopandas/shapely
  as an analyst would write it (reading the GeoPackage included, nothing written);
- B: `gis.analysis.forest_grass.detect` on a fresh work list, every kind, findings and their
  events written: the PostGIS scan (`postgis`), and the tiled scan on dask.distributed
  LocalClusters of 1 and 2 worker processes (`tiled-1`, `tiled-2`; the clusters are started
  once, before the rounds, and their start-up is printed apart). Each run is split into the
  scan and the work-list writes.

The run stops if any variant's counts per kind differ from geopandas'. Ratios are medians of
ours over the median of geopandas. Then the re-detection: decisions are recorded on a few
hundred findings, 1% of each layer's parcels change (shrunk by 0.2% about their centroid,
areas and `updated_at` updated), and `detect` runs again, per variant, timed and checked:
every decided finding still on the work list must keep its decision. The re-detection is
incremental (only the findings of changed parcels are computed); with `--verify` (the
default) a full re-detection follows, which must find nothing new, close nothing and
rewrite no finding, i.e. the incremental run left exactly the work list a full one would.

Peak memory is sampled every 0.2 s as the proportional set size of this process, its
children (the dask workers) and the benchmark cluster's PostgreSQL processes (see
``MemoryPeak``); the geopandas detection runs in a process of its own and reports its peak.

    .venv/bin/python benchmarks/bench_forest_grass.py [--sizes 50000] [--rounds 3]
        [--variants postgis tiled-1 tiled-2]

Point it at a database of its own (it empties every table): e.g. `GIS_DATA_DIR=/tmp/x
GIS_DB_PORT=55990` starts a private embedded cluster there.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from geopandas_detection import detect_with_geopandas
from sqlalchemy import Engine, text

from gis.analysis.forest_grass import TileOptions, decide, detect
from gis.db.cluster import cluster_from_settings
from gis.db.engine import make_engine
from gis.db.migrate import upgrade
from gis.identity import Actor
from gis.layers.load import LoadOptions, load_file
from gis.layers.schema import layer_tables, metadata
from gis.samples.scale import write_scale_dataset
from gis.settings import get_settings

OUT = Path(__file__).parent / "out"
LAYERS = ("survey_patches", "forest_parcels", "grassland_parcels")
DECISIONS = 300


class MemoryPeak:
    """Peak memory (GB) of a detection: the proportional set size (PSS) summed over this
    process, its children (the dask workers) and the processes of the benchmark's own
    PostgreSQL cluster (its postmaster and everything under it).

    PSS, not RSS: PostgreSQL's shared buffers are mapped by every backend, and RSS counts
    them once per process that touched them; PSS splits each shared page among the processes
    mapping it, so the sum is what the run occupies. Only this cluster's processes: a summed
    ``postgres`` by name also counted other clusters on the machine. The geopandas yardstick
    runs in a process of its own (:func:`geopandas_in_child`), so what it read does not stay
    in this one's heap."""

    def __init__(self, engine: Engine, stages: StageTimes | None = None) -> None:
        self.stages = stages
        with engine.connect() as conn:
            data_dir = conn.execute(text("SHOW data_directory")).scalar_one()
        self.postmaster = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])

    def __enter__(self) -> MemoryPeak:
        self.peak, self._stop = 0.0, threading.Event()
        #: CPU seconds the sampling thread has used (reading every process's smaps): not
        #: the detection's, so :class:`CpuClock` leaves it out.
        self.sampler_cpu = 0.0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me, postmaster = psutil.Process(), psutil.Process(self.postmaster)
        self.parts = {"this process": 0.0, "dask workers": 0.0, "PostgreSQL": 0.0}
        self.where = dict.fromkeys(self.parts, "")
        while not self._stop.wait(0.2):
            groups = {"this process": [me], "dask workers": me.children(recursive=True),
                      "PostgreSQL": [postmaster, *postmaster.children(recursive=True)]}
            sums = {}
            for name, procs in groups.items():
                sums[name] = 0.0
                for proc in procs:
                    try:
                        sums[name] += proc.memory_full_info().pss / 1e9
                    except psutil.Error:
                        continue
                if sums[name] > self.parts[name]:
                    self.parts[name] = sums[name]
                    starts = self.stages.starts if self.stages else []
                    self.where[name] = starts[-1][0].rsplit(".", 1)[-1] if starts else ""
            self.peak = max(self.peak, sum(sums.values()))
            self.sampler_cpu = time.thread_time()

    def breakdown(self) -> str:
        """Each group's own peak (they need not peak together)."""
        return ", ".join(f"{name} {gb:.1f} ({self.where[name]})"
                         for name, gb in self.parts.items())


class CpuClock:
    """CPU seconds (user + system) used so far by the same three groups as
    :class:`MemoryPeak`: this process, its children (the dask workers) and the benchmark's
    PostgreSQL cluster. PostgreSQL's backends and parallel workers come and go; a process
    that has ended is counted in its parent's ``children_*`` times once reaped, so the
    postmaster's own and reaped children's times plus the live processes' cover them all.
    Wall time on a machine of two cores says how the work was spread; CPU time says how much
    work there was, which is what tells a slower algorithm from more work."""

    def __init__(self, postmaster: int, sampler: MemoryPeak | None = None) -> None:
        self.me, self.postmaster = psutil.Process(), psutil.Process(postmaster)
        self.sampler = sampler

    @staticmethod
    def _own(proc: psutil.Process, reaped: bool = False) -> float:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system + ((t.children_user + t.children_system) if reaped else 0.0)

    def snapshot(self) -> dict[str, float]:
        workers = self.me.children(recursive=True)
        backends = self.postmaster.children(recursive=True)
        sampling = getattr(self.sampler, "sampler_cpu", 0.0)
        return {"this process": self._own(self.me) - sampling,
                "dask workers": sum(self._own(p, reaped=True) for p in workers),
                "PostgreSQL": self._own(self.postmaster, reaped=True)
                + sum(self._own(p) for p in backends)}


def _cpu_delta(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(b[k] - a[k] for k in a)


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _geopandas_child(path: Path) -> tuple[dict[str, int], float, float, float]:
    t0, cpu0 = time.perf_counter(), _cpu_self()
    counts = detect_with_geopandas(path)
    seconds, cpu = time.perf_counter() - t0, _cpu_self() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB -> GB
    return counts, seconds, peak, cpu


def geopandas_in_child(path: Path) -> tuple[dict[str, int], float, float, float]:
    """The geopandas detection in a fresh process: (counts, seconds timed inside it, its
    peak RSS in GB, its CPU seconds). The process start and imports are not timed."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(int).result()  # started and imported before the clock runs
        return pool.submit(_geopandas_child, path).result()


class StageTimes:
    """A progress sink noting when each stage of ``detect`` starts: the scan runs until the
    work-list stage begins."""

    def __init__(self, cpu: CpuClock | None = None) -> None:
        self.starts: list[tuple[str, float]] = []
        self.cpu = cpu
        self.cpu_marks: list[dict[str, float]] = []

    def stage(self, description: Any, total: int | None = None) -> None:
        self.starts.append((getattr(description, "key", str(description)), time.perf_counter()))
        if self.cpu is not None:
            self.cpu_marks.append(self.cpu.snapshot())

    def advance(self, steps: int = 1) -> None:
        pass

    def phases(self, end: float) -> str:
        """Seconds from each stage's start to the next one's (the last to ``end``), e.g. the
        tiled scan's tiles and collecting, then the work-list writes."""
        marks = [*self.starts, ("end", end)]
        return ", ".join(f"{key.split('.')[0]}:{key.rsplit('.', 1)[-1]} {b[1] - a[1]:.1f}"
                         for (key, _), a, b in zip(marks, marks, marks[1:], strict=False))

    def cpu_phases(self, begin: dict[str, float], end: dict[str, float]) -> dict[str, float]:
        """CPU seconds (all three groups) from each stage's start to the next one's, keyed
        by stage (the time before the first stage under "start")."""
        marks = [begin, *self.cpu_marks, end]
        names = ["start", *(key.rsplit(".", 1)[-1] for key, _ in self.starts)]
        out: dict[str, float] = {}
        for name, a, b in zip(names, marks, marks[1:], strict=False):
            out[name] = out.get(name, 0.0) + _cpu_delta(a, b)
        return out

    def split(self, begin: float, end: float) -> tuple[float, float]:
        writes = next(t for key, t in self.starts if key == "worklist.stage.updating")
        return writes - begin, end - writes


def _load_layers(path: Path) -> None:
    """The three layers from the GeoPackage, with ``gis load``'s loader (in a child process;
    the database from the environment's settings, as in the parent)."""
    engine = make_engine(get_settings())
    try:
        for layer in LAYERS:
            load_file(engine, path, layer, LoadOptions(source_layer=layer))
    finally:
        engine.dispose()


def prepare(engine: Engine, n: int, cell: float | None = None) -> Path:
    path = OUT / (f"forest_grass_{n}.gpkg" if cell is None else f"forest_grass_{n}_{cell}.gpkg")
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        write_scale_dataset(path, n, forest=n, grass=n,
                            **({} if cell is None else {"cell_deg": cell}))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables
                                                  if t.name != "api_keys")
                          + " RESTART IDENTITY CASCADE"))
    # In a process of its own, like the geopandas yardstick: reading millions of parcels
    # would otherwise stay in this process's heap and be counted as the detection's memory.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(_load_layers, path).result()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin_divisions (code, name, level, geom, area_m2) "
            "SELECT '640000', '宁夏', 'region', ST_Multi(ST_Envelope(ST_Collect(geom))), 0 "
            "FROM (SELECT geom FROM survey_patches UNION ALL SELECT geom FROM forest_parcels "
            "UNION ALL SELECT geom FROM grassland_parcels) AS everything"))
        conn.execute(text("ANALYZE"))
    return path


def fresh_worklist(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE recon_findings, recon_events, recon_runs, "
                          "recon_field_results RESTART IDENTITY CASCADE"))


def timed_detect(engine: Engine, tiles: TileOptions | None, full: bool = False
                 ) -> dict[str, Any]:
    mem = MemoryPeak(engine)
    stages = StageTimes(CpuClock(mem.postmaster, mem))
    mem.stages = stages
    cpu0 = stages.cpu.snapshot()
    t0 = time.perf_counter()
    with mem:
        summary = detect(engine, "640000", progress=stages, tiles=tiles, full=full)
    end = time.perf_counter()
    cpu1 = stages.cpu.snapshot()
    scan, writes = stages.split(t0, end)
    cpu = stages.cpu_phases(cpu0, cpu1)
    cpu_writes = cpu.get("updating", 0.0)
    return {"total": end - t0, "scan": scan, "writes": writes, "summary": summary,
            "mem": mem.peak, "mem_parts": mem.breakdown(), "phases": stages.phases(end),
            "cpu": _cpu_delta(cpu0, cpu1), "cpu_scan": _cpu_delta(cpu0, cpu1) - cpu_writes,
            "cpu_writes": cpu_writes, "cpu_phases": cpu}


def change_one_percent(engine: Engine) -> int:
    """Shrink 1% of each layer's parcels by 0.2% about their centroid (a boundary
    correction), with their areas and ``updated_at``; the number changed."""
    changed = 0
    with engine.begin() as conn:
        for layer in LAYERS:
            changed += conn.execute(text(
                f"UPDATE {layer} SET geom = ST_Multi(ST_Scale(geom, "
                "ST_MakePoint(0.998, 0.998), ST_Centroid(geom))), updated_at = now() "
                "WHERE id % 100 = 7")).rowcount
            conn.execute(text(f"UPDATE {layer} SET area_m2 = ST_Area(geography(geom), true) "
                              "WHERE id % 100 = 7"))
        conn.execute(text("ANALYZE"))
    return changed


def record_decisions(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, version FROM recon_findings WHERE kind <> 'sliver' "
            "ORDER BY (id * 7919) % 100003 LIMIT :n"), {"n": DECISIONS}).all()
    for fid, version in rows:
        decide(engine, fid, "no_change", Actor("基准测试"), "benchmark decision", version)
    return {fid: "no_change" for fid, _ in rows}


def decisions_kept(engine: Engine, decided: dict[int, str]) -> tuple[int, int, int]:
    """(kept, closed, lost) among the decided findings after a re-detection."""
    with engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT id, status || ':' || coalesce(decision, '') FROM recon_findings "
            "WHERE id = ANY(:ids)"), {"ids": list(decided)}).all())
    kept = sum(rows.get(f) == f"decided:{d}" for f, d in decided.items())
    closed = sum(rows.get(f, "").startswith("closed") for f in decided)
    return kept, closed, len(decided) - kept - closed


def verify_full(engine: Engine, tiles: TileOptions | None) -> tuple[int, int, int, float]:
    """A full re-detection right after the incremental one: (new, closed, findings it
    rewrote, seconds); all three counts are 0 when the incremental run was exact."""
    run = timed_detect(engine, tiles, full=True)
    with engine.connect() as conn:
        rewritten = conn.execute(text(
            "SELECT count(*) FROM recon_findings WHERE last_run = :r AND first_run <> :r "
            "AND status <> 'closed'"), {"r": run["summary"].run_id}).scalar_one()
    return run["summary"].new, run["summary"].closed, rewritten, run["total"]


def start_clients(variants: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    from distributed import Client, LocalCluster

    clients, startup = {}, {}
    for variant in variants:
        if variant.startswith("tiled-"):
            t0 = time.perf_counter()
            cluster = LocalCluster(n_workers=int(variant.split("-")[1]), threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            clients[variant] = Client(cluster)
            startup[variant] = time.perf_counter() - t0
    return clients, startup


def options(variant: str, clients: dict[str, Any]) -> TileOptions | None:
    return None if variant == "postgis" else TileOptions(client=clients[variant])


def med(values: list[float]) -> float:
    return statistics.median(values)


def rounds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cell", type=float, default=None, help=(
        "Grid cell of the generated parcels in degrees (default 0.002); 1,000,000 parcels "
        "per layer fit into Ningxia only with 0.0017 or less."))
    parser.add_argument("--variants", nargs="+", default=["postgis", "tiled-1", "tiled-2"])
    parser.add_argument("--redetect", action=argparse.BooleanOptionalAction, default=True,
                        help="Also time a re-detection after 1%% of the parcels changed.")
    parser.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                        help="After the re-detection, check it against a full one.")
    args = parser.parse_args()
    settings = get_settings()
    if settings.database.uses_embedded_cluster:
        cluster_from_settings(settings).up()
    engine = make_engine(settings)
    upgrade(engine)
    layer_tables()
    clients, startup = start_clients(args.variants)
    print(f"cluster start-up: {', '.join(f'{k} {v:.1f} s' for k, v in startup.items())}",
          flush=True)
    table = []
    for n in args.sizes:
        path = prepare(engine, n, args.cell)
        gp: list[float] = []
        gp_mem: list[float] = []
        gp_cpu: list[float] = []
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants}
        load: list[float] = []
        for r in range(args.rounds):
            counts, seconds, gp_peak, cpu = geopandas_in_child(path)
            gp.append(seconds)
            gp_mem.append(gp_peak)
            gp_cpu.append(cpu)
            print(f"N={n:,} round {r + 1}: geopandas {gp[-1]:.1f} s ({cpu:.1f} CPU-s), "
                  f"peak {gp_peak:.1f} GB", flush=True)
            for variant in args.variants:
                fresh_worklist(engine)
                run = timed_detect(engine, options(variant, clients))
                runs[variant].append(run)
                load.append(os.getloadavg()[0])
                if run["summary"].detected != counts:
                    raise SystemExit(f"{variant} disagrees with geopandas: "
                                     f"{run['summary'].detected} vs {counts}")
                print(f"  {variant}: detect {run['total']:.1f} s (scan {run['scan']:.1f} / "
                      f"writes {run['writes']:.1f}), peak {run['mem']:.1f} GB "
                      f"({run['mem_parts']}); stages: {run['phases']}; CPU-s {run['cpu']:.1f} "
                      f"({', '.join(f'{k} {v:.1f}' for k, v in run['cpu_phases'].items())})",
                      flush=True)
        redetect = {}
        for variant in args.variants if args.redetect else []:
            if redetect:  # the previous variant changed the parcels: load them afresh
                prepare(engine, n, args.cell)
            fresh_worklist(engine)
            first = timed_detect(engine, options(variant, clients))
            decided = record_decisions(engine)
            changed = change_one_percent(engine)
            again = timed_detect(engine, options(variant, clients))
            kept = decisions_kept(engine, decided)
            check = verify_full(engine, options(variant, clients)) if args.verify else None
            redetect[variant] = (first, again, kept, changed, check)
            s = again["summary"]
            print(f"  re-detect {variant}: {s.mode} {again['total']:.1f} s after {changed:,} "
                  f"parcels changed ({s.changed} seen; first {first['total']:.1f} s); "
                  f"new {s.new}, kept {s.kept}, closed {s.closed}; decisions kept/closed/lost "
                  f"{kept}; full re-detection after it: new/closed/rewritten "
                  f"{check[:3] if check else '-'}", flush=True)
        table.append((n, gp, runs, redetect, sum(counts.values()), load, gp_mem, gp_cpu))
    engine.dispose()
    report(table, startup)


def report(table: list, startup: dict[str, float]) -> None:
    print()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python "
          f"{platform.python_version()}")
    print(f"LocalCluster start-up (once, not in the times): "
          f"{', '.join(f'{k} {v:.1f} s' for k, v in startup.items())}")
    print("| parcels per layer | findings | variant | `detect` incl. work list | scan / writes "
          "| geopandas detection | scan / geopandas, median of per-round ratios (goal <= 0.7) "
          "| detect / geopandas, median of per-round ratios (goal <= 1.5 at 50k, 1.0 at 200k) "
          "| peak memory (PSS: this process, dask workers, PostgreSQL; goal <= 4 GB) "
          "| geopandas' peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, gp, runs, _, found, _, gp_mem, _ in table:
        g = med(gp)
        for variant, rs in runs.items():
            total, scan = med([r["total"] for r in rs]), med([r["scan"] for r in rs])
            writes = med([r["writes"] for r in rs])
            # Per round, ours over the geopandas run just before it: steadier than medians
            # over rounds when the machine's load changes between rounds.
            scan_r = [r["scan"] / t for r, t in zip(rs, gp, strict=True)]
            total_r = [r["total"] / t for r, t in zip(rs, gp, strict=True)]
            print(f"| {n:,} | {found:,} | {variant} | {total:.1f} s | {scan:.1f} / "
                  f"{writes:.1f} s | {g:.1f} s | {med(scan_r):.2f} ({rounds(scan_r)}) | "
                  f"{med(total_r):.2f} ({rounds(total_r)}) | "
                  f"{max(r['mem'] for r in rs):.1f} GB | {max(gp_mem):.1f} GB |")
    print()
    print("CPU seconds (user + system, all processes of the run), medians over the rounds: "
          "how much work each did, apart from how it was spread over the cores.")
    print("| parcels per layer | variant | geopandas | `detect` | scan | of which tiles "
          "| of which collecting | writes | scan CPU / geopandas CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, _, runs, _, _, _, _, gp_cpu in table:
        g = med(gp_cpu)
        for variant, rs in runs.items():
            tiled = variant != "postgis"
            part = {k: f"{med([r['cpu_phases'].get(k, 0.0) for r in rs]):.1f}" if tiled
                    else "-" for k in ("detecting", "collecting")}
            print(f"| {n:,} | {variant} | {g:.1f} | {med([r['cpu'] for r in rs]):.1f} | "
                  f"{med([r['cpu_scan'] for r in rs]):.1f} | "
                  f"{part['detecting']} | {part['collecting']} | "
                  f"{med([r['cpu_writes'] for r in rs]):.1f} | "
                  f"{med([r['cpu_scan'] / c for r, c in zip(rs, gp_cpu, strict=True)]):.2f} |")
    print()
    print("| parcels per layer | variant | parcels changed | first detect | re-detect (mode) "
          "| ratio (goal <= 0.3) | new / kept / closed | decisions kept / closed / lost "
          "| full re-detection after it: new / closed / rewritten (time) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, _, _, redetect, _, load, _, _ in table:
        for variant, (first, again, kept, changed, check) in redetect.items():
            s = again["summary"]
            verified = (f"{check[0]} / {check[1]} / {check[2]} ({check[3]:.1f} s)" if check
                        else "-")
            print(f"| {n:,} | {variant} | {changed:,} | {first['total']:.1f} s | "
                  f"{again['total']:.1f} s ({s.mode}) | {again['total'] / first['total']:.2f} "
                  f"| {s.new} / {s.kept} / {s.closed} | {kept[0]} / {kept[1]} / {kept[2]} | "
                  f"{verified} |")
        print(f"load average (1 min) during the timed runs at {n:,}: "
              f"{min(load):.1f}-{max(load):.1f}")


if __name__ == "__main__":
    main()
