"""SQLAlchemy engines for the configured database (external URL or the embedded cluster)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text

from gis.db.cluster import cluster_from_settings
from gis.errors import DatabaseUnavailable
from gis.messages import msg
from gis.settings import Settings


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use: ``GIS_DATABASE_URL`` if set, else the embedded cluster."""
    if settings.database.url:
        url = settings.database.url
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                url = "postgresql+psycopg://" + url[len(plain):]
        return url
    return cluster_from_settings(settings).url


def make_engine(settings: Settings, **kwargs) -> Engine:
    """An engine with the configured pool (``GIS_DB_POOL_SIZE``, ``GIS_DB_MAX_OVERFLOW``,
    ``GIS_DB_POOL_TIMEOUT_SECONDS``); callers own it and dispose of it."""
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", settings.database.pool_size)
    kwargs.setdefault("max_overflow", settings.database.max_overflow)
    kwargs.setdefault("pool_timeout", settings.database.pool_timeout_seconds)
    return create_engine(database_url(settings), **kwargs)


def postgis_version(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT postgis_full_version()")).scalar_one()
    except Exception as exc:  # connection refused, auth, missing extension
        raise DatabaseUnavailable(msg("db.unreachable", kind=exc.__class__.__name__,
                                      reason=str(exc))) from exc
