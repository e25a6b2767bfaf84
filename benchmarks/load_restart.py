"""Load with a database restart in the middle: 50 clients for 60 s against the API (OGC
items, vector tiles, siting checks, /health), the embedded PostgreSQL stopped and started
again half-way. Reports requests, 5xx inside and outside the outage window, errors after
recovery, latency and the server's RSS before and after (figures in docs/reliability.md).

The database is a temporary embedded cluster with the samples (removed at the end); the
server is ``uvicorn api.asgi:app`` in its own process. Not part of the test suite.

    .venv/bin/python benchmarks/load_restart.py [--clients 50] [--seconds 60]
        [--restart-at 25] [--down-for 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.auth import issue_key  # noqa: E402
from gis.db.cluster import LocalCluster  # noqa: E402
from gis.db.engine import make_engine  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.samples import load_samples  # noqa: E402
from gis.settings import Settings  # noqa: E402
from gis.tiles import lonlat_to_tile  # noqa: E402

SQUARE = {"type": "Polygon", "coordinates": [[[106.38, 39.02], [106.385, 39.02],
                                              [106.385, 39.024], [106.38, 39.024],
                                              [106.38, 39.02]]]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn workers), MB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@dataclass
class Record:
    kind: str
    at: float  # sent, s from the start
    status: int
    ms: float
    detail: str = ""

    @property
    def done(self) -> float:
        return self.at + self.ms / 1000

    def window(self, run: Run) -> str:
        """before: answered before the database went down; after: sent after it was back;
        outage: the rest (sent or answered while it was away, or in flight then)."""
        if self.done < run.down_at:
            return "before"
        return "after" if self.at > run.up_at else "outage"


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    down_at: float = 0.0
    up_at: float = 0.0


def requests_for(bounds: tuple[float, float, float, float]) -> list[tuple[str, str, dict]]:
    minx, miny, maxx, maxy = bounds
    out = []
    rng = random.Random(21)
    for _ in range(400):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        box = f"{lon:.4f},{lat:.4f},{lon + 0.02:.4f},{lat + 0.016:.4f}"
        out.append(("items", "GET", {"url": "/ogc/collections/forest_parcels/items",
                                      "params": {"bbox": box, "limit": 100}}))
        z = rng.choice([12, 13, 14])
        tile = lonlat_to_tile(lon, lat, z)
        out.append(("tiles", "GET", {"url": f"/ogc/collections/survey_patches/tiles/"
                                            f"WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"}))
        out.append(("health", "GET", {"url": "/health"}))
    out.append(("siting", "POST", {"url": "/api/v1/analysis/siting", "json": {
        "geometry": SQUARE, "activity": "LA1", "new_construction_land": False}}))
    return out


async def client_loop(http: httpx.AsyncClient, plan: list, run: Run, start: float,
                      stop: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop:
        kind, method, spec = rng.choice(plan)
        if rng.random() < 0.1:
            kind, method, spec = plan[-1]  # a siting check now and then
        t0 = time.monotonic()
        detail = ""
        try:
            response = await http.request(method, **spec)
            status = response.status_code
            if status >= 500:
                detail = response.json().get("detail", "")[:60]
        except httpx.HTTPError as exc:
            status, detail = 599, type(exc).__name__  # no answer at all
        except ValueError:
            detail = "not JSON"
        run.records.append(Record(kind, t0 - start, status, (time.monotonic() - t0) * 1000,
                                  detail))


async def load(base: str, key: str, plan: list, clients: int, seconds: float,
               cluster: LocalCluster, restart_at: float, down_for: float) -> Run:
    run = Run()
    start = time.monotonic()
    stop = start + seconds

    async def restart() -> None:
        await asyncio.sleep(restart_at)
        run.down_at = time.monotonic() - start
        await asyncio.to_thread(cluster.down)
        await asyncio.sleep(down_for)
        await asyncio.to_thread(cluster.up)
        run.up_at = time.monotonic() - start

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60,
                                 limits=limits) as http:
        await asyncio.gather(restart(), *(client_loop(http, plan, run, start, stop, i)
                                          for i in range(clients)))
    return run


def _breakdown(run: Run) -> dict[str, int]:
    """5xx answers counted by window (before, outage, after), kind and status."""
    counts: dict[str, int] = {}
    for r in run.records:
        if r.status < 500:
            continue
        key = f"{r.window(run)} {r.kind} {r.status} {r.detail}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def summarize(run: Run, rss_before: float, rss_after: float) -> dict:
    recs = run.records
    inside = [r for r in recs if r.window(run) == "outage"]
    after = [r for r in recs if r.window(run) == "after"]
    before = [r for r in recs if r.window(run) == "before"]
    first_ok = min((r.at for r in after if r.status < 500), default=None)
    recovered = [r for r in after if first_ok is not None and r.at >= first_ok]
    by_kind = {}
    for kind in sorted({r.kind for r in recs}):
        mine = sorted(r.ms for r in recs if r.kind == kind)
        by_kind[kind] = {"requests": len(mine), "p50_ms": round(mine[len(mine) // 2], 1),
                         "p95_ms": round(mine[int(len(mine) * 0.95)], 1)}
    return {
        "requests": len(recs),
        "outage_window_s": [round(run.down_at, 1), round(run.up_at, 1)],
        "5xx_before_outage": sum(r.status >= 500 for r in before),
        "requests_before_in_outage_after": [len(before), len(inside), len(after)],
        "5xx_in_outage": sum(r.status >= 500 for r in inside),
        "503_in_outage": sum(r.status == 503 for r in inside),
        "other_5xx_in_outage": sum(r.status >= 500 and r.status != 503 for r in inside),
        "5xx_after_restart_before_first_success": sum(
            r.status >= 500 for r in after if first_ok is None or r.at < first_ok),
        "first_success_after_restart_s": None if first_ok is None else round(
            first_ok - run.up_at, 2),
        "errors_after_recovery": sum(r.status >= 500 for r in recovered),
        "5xx_by_window_kind_status": _breakdown(run),
        "by_kind": by_kind,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--restart-at", type=float, default=25)
    parser.add_argument("--down-for", type=float, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="onemap-load-"))
    root.chmod(0o755)
    port = free_port()
    env = {**os.environ, "GIS_DATA_DIR": str(root / "cluster"), "GIS_DB_PORT": str(port),
           "GIS_LOG_LEVEL": "WARNING"}
    env.pop("GIS_DATABASE_URL", None)
    os.environ.update({k: env[k] for k in ("GIS_DATA_DIR", "GIS_DB_PORT")})
    settings = Settings()
    cluster = LocalCluster(settings.database.data_dir, port, os_user=settings.database.os_user)
    cluster.up()
    server = None
    try:
        engine = make_engine(settings)
        upgrade(engine)
        load_samples(engine, settings)
        key = issue_key(engine, "load", "admin", 10_000_000)
        with engine.connect() as conn:
            from sqlalchemy import text

            bounds = conn.execute(text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM forest_parcels) s")).one()
        engine.dispose()
        api_port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.asgi:app", "--host", "127.0.0.1",
             "--port", str(api_port), "--no-access-log", "--log-level", "warning"],
            env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        plan = requests_for(tuple(bounds))
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as warm:
            for _kind, method, spec in plan[:30] + plan[-1:]:  # warm up
                warm.request(method, **spec)
        rss_before = rss_mb(server.pid)
        run = asyncio.run(load(base, key, plan, args.clients, args.seconds, cluster,
                               args.restart_at, args.down_for))
        rss_after = rss_mb(server.pid)
        print(json.dumps(summarize(run, rss_before, rss_after), indent=2))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        cluster.down()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
