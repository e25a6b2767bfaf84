"""The tile service's own async psycopg connection pool: autocommit, warmed up, time-limited.

Why a pool of its own rather than the app's SQLAlchemy engine: that engine pings each
connection on checkout and rolls back on return, runs blocking calls in the thread pool, and
closes overflow connections on return, so under load new backends kept paying the PROJ
start-up (p95 800 ms in the first benchmark run, see docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from gis.db.engine import database_url
from gis.settings import Settings

#: A tile query that runs longer than this is cancelled: the last guard after the minimum
#: zoom and the feature cap.
#: Default of ``GIS_TILE_STATEMENT_TIMEOUT_MS`` (TileSettings).
TILE_STATEMENT_TIMEOUT_MS = 30_000
_WARM_UP = "SELECT ST_Transform(ST_SetSRID(ST_MakePoint(106, 38), 4490), 3857)"


async def _warm_up(conn: Any) -> None:
    """Load PROJ in a new server process before it serves a tile: the first ``ST_Transform``
    of a backend costs ~150 ms (PROJ database and pipeline set-up), every later one ~0.1 ms."""
    await conn.execute(_WARM_UP)


def tile_pool(settings: Settings) -> AsyncConnectionPool:
    """An (unopened) async psycopg pool for tiles: autocommit (one read-only statement needs
    no BEGIN/ROLLBACK round trips), warmed-up connections, a statement timeout; sized by
    ``GIS_TILE_POOL_MIN_SIZE``/``GIS_TILE_POOL_MAX_SIZE``.

    Every connection is checked as it is handed out (``check_connection``: an empty query,
    one round trip of ~0.1 ms against a tile's milliseconds). After a database restart the
    pool's idle connections are all dead; without the check the next tiles (11 in the
    reliability run) each got one and answered 500. A dead one is discarded and replaced,
    and a request waits up to ``GIS_TILE_POOL_TIMEOUT_SECONDS`` for a live one (then 503,
    ``api/outage.py``)."""
    url = database_url(settings).replace("postgresql+psycopg://", "postgresql://", 1)
    return AsyncConnectionPool(
        url, min_size=min(settings.tiles.pool_min_size, settings.tiles.pool_max_size),
        max_size=settings.tiles.pool_max_size, open=False, configure=_warm_up,
        check=AsyncConnectionPool.check_connection,
        timeout=settings.tiles.pool_timeout_seconds,
        kwargs={"autocommit": True,
                "options": f"-c statement_timeout={settings.tiles.statement_timeout_ms}"},
        name="tiles",
    )
