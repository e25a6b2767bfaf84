"""Which land cover the map tiles show: the two rasters of a stored monitoring run.

One job: from a run id (or the latest run) to the two raster files, their dates, their
extent and the legend of their classes. A client only ever names a run and ``a`` or ``b``,
never a path, so the server opens nothing but what a run recorded:

- an absolute path as stored (``monitoring_run`` stores resolved paths since issue 23; the
  API's runs were always resolved under ``GIS_RASTER_DIR``, the CLI's are the operator's);
- a relative path (CLI runs stored before issue 23) only as a name under ``GIS_RASTER_DIR``
  (``gis.jobs.rasters.raster_path``: nothing that escapes it).

A file that is no longer there is a :class:`Conflict` (409, the run exists but its data
does not) naming the file, never the server's directory (answers show no server paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal

import sqlalchemy as sa
from rasterio.warp import transform_bounds
from sqlalchemy import Engine

from gis.db.records import monitor_runs
from gis.errors import Conflict, GISError, NotFound
from gis.jobs.rasters import raster_path
from gis.layers.styles import land_cover_colour
from gis.messages import Lang, keys, msg, text
from gis.rules import load_profile
from gis.tiles.landcover import DATASETS, MAX_ZOOM, MIN_ZOOM, WEB_MERCATOR, DatasetCache

Which = Literal["a", "b"]


@dataclass(frozen=True)
class RunLandCover:
    """A run's two land-cover rasters: ``paths`` resolved on this server, ``names`` the file
    names shown to clients."""

    run_id: int
    profile: str
    dates: tuple[str, str]
    stored: tuple[str, str]
    raster_dir: Path | None

    @property
    def names(self) -> tuple[str, str]:
        return (PurePath(self.stored[0]).name, PurePath(self.stored[1]).name)

    def path(self, which: Which) -> Path:
        """The raster of date ``which`` on this server, else :class:`Conflict`."""
        index = 0 if which == "a" else 1
        stored, name = self.stored[index], self.names[index]
        missing = Conflict(msg("landcover.raster_missing", run=self.run_id, name=name),
                           run=self.run_id, raster=name)
        candidate = Path(stored)
        if not candidate.is_absolute():
            try:
                candidate = raster_path(self.raster_dir, stored)
            except GISError:  # no raster directory, or a name escaping it
                raise missing from None
        if not candidate.is_file():
            raise missing
        return candidate


def run_land_cover(engine: Engine, run_id: int | None, raster_dir: Path | None
                   ) -> RunLandCover:
    """Run ``run_id`` (None: the latest) as :class:`RunLandCover`; :class:`NotFound` when
    there is no such run (or no run at all)."""
    query = sa.select(monitor_runs.c.id, monitor_runs.c.profile, monitor_runs.c.date_a,
                      monitor_runs.c.date_b, monitor_runs.c.raster_a, monitor_runs.c.raster_b)
    if run_id is None:
        query = query.order_by(monitor_runs.c.id.desc()).limit(1)
    else:
        query = query.where(monitor_runs.c.id == run_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        raise NotFound(msg("landcover.no_runs") if run_id is None
                       else msg("monitor.no_run", id=run_id))
    return RunLandCover(run_id=row.id, profile=row.profile, dates=(row.date_a, row.date_b),
                        stored=(row.raster_a, row.raster_b), raster_dir=raster_dir)


def class_colours(profile: str) -> dict[int, str]:
    """Class value -> colour for the profile's land-cover class table."""
    return {c.value: land_cover_colour(c.code) for c in load_profile(profile).monitoring.classes}


def class_name(code: str, zh: str, lang: Lang) -> str:
    """A class's name: the catalogue's ``landcover.class.<code>``, else (a class of another
    profile, not in the catalogue) its name in the profile."""
    key = f"landcover.class.{code}"
    return text(key, lang) if key in _class_keys() else zh


def _class_keys() -> set[str]:
    return set(keys("landcover.class."))


def legend(profile: str, lang: Lang) -> list[dict[str, Any]]:
    """The classes in value order: value, code, colour and name in ``lang``."""
    classes = sorted(load_profile(profile).monitoring.classes, key=lambda c: c.value)
    return [{"value": c.value, "code": c.code, "color": land_cover_colour(c.code),
             "label": class_name(c.code, c.zh, lang)} for c in classes]


def lonlat_bounds(path: Path, cache: DatasetCache = DATASETS
                  ) -> tuple[float, float, float, float]:
    """The raster's box in lon/lat degrees (west, south, east, north), from the open
    dataset's Web Mercator box."""
    box = cache.get(path).box
    west, south, east, north = transform_bounds(WEB_MERCATOR, "EPSG:4326", *box)
    return (round(west, 7), round(south, 7), round(east, 7), round(north, 7))


def describe(run: RunLandCover, lang: Lang, tile_template: str) -> dict[str, Any]:
    """What the portal needs to show a run's two dates: the dates, the file names, the
    union of both extents, the legend, and the tile URL template per date (``{which}``
    filled in, ``{z}/{x}/{y}`` left for the map)."""
    boxes = [lonlat_bounds(run.path(which)) for which in ("a", "b")]
    bounds = [min(b[0] for b in boxes), min(b[1] for b in boxes),
              max(b[2] for b in boxes), max(b[3] for b in boxes)]
    return {
        "run_id": run.run_id, "profile": run.profile,
        "date_a": run.dates[0], "date_b": run.dates[1],
        "raster_a": run.names[0], "raster_b": run.names[1],
        "bounds": bounds, "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM,
        "legend": legend(run.profile, lang),
        "tiles": {which: tile_template.replace("{which}", which) for which in ("a", "b")},
    }
