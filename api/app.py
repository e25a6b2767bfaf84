"""``create_app(settings)``: the FastAPI application, with its engine owned by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import register_body_limit, register_error_handlers
from api.routers import (
    footprints,
    health,
    layers,
    monitoring,
    ogc_features,
    ogc_tiles,
    planning,
    reconciliation,
    rules,
    siting,
)
from gis import __version__
from gis.db.engine import make_engine
from gis.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(settings)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="One-Map 一张图 API",
        version=__version__,
        description="Territorial spatial planning layers and analyses for Ningxia.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    register_error_handlers(app)
    register_body_limit(app, settings.max_request_bytes)
    app.include_router(health.router)
    app.include_router(layers.router, prefix="/api/v1")
    app.include_router(rules.router, prefix="/api/v1")
    app.include_router(siting.router, prefix="/api/v1")
    app.include_router(footprints.router, prefix="/api/v1")
    app.include_router(planning.router)
    app.include_router(reconciliation.router)
    app.include_router(monitoring.router)
    app.include_router(ogc_features.router)
    app.include_router(ogc_tiles.router)

    from portal.pages import router as portal_router

    app.include_router(portal_router)
    return app
