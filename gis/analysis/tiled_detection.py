"""Tiled forest/grassland detection on dask.distributed: the same findings as the PostGIS
scan, past one process and past one machine.

The division's parcels are cut by a grid into tiles (:func:`gis.analysis.tile_scan.grid`,
about ``parcels_per_tile`` parcels each, at least four per worker). Each tile is a task on a
dask.distributed cluster: a ``LocalCluster`` with one worker process per core by default, or
any scheduler by address (``GIS_DASK_SCHEDULER`` or :attr:`TileOptions.scheduler`), so one
laptop and a cluster run the same code. A task reads its tile from PostGIS in the
coordinator's exported snapshot (every tile sees the same data, even while parcels are being
edited), computes the pairs whose interiors meet with shapely/GEOS in the worker, and writes
the pieces it owns (by their representative point, so tiles never double-count) into the
run's staging table by binary COPY. Progress is one step per finished tile (the job table's
``done``/``total`` for a background job). The coordinator then builds the scan from the
staging table with the same statement as the untiled detection
(:func:`gis.analysis.forest_grass_scan.scan`), and :func:`gis.analysis.forest_grass.detect`
brings the work list up to date as always.

Why a grid rather than township outlines: a grid needs no boundary data, cells can be sized
to the parcel density, and ownership by a point in a half-open cell is exact; townships
would give uneven tasks (a county seat against a desert township) and points on their shared
borders belong to both. The staging table is an ordinary UNLOGGED table (the workers' own
connections cannot see the coordinator's temporary tables) named per run and dropped when the
run ends, whether it succeeded or not.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Engine

from gis.analysis.forest_grass_scan import scan, scope_ewkb
from gis.analysis.statements import statement
from gis.analysis.tile_scan import STAGING_COLUMNS, ScanContext, grid, scan_tile
from gis.errors import ConfigurationError
from gis.messages import msg
from gis.progress import NullProgress, Progress
from gis.rules.models import Profile

#: Staging tables are named with this prefix and a random suffix.
STAGING_PREFIX = "recon_tiles_"
_STAGING_TYPES = ("integer", "smallint", "bigint", "bigint", "geometry(MultiPolygon, 4490)")


@dataclass(frozen=True)
class TileOptions:
    """How a tiled detection runs. The defaults suit one machine: a LocalCluster with a worker
    process per core and tiles of about 10,000 parcels (all three layers counted)."""

    #: A dask scheduler address (``tcp://host:8786``); None: ``GIS_DASK_SCHEDULER``, and when
    #: that is unset too, a LocalCluster for the run.
    scheduler: str | None = None
    #: Worker processes of the LocalCluster (None: one per core). Ignored with a scheduler.
    workers: int | None = None
    parcels_per_tile: int = 10_000
    #: An exact number of tiles instead (tests use it to force borders through the data).
    tiles: int | None = None
    #: A connected ``distributed.Client`` to use as is (a server or benchmark keeping one).
    client: Any = None
    #: Seconds to wait for the scheduler before giving up with a clear error.
    connect_timeout: float = 30.0


@contextmanager
def dask_client(options: TileOptions) -> Iterator[Any]:
    """The client the options name: theirs, one to the configured scheduler, or one to a
    LocalCluster started (and stopped) for the run."""
    from distributed import Client, LocalCluster

    if options.client is not None:
        yield options.client
        return
    address = options.scheduler
    if address is None:
        from gis.settings import get_settings

        address = get_settings().api.dask_scheduler
    if address:
        try:
            client = Client(address, timeout=options.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigurationError(msg("tiles.scheduler_unreachable", address=address,
                                         error=str(exc))) from exc
        with client:
            yield client
        return
    workers = options.workers or os.cpu_count() or 1
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client


def conninfo(engine: Engine) -> str:
    """The engine's database as a libpq URL the workers connect with (password included:
    they need it; with a remote scheduler the database must be reachable from the workers)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run_ddl(engine: Engine, statement_: sql.Composed) -> None:
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        driver.execute(statement_)
        driver.commit()


