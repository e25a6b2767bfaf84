"""The analyst's library on a database: ``gis.OneMap``'s calls answered by the library
itself (the embedded cluster or ``GIS_DATABASE_URL``).

Each method returns plain data (rows as dicts, geometries as GeoJSON or shapely, the
analysis's summary model) that ``gis.onemap`` turns into results; the HTTP twin is
``gis.onemap_remote``, and the two answer alike (``tests/test_onemap_api.py``).
Reads are SQLAlchemy Core over the catalogue's tables, filtered with the OGC API's own
``where_clause`` (bbox in CRS84, CQL2 text), so a ``where`` means the same here as in
``GET /ogc/collections/{id}/items?filter=``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from gis.crs import STORAGE_CRS
from gis.errors import NotFound
from gis.identity import Actor
from gis.layers.catalogue import get_layer, load_catalogue
from gis.layers.schema import table_for
from gis.messages import msg
from gis.settings import Settings

Rows = list[dict[str, Any]]


def layer_rows(counts: dict[str, int | None]) -> Rows:
    """The catalogue as rows: ids, titles, group, sensitivity, feature count, field names."""
    return [{"id": layer.id, "title_zh": layer.zh, "title_en": layer.en, "group": layer.group,
             "sensitivity": layer.sensitivity, "features": counts.get(layer.id),
             "fields": layer.field_names} for layer in load_catalogue()]


class LocalBackend:
    """The library over one SQLAlchemy engine (disposed by ``close``)."""

    mode = "database"

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def close(self) -> None:
        self.engine.dispose()

    # -- layers -----------------------------------------------------------------------------
    def layers(self) -> Rows:
        from gis.layers.stats import feature_counts

        return layer_rows(feature_counts(self.engine))

    def division_outline(self, division: str) -> sa.ScalarSelect:
        """The union of the divisions whose code starts with ``division`` (refused when
        none does, so a typo is not an empty answer)."""
        admin = table_for(get_layer("admin_divisions"))
        match = admin.c.code.startswith(division, autoescape=True)
        with self.engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(admin).where(match)
            if not conn.execute(count).scalar_one():
                raise NotFound(msg("onemap.division_unknown", division=division))
        return sa.select(sa.func.ST_Union(admin.c.geom)).where(match).scalar_subquery()

    def read(self, layer_id: str, bbox: tuple[float, float, float, float] | None,
             where: str | None, division: str | None, limit: int | None) -> gpd.GeoDataFrame:
        from gis.ogc.items import ItemsQuery, where_clause

        layer = get_layer(layer_id)
        table = table_for(layer)
        conditions = where_clause(ItemsQuery(layer=layer, bbox=bbox, filter=where))
        if division:
            conditions.append(sa.func.ST_Intersects(table.c.geom,
                                                    self.division_outline(division)))
        query = (sa.select(table.c.id, *(table.c[n] for n in layer.field_names),
                           table.c.area_m2, sa.func.ST_AsBinary(table.c.geom).label("wkb"))
                 .where(*conditions).order_by(table.c.id).limit(limit))
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(),
                                 columns=["id", *layer.field_names, "area_m2", "wkb"])
        geometry = gpd.GeoSeries.from_wkb([bytes(g) for g in frame.pop("wkb")],
                                          crs=STORAGE_CRS)
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)

    # -- analyses ---------------------------------------------------------------------------
    def siting(self, footprint: str | dict[str, Any], crs: str, activity: str,
               options: dict[str, Any], record: bool) -> Any:
        """One footprint checked (``gis.analysis.siting.check``); with ``record`` the
        check is stored as a siting run under the local user, as ``gis check siting`` does."""
        from gis.analysis.siting import check
        from gis.analysis.siting_runs import check_and_store

        if record:
            return check_and_store(self.engine, footprint, activity, crs=crs,
                                   actor=Actor.local(), **options).result
        return check(self.engine, footprint, activity, crs=crs, **options)

    def villages(self, division: str) -> Rows:
        from gis.analysis.reserve import village_report

        return [v.model_dump(mode="json") for v in village_report(self.engine, division)]

    def townships(self, division: str) -> Rows:
        from gis.analysis.reserve import township_report

        return [t.model_dump(mode="json") for t in township_report(self.engine, division)]

    def ledger(self, village_code: str) -> Rows:
        from gis.analysis.reserve import ledger

        return [d.model_dump(mode="json") for d in ledger(self.engine, village_code)]

    def conflicts(self, division: str) -> Rows:
        from gis.analysis.control_lines import line_conflicts

        return [c.model_dump(mode="json") for c in line_conflicts(self.engine, division)]

    def indicators(self, division: str) -> Rows:
        from gis.analysis.control_lines import indicators

        return [i.model_dump(mode="json") for i in indicators(self.engine, division)]

    def reconcile(self, division: str, profile: str | None, record: bool
                  ) -> tuple[Rows, Any]:
        """Detection over ``division``: a dry run scans and rolls back; ``record`` brings
        the work list up to date (``gis.analysis.forest_grass.detect``) under the local
        user and returns the findings of that run."""
        from gis.analysis import forest_grass
        from gis.onemap_dryrun import reconcile_scan

        if not record:
            return reconcile_scan(self.engine, division, profile), None
        summary = forest_grass.detect(self.engine, division, profile, Actor.local())
        found: Rows = []
        while True:
            total, page = forest_grass.list_findings(
                self.engine, division=division, limit=1000, offset=len(found),
                with_geometry=True)
            found += [f.model_dump(mode="json") for f in page]
            if not page or len(found) >= total:
                break
        # The run's findings: the work list after it, and those it closed (a finding the
        # run found unchanged keeps the last_run of the run that last wrote it).
        return [f for f in found if f["status"] not in ("closed", "applied")
                or f["last_run"] == summary.run_id], summary

    def monitor(self, raster_a: str | Path, raster_b: str | Path, profile: str,
                dates: tuple[str | None, str | None], record: bool) -> tuple[Rows, Any]:
        """Two land-cover rasters compared: a dry run keeps the patches in memory;
        ``record`` runs ``gis.analysis.monitoring.run`` under the local user and returns
        the patches of that run from the work list."""
        from gis.analysis import monitoring
        from gis.onemap_dryrun import monitor_pieces

        if not record:
            return monitor_pieces(self.engine, raster_a, raster_b, profile, dates), None
        summary = monitoring.run(self.engine, raster_a, raster_b, profile, dates[0], dates[1],
                                 Actor.local())
        _, patches = monitoring.list_patches(self.engine, run=summary.run_id, limit=10_000,
                                             with_geometry=True, max_limit=10_000)
        return [p.model_dump(mode="json") for p in patches], summary
