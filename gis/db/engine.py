"""SQLAlchemy engines for the configured database (external URL or the embedded cluster)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text

from gis.db.cluster import cluster_from_settings
from gis.errors import DatabaseUnavailable
from gis.settings import Settings


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use: ``GIS_DATABASE_URL`` if set, else the embedded cluster."""
    if settings.database_url:
        url = settings.database_url
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                url = "postgresql+psycopg://" + url[len(plain):]
        return url
    return cluster_from_settings(settings).url


def make_engine(settings: Settings, **kwargs) -> Engine:
    """An engine with a small pool; callers own it and dispose of it."""
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    return create_engine(database_url(settings), **kwargs)


def postgis_version(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT postgis_full_version()")).scalar_one()
    except Exception as exc:  # connection refused, auth, missing extension
        raise DatabaseUnavailable(f"cannot reach PostGIS: {exc.__class__.__name__}: {exc}") from exc
