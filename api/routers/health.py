"""``/health``: is the service up, and which PostGIS does it talk to."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from gis import __version__
from gis.db.engine import postgis_version

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service and database health")
async def health(engine: EngineDep) -> dict:
    version = await run_in_threadpool(postgis_version, engine)
    return {"status": "ok", "version": __version__, "postgis": version}
