"""The layer service against tipg: OGC API items pages and vector tiles on one PostGIS table.

Serves the same 1,000,000-parcel ``survey_patches`` table (the scale generator's survey,
``gis samples scale``) through One-Map's API (``api.asgi:app``) and through tipg (PyPI,
``tipg.main:app``) on this machine, both under uvicorn started by ``python -m api.server``
(uvicorn's workers with ``TCP_NODELAY``; see api/server.py), with the same number of workers
(2 each) and the same load: ``--clients`` concurrent asyncio httpx clients replaying the same
random request list against each server:

(a) items: ``/collections/{id}/items?bbox=...&limit=100``, bboxes of 0.02 x 0.016 degrees
    (~1.7 x 1.8 km, a few hundred parcels) at random places in the data;
(b) tiles: random WebMercatorQuad tiles at zoom 12-15 inside the data extent
    (ours ``/ogc/.../tiles/WebMercatorQuad/{z}/{y}/{x}``, tipg ``.../{z}/{x}/{y}``).

Both servers run side by side but only one is under load at any moment: each scenario's
measured time is cut into ``--slices`` slices that alternate between the two (A-B, B-A, ...),
so other work on the machine and slow drifts hit both alike (a server waiting for requests
costs nothing). Before measuring, both get a warm-up. Both clients send
``Accept-Encoding: gzip`` by default, as browsers and GDAL do, so both servers compress their
answers (``--encoding identity`` measures them uncompressed); kB/response is what crossed the
wire. Ours is called with a planner API key (``survey_patches`` is a planner
layer), so the key check is part of what is measured; tipg has no access control. tipg is
configured for the same tiles (4096 grid, 64-unit buffer); a check first decodes 20 tiles
from both and requires ours to hold every parcel tipg's does.

tipg is installed into its own venv (``benchmarks/out/.venv-tipg``, created on first run with
``python -m venv`` + ``pip install tipg uvicorn``) so its pins never touch ours. The database
is a temporary embedded cluster (removed at the end; ``--cluster-dir DIR`` keeps and reuses
one), or ``GIS_DATABASE_URL`` if set.

    .venv/bin/python benchmarks/bench_api.py [--parcels 1000000] [--seconds 30] [--clients 8]
        [--scenarios tiles,items] [--slices 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import numpy as np
from sqlalchemy import text

from gis.auth import issue_key, revoke_key
from gis.db.cluster import LocalCluster
from gis.db.engine import make_engine
from gis.db.migrate import upgrade
from gis.errors import NotFound
from gis.layers.load import LoadOptions, load_file
from gis.samples.scale import write_scale_dataset
from gis.settings import DatabaseSettings, Settings
from gis.tiles import lonlat_to_tile

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out"
TIPG_VENV = OUT / ".venv-tipg"
WORKERS = 2
LAYER = "survey_patches"
KEY_NAME = "bench-api"
#: Issue 24: One-Map's throughput at least this multiple of tipg's, on tiles and on items.
THROUGHPUT_GOAL = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- database ---------------------------------------------------------------------------------


def prepare_database(args: argparse.Namespace) -> tuple[str, LocalCluster | None, Path | None]:
    """A PostgreSQL URL with ``survey_patches`` holding ``args.parcels`` rows."""
    cluster, tmp = None, None
    if os.environ.get("GIS_DATABASE_URL"):
        url = os.environ["GIS_DATABASE_URL"]
    else:
        if args.cluster_dir:
            root = Path(args.cluster_dir)
        else:
            tmp = root = Path(tempfile.mkdtemp(prefix="onemap-bench-api-"))
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # the unprivileged server account must traverse it
        cluster = LocalCluster(root / "cluster", free_port() if tmp else args.port)
        cluster.up()
        url = cluster.url.replace("postgresql+psycopg://", "postgresql://")
    engine = make_engine(Settings(database=DatabaseSettings(url=url)))
    upgrade(engine)
    with engine.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {LAYER}")).scalar_one()
    if count != args.parcels:
        data = OUT / f"survey_{args.parcels}.gpkg"
        if not data.exists():
            t0 = time.perf_counter()
            write_scale_dataset(data, args.parcels, forest=0, grass=0)
            print(f"generated {data.name} in {time.perf_counter() - t0:.0f} s", flush=True)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {LAYER}"))
        t0 = time.perf_counter()
        n = load_file(engine, data, LAYER, LoadOptions(source_layer=LAYER)).features
        print(f"loaded {n:,} parcels in {time.perf_counter() - t0:.0f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {LAYER}"))
        # Read the whole table once so neither server pays for the first disk reads.
        conn.execute(text(f"SELECT sum(ST_NPoints(geom)) FROM {LAYER}"))
    engine.dispose()
    return url, cluster, tmp


def planner_key(url: str) -> str:
    engine = make_engine(Settings(database=DatabaseSettings(url=url)))
    try:
        with contextlib.suppress(NotFound):  # a key left by an interrupted run
            revoke_key(engine, KEY_NAME)
        return issue_key(engine, KEY_NAME, "planner")
    finally:
        engine.dispose()


def data_bounds(url: str) -> tuple[tuple[float, float, float, float], str]:
    """The table's lon/lat extent, and the server's PostgreSQL and PostGIS versions."""
    engine = make_engine(Settings(database=DatabaseSettings(url=url)))
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                f"(SELECT ST_Extent(geom) e FROM {LAYER}) s")).one()
        versions = conn.execute(text("SELECT current_setting('server_version'), "
                                     "postgis_lib_version()")).one()
    engine.dispose()
    bounds = tuple(float(v) for v in row)
    return bounds, f"PostgreSQL {versions[0].split()[0]}, PostGIS {versions[1]}"  # type: ignore[return-value]


# -- servers ----------------------------------------------------------------------------------


def ensure_tipg() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not (TIPG_VENV / "bin" / "uvicorn").exists():
        print("installing tipg into", TIPG_VENV, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TIPG_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn"],
                       check=True)
    return TIPG_VENV / "bin" / "uvicorn"


def tipg_version() -> str:
    out = subprocess.run([str(TIPG_VENV / "bin" / "python"), "-c",
                          "import tipg; print(tipg.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@dataclass
class Server:
    name: str
    cmd: list[str]
    env: dict[str, str]
    health: str
    tile_path: str  # format with z, x, y
    items_path: str
    headers: dict[str, str] = field(default_factory=dict)
    #: Where the server's output goes (ours writes an access line per request).
    log: Any = None
    proc: subprocess.Popen | None = None
    port: int = 0

    def start(self) -> str:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [*self.cmd, "--host", "127.0.0.1", "--port", str(self.port), "--workers",
             str(WORKERS), "--log-level", "warning"],
            env={**os.environ, **self.env}, cwd=ROOT, stdout=self.log, stderr=self.log)
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + self.health, timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None


def servers(url: str, key: str) -> dict[str, Server]:
    tipg_python = ensure_tipg().with_name("python")
    tipg_env = {
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f'["public.{LAYER}"]',
        "TIPG_DB_FUNCTIONS": "[]",
        # Same MVT geometry settings as ours (4096 grid, 64-unit buffer, clipped).
        "TIPG_TILE_BUFFER": "64",
        "TIPG_CATALOG_TTL": "0",
    }
    ours_env = {"GIS_DATABASE_URL": url}
    # Both through api/server.py (stdlib and uvicorn only, so tipg's venv runs it too): with
    # several workers plain ``uvicorn`` leaves Nagle's algorithm on and every answer waits
    # 40 ms for the client's delayed ACK; the same launcher keeps the comparison about the
    # servers, not that.
    launcher = ["-m", "api.server"]
    return {
        "tipg": Server("tipg", [str(tipg_python), *launcher, "tipg.main:app"], tipg_env,
                       "/healthz",
                       f"/collections/public.{LAYER}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}",
                       f"/collections/public.{LAYER}/items"),
        "ours": Server("ours", [sys.executable, *launcher, "api.asgi:app"], ours_env,
                       "/health",
                       f"/ogc/collections/{LAYER}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}",
                       f"/ogc/collections/{LAYER}/items", {"X-API-Key": key}),
    }


# -- load -------------------------------------------------------------------------------------


def tile_requests(bounds: tuple[float, ...], n: int, seed: int) -> list[tuple[int, int, int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = lonlat_to_tile(rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3]),
                           rng.randint(12, 15))
        out.append((t.z, t.x, t.y))
    return out


def bbox_requests(bounds: tuple[float, ...], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    w, h = 0.02, 0.016
    out = []
    for _ in range(n):
        x = rng.uniform(bounds[0], bounds[2] - w)
        y = rng.uniform(bounds[1], bounds[3] - h)
        out.append(f"{x:.6f},{y:.6f},{x + w:.6f},{y + h:.6f}")
    return out


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def request_urls(server: Server, scenario: str, tiles: list, bboxes: list) -> list[str]:
    if scenario == "tiles":
        return [server.tile_path.format(z=z, x=x, y=y) for z, x, y in tiles]
    return [f"{server.items_path}?bbox={b}&limit=100" for b in bboxes]


async def _load(base: str, headers: dict[str, str], urls: list[str], clients: int,
                seconds: float, offset: int = 0, encoding: str = "gzip") -> Result:
    """``clients`` concurrent loops for ``seconds``; client i replays urls from
    ``offset + i * step``."""
    latencies: list[float] = []
    counts = {"errors": 0, "bytes": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={**headers,
                                 "Accept-Encoding": encoding},
                                 timeout=60, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + seconds
        step = max(1, len(urls) // clients)

        async def loop(i: int) -> None:
            k = offset + i * step
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.get(urls[k % len(urls)])
                except httpx.TransportError:
                    counts["errors"] += 1
                    continue
                finally:
                    k += 1
                if response.status_code in (200, 204):
                    latencies.append(time.perf_counter() - t0)
                    counts["bytes"] += response.num_bytes_downloaded
                else:
                    counts["errors"] += 1

        await asyncio.gather(*(loop(i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    return Result(len(latencies), counts["errors"], elapsed, latencies, counts["bytes"])


def warm_up(base: str, headers: dict[str, str], urls: list[str], clients: int,
            seconds: float, encoding: str) -> None:
    """One request alone first (lazy set-up in each server), then concurrent load on the list
    reversed, so the measured requests are not answered from caches the warm-up filled."""
    for url in urls[-2:]:
        httpx.get(base + url, headers=headers, timeout=60)
    asyncio.run(_load(base, headers, urls[::-1], clients, seconds, encoding=encoding))


def merge(parts: list[Result]) -> Result:
    return Result(sum(r.requests for r in parts), sum(r.errors for r in parts),
                  sum(r.seconds for r in parts), [x for r in parts for x in r.latencies],
                  sum(r.bytes for r in parts))


def check_equivalent(bases: dict[str, str], srv: dict[str, Server],
                     tiles: list[tuple[int, int, int]]) -> str:
    """Both servers return the same parcels for the same tiles (ours may add the few
    parcels that only touch the 64-unit buffer, which tipg's filter leaves out)."""
    ours_n = tipg_n = 0
    for z, x, y in tiles[:20]:
        got = {}
        for name in ("ours", "tipg"):
            r = httpx.get(bases[name] + srv[name].tile_path.format(z=z, x=x, y=y),
                          headers=srv[name].headers, timeout=60)
            assert r.status_code in (200, 204), (name, r.status_code, r.text[:300])
            layers = mapbox_vector_tile.decode(r.content) if r.content else {}
            feats = next(iter(layers.values()))["features"] if layers else []
            got[name] = {f.get("id") or f["properties"].get("id") for f in feats}
        missing = got["tipg"] - got["ours"]
        assert not missing, f"tile {z}/{x}/{y}: ours lacks {sorted(missing)[:5]}"
        ours_n += len(got["ours"])
        tipg_n += len(got["tipg"])
    return f"20 tiles: ours {ours_n:,} features, tipg {tipg_n:,} (ours adds buffer-only ones)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="measured seconds per server and scenario (over all slices)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--slices", type=int, default=10,
                        help="alternate the servers this many times per scenario")
    parser.add_argument("--scenarios", default="tiles,items")
    parser.add_argument("--encoding", default="gzip", choices=("gzip", "identity"),
                        help="Accept-Encoding both clients send")
    parser.add_argument("--cluster-dir", help="keep the embedded cluster here (reused)")
    parser.add_argument("--port", type=int, default=55990, help="cluster port with --cluster-dir")
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]

    url, cluster, tmp = prepare_database(args)
    try:
        key = planner_key(url)
        bounds, pg = data_bounds(url)
        tiles = tile_requests(bounds, 4000, seed=12)
        bboxes = bbox_requests(bounds, 4000, seed=13)
        srv = servers(url, key)
        for name, server in srv.items():  # their output (our access log) beside the results
            server.log = (OUT / f"bench_api_{name}.log").open("w")
        bases = {name: server.start() for name, server in srv.items()}
        results: dict[tuple[str, str], Result] = {}
        slices: dict[tuple[str, str], list[float]] = {}
        loads: list[float] = []
        try:
            if "tiles" in scenarios:
                print(check_equivalent(bases, srv, tiles), flush=True)
            for scenario in scenarios:
                urls = {name: request_urls(server, scenario, tiles, bboxes)
                        for name, server in srv.items()}
                for name, server in srv.items():
                    warm_up(bases[name], server.headers, urls[name], args.clients, args.warmup,
                            args.encoding)
                parts: dict[str, list[Result]] = {"tipg": [], "ours": []}
                for i in range(args.slices):
                    order = ["tipg", "ours"] if i % 2 == 0 else ["ours", "tipg"]
                    for name in order:
                        loads.append(os.getloadavg()[0])
                        part = asyncio.run(_load(
                            bases[name], srv[name].headers, urls[name], args.clients,
                            args.seconds / args.slices, offset=i * 97, encoding=args.encoding))
                        parts[name].append(part)
                        slices.setdefault((scenario, name), []).append(part.rps)
                for name, server_parts in parts.items():
                    res = results[(scenario, name)] = merge(server_parts)
                    print(f"{name:5s} {scenario:6s}: {res.rps:7.1f} req/s, median "
                          f"{res.ms(50):6.1f} ms, p95 {res.ms(95):6.1f} ms, errors "
                          f"{res.errors}, {res.bytes / max(res.requests, 1) / 1000:.1f} kB/resp",
                          flush=True)
        finally:
            for server in srv.values():
                server.stop()
                server.log.close()
    finally:
        if cluster is not None and tmp is not None:
            cluster.down()
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, tipg {tipg_version()}, {pg}")
    print(f"Data: {args.parcels:,} parcels; {WORKERS} uvicorn workers each; {args.clients} "
          f"concurrent clients; {args.seconds:.0f} s measured per server and scenario in "
          f"{args.slices} alternating slices; Accept-Encoding: {args.encoding}; machine load "
          f"average during the run "
          f"{min(loads):.1f}-{max(loads):.1f} (everything on the machine, this run included)")
    print()
    print("| scenario | server | req/s | median ms | p95 ms | kB/response | errors |")
    print("|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        for name in ("tipg", "ours"):
            res = results.get((scenario, name))
            if res is None:
                continue
            label = "One-Map" if name == "ours" else "tipg"
            print(f"| {scenario} | {label} | {res.rps:,.1f} | {res.ms(50):.1f} | "
                  f"{res.ms(95):.1f} | {res.bytes / max(res.requests, 1) / 1000:.1f} | "
                  f"{res.errors} |")
    for scenario in scenarios:
        if (scenario, "ours") in results and (scenario, "tipg") in results:
            ratio = results[(scenario, "ours")].rps / results[(scenario, "tipg")].rps
            print(f"{scenario}: One-Map / tipg = {ratio:.2f}x (goal >= {THROUGHPUT_GOAL}x)")
    print()
    print("req/s per slice:", json.dumps({f"{s}/{n}": [round(x, 1) for x in v]
                                          for (s, n), v in slices.items()}))

if __name__ == "__main__":
    main()
