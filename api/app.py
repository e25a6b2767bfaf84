"""``create_app(settings)``: the FastAPI application, with its engine owned by the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from api.auth import current_principal
from api.docs import add_docs
from api.errors import internal_error, register_error_handlers
from api.limits import BodyLimit
from api.models import refuse_nul
from api.observability import REQUEST_ID_HEADER, RequestContext
from api.outage import register_outage_handlers
from api.routers import (
    control_lines,
    footprints,
    health,
    jobs,
    landcover_tiles,
    layers,
    me,
    monitoring,
    ogc_features,
    ogc_tiles,
    planning,
    print_map,
    reconciliation,
    region_stats,
    rules,
    search,
    selection,
    siting,
)
from api.security import Security
from gis import __version__
from gis.db.engine import make_engine
from gis.jobs.runner import JobRunner
from gis.logs import configure_logging
from gis.settings import Settings, get_settings

#: Already compressed: gzip would only cost time.
_NOT_GZIPPED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf",
                "application/geopackage+sqlite3",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(settings)
        # Background jobs run in this process; start-up fails what a previous one left.
        app.state.job_runner = JobRunner(app.state.engine, settings)
        await run_in_threadpool(app.state.job_runner.start_or_log)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.job_runner.stop)
            app.state.engine.dispose()

    app = FastAPI(
        title="One-Map 一张图 API",
        version=__version__,
        description="Territorial spatial planning layers and analyses for Ningxia.",
        lifespan=lifespan,
        # Every route checks the key (a bad or revoked one is 401 even where no key is
        # needed) and refuses NUL characters; the documentation routes are added below so
        # they do too.
        dependencies=[Depends(current_principal), Depends(refuse_nul)],
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.settings = settings
    configure_logging(settings.api.log_level)
    register_error_handlers(app)
    register_outage_handlers(app)
    add_docs(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_request_bytes)
    # Added last = outermost: the request context sees every answer, gzip compresses it.
    if settings.api.cors_origins:  # closed by default: no CORS headers at all
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins,
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["X-API-Key", "Content-Type", "Accept-Language",
                                          REQUEST_ID_HEADER],
                           expose_headers=[REQUEST_ID_HEADER, "Location"])
    app.add_middleware(GZipMiddleware, minimum_size=settings.api.gzip_min_bytes,
                       compresslevel=settings.api.gzip_level,
                       exclude_content_types=_NOT_GZIPPED)
    # Hosts (the trusted ones and the address the server listens on), the public base URL
    # links are built from, and the security headers.
    app.add_middleware(Security, trusted_hosts=[*settings.api.trusted_hosts, settings.api.host],
                       public_base_url=settings.api.public_base_url)
    app.add_middleware(RequestContext, on_error=internal_error)
    app.include_router(health.router)
    app.include_router(layers.router, prefix="/api/v1")
    app.include_router(me.router, prefix="/api/v1")
    app.include_router(selection.router, prefix="/api/v1")
    app.include_router(region_stats.router, prefix="/api/v1")
    app.include_router(rules.router, prefix="/api/v1")
    app.include_router(siting.router, prefix="/api/v1")
    app.include_router(footprints.router, prefix="/api/v1")
    app.include_router(print_map.router, prefix="/api/v1")
    app.include_router(planning.router)
    app.include_router(control_lines.router)
    app.include_router(reconciliation.router)
    app.include_router(monitoring.router)
    app.include_router(landcover_tiles.router)
    app.include_router(jobs.router)
    app.include_router(ogc_features.router)
    app.include_router(ogc_tiles.router)
    app.include_router(search.router)

    from portal.pages import router as portal_router

    app.include_router(portal_router)
    return app