@contextmanager
def staging_table(engine: Engine) -> Iterator[str]:
    """An UNLOGGED staging table for one run (committed, so the workers can write to it),
    dropped on leaving, after the detection's transaction has ended."""
    name = STAGING_PREFIX + secrets.token_hex(6)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind))
        for column, kind in zip(STAGING_COLUMNS, _STAGING_TYPES, strict=True))
    _run_ddl(engine, sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(sql.Identifier(name),
                                                                    columns))
    try:
        yield name
    finally:
        _run_ddl(engine, sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


def tile_count(parcels: int, workers: int, options: TileOptions) -> int:
    """Tiles of about ``parcels_per_tile`` parcels, and at least four per worker: conflicts
    cluster (at 50,000 parcels a layer in 10 tiles, the 2 tiles holding the forest/grassland
    overlaps took 16 s each and the other 8 one or two), so a worker that drew a heavy tile
    must not hold up the others with nothing left to take."""
    if options.tiles is not None:
        return max(1, options.tiles)
    return max(4 * workers, math.ceil(parcels / options.parcels_per_tile))


class TiledScan:
    """A tiled detection's resources (dask client, staging table) for the span of a
    ``with``; :meth:`scan` runs inside the detection's transaction."""

    def __init__(self, engine: Engine, options: TileOptions) -> None:
        self.engine = engine
        self.options = options
        self._stack = ExitStack()
        self.client: Any = None
        self.staging = ""
        self.tiles = 0

    def __enter__(self) -> TiledScan:
        with ExitStack() as stack:
            self.client = stack.enter_context(dask_client(self.options))
            self.staging = stack.enter_context(staging_table(self.engine))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def scan(self, conn: Connection, division: str, profile: Profile,
             progress: Progress | None = None) -> None:
        """Detect ``division`` tile by tile into the staging table, then build the
        transaction's ``recon_scan`` from it (as :func:`gis.analysis.forest_grass_scan.scan`)."""
        progress = progress or NullProgress()
        classes = profile.reconciliation.land_use_classes
        scope = scope_ewkb(conn, division)
        cur = conn.connection.driver_connection.cursor()
        cur.execute(statement("forest_grass_tile_extent.sql"), {"scope": scope})
        x0, y0, x1, y1, parcels = cur.fetchone()
        if x0 is not None:
            cur.execute("SELECT pg_export_snapshot()")
            context = ScanContext(
                conninfo=conninfo(self.engine), staging=self.staging, scope_wkb=bytes(scope),
                not_forest=tuple(classes["grassland"] + classes["cultivated"]
                                 + classes["construction"]),
                not_grass=tuple(classes["forest"] + classes["cultivated"]
                                + classes["construction"]),
                snapshot=cur.fetchone()[0])
            # Task slots (processes x threads) of the whole cluster: scheduler_info() lists
            # only the first few workers.
            workers = max(1, sum(self.client.nthreads().values()))
            tiles = grid((x0, y0, x1, y1), tile_count(parcels, workers, self.options))
            self.tiles = len(tiles)
            progress.stage(msg("tiles.stage.detecting", division=division, tiles=len(tiles),
                               workers=workers), len(tiles))
            self._run(tiles, context, progress)
        progress.stage(msg("tiles.stage.collecting", division=division))
        scan(conn, division, profile, tiles=self.staging)

    def _run(self, tiles: list, context: ScanContext, progress: Progress) -> None:
        from distributed import as_completed

        shared = self.client.scatter(context, broadcast=True)
        futures = self.client.map(scan_tile, tiles, context=shared, pure=False)
        try:
            for future in as_completed(futures):
                future.result()  # a failed tile raises its error here
                progress.advance()
        finally:
            # Cancelled job, failed tile, interrupt: no task keeps writing after we leave.
            self.client.cancel(futures)
