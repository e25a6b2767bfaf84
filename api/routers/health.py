"""``/health``: is the service up, and which PostGIS does it talk to.

While the database is away this is a 503 with Retry-After (``api/outage.py``) that does not
say where the database is; when it is up, the version string is PostGIS's own without the
server paths PROJ adds to it (``DATABASE_PATH=/usr/share/proj/proj.db``,
``USER_WRITABLE_DIRECTORY=...``).
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import EngineDep
from gis import __version__
from gis.db.engine import postgis_version

router = APIRouter(tags=["health"])

#: ``KEY=value`` parts of the version naming a file or an address.
_LOCATION = re.compile(r"\s*\b[A-Z_]+=(?:/|[a-z]+://)[^\s\"]*")


def without_locations(version: str) -> str:
    """The version string with every path or URL setting removed."""
    return _LOCATION.sub("", version)


@router.get("/health", summary="Service and database health")
async def health(engine: EngineDep) -> dict:
    version = await run_in_threadpool(postgis_version, engine)
    return {"status": "ok", "version": __version__, "postgis": without_locations(version)}
