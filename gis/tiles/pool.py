"""The tile service's own async psycopg connection pool: autocommit, warmed up, time-limited.

Why a pool of its own rather than the app's SQLAlchemy engine: that engine pings each
connection on checkout and rolls back on return, runs blocking calls in the thread pool, and
closes overflow connections on return, so under load new backends kept paying the PROJ
start-up (p95 800 ms in the first benchmark run, see docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from gis.db.engine import database_url
from gis.settings import Settings

#: A tile query that runs longer than this is cancelled: the last guard after the minimum
#: zoom and the feature cap.
#: Default of ``GIS_TILE_STATEMENT_TIMEOUT_MS`` (TileSettings).
TILE_STATEMENT_TIMEOUT_MS = 30_000
T = TypeVar("T")
_WARM_UP = "SELECT ST_Transform(ST_SetSRID(ST_MakePoint(106, 38), 4490), 3857)"


async def _warm_up(conn: Any) -> None:
    """Load PROJ in a new server process before it serves a tile: the first ``ST_Transform``
    of a backend costs ~150 ms (PROJ database and pipeline set-up), every later one ~0.1 ms."""
    await conn.execute(_WARM_UP)


def tile_pool(settings: Settings) -> AsyncConnectionPool:
    """An (unopened) async psycopg pool for tiles: autocommit (one read-only statement needs
    no BEGIN/ROLLBACK round trips), warmed-up connections, a statement timeout; sized by
    ``GIS_TILE_POOL_MIN_SIZE``/``GIS_TILE_POOL_MAX_SIZE``.

    After a database restart the pool's idle connections are all dead; handed out as they
    are, the next tiles (11 in the reliability run) each got one and answered 500. They are
    not checked on every checkout (an extra round trip per tile, 6% of a tile's Python time
    under load): :func:`render_with_retry` notices the first dead one, has the pool check
    all its idle connections (dead ones are discarded and replaced) and renders the tile
    again; a request waits up to ``GIS_TILE_POOL_TIMEOUT_SECONDS`` for a live connection
    (then 503, ``api/outage.py``)."""
    url = database_url(settings).replace("postgresql+psycopg://", "postgresql://", 1)
    return AsyncConnectionPool(
        url, min_size=min(settings.tiles.pool_min_size, settings.tiles.pool_max_size),
        max_size=settings.tiles.pool_max_size, open=False, configure=_warm_up,
        timeout=settings.tiles.pool_timeout_seconds,
        kwargs={"autocommit": True,
                "options": f"-c statement_timeout={settings.tiles.statement_timeout_ms}"},
        name="tiles",
    )


async def render_with_retry(pool: AsyncConnectionPool,
                            render: Callable[[Any], Awaitable[T]]) -> T:
    """``await render(conn)`` on a pooled connection; if the connection turns out dead (the
    database restarted since it was opened), once more on a live one after the pool has
    checked its idle connections. A query error or a statement timeout on a live connection
    is not retried."""
    for retry in (False, True):
        async with pool.connection() as conn:
            try:
                return await render(conn)
            except psycopg.OperationalError:
                if retry or not conn.broken:
                    raise
        await pool.check()
    raise AssertionError("unreachable")  # the second pass returns or raises
