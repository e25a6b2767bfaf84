"""The database away: 503 with ``Retry-After``, never a 500 or the database's address.

When PostgreSQL restarts or cannot be reached, every route that touches it fails with a
driver error: SQLAlchemy's ``OperationalError`` (the engine: items, lists, analyses),
psycopg's ``OperationalError`` (the tile pool's connections), a pool that cannot hand out a
connection in time (``PoolTimeout``, SQLAlchemy's ``TimeoutError``). Each is answered here
as 503 Service Unavailable with ``Retry-After`` in the request's language, and logged (a
warning with the driver's message, which names host and port, for the operator only).
Clients such as the portal and QGIS retry; a 500 would have said the request itself was
wrong. The pools recover by themselves (docs/reliability.md).
"""

from __future__ import annotations

import logging

import psycopg
import psycopg_pool
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.errors import lang_of, problem
from api.observability import current_request_id
from gis.errors import DatabaseUnavailable
from gis.messages import text

log = logging.getLogger("api.outage")

#: Seconds a client should wait before asking again: about what a restart takes.
RETRY_AFTER_SECONDS = 5

UNAVAILABLE: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    DatabaseUnavailable,
)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc)[:500],
                extra={"request_id": current_request_id()})
    lang = lang_of(request.headers)
    return problem(503, text("error.DatabaseUnavailable", lang),
                   text("security.db_unavailable", lang, seconds=RETRY_AFTER_SECONDS),
                   str(request.url.path),
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def register_outage_handlers(app: FastAPI) -> None:
    for cls in UNAVAILABLE:
        app.add_exception_handler(cls, database_unavailable)
