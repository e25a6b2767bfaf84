"""Dry runs of the analyses that write official ledgers: what reconciliation detection and a
monitoring comparison would find, with nothing written.

An analyst exploring a question must not add findings to the forestry bureau's work list or
runs to the monitoring record by asking it; ``gis.OneMap`` runs these unless called
with ``record=True``. Both reuse the analyses' own steps, so a dry run finds what the
recording run finds (``tests/test_onemap.py`` compares them):

- reconciliation: the scan (``gis.analysis.forest_grass_scan.scan``) fills its temporary
  table inside a transaction that is rolled back, after its rows are read;
- monitoring: the rasters are compared against the zones
  (``gis.analysis.monitoring_detect.detect_changes``) and each piece placed in its
  township and nearest village by the run's own place query, in a read-only transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy import Engine

from gis.errors import NotFound
from gis.layers.catalogue import get_layer
from gis.layers.schema import table_for
from gis.messages import msg

Rows = list[dict[str, Any]]

#: The scan's temporary table, as far as a dry run reads it.
_SCAN = sa.table("recon_scan", sa.column("sid"), sa.column("kind"), sa.column("township"),
                 sa.column("village"), sa.column("parcels"), sa.column("parcel_keys"),
                 sa.column("area_m2"), sa.column("geom"))


def reconcile_scan(engine: Engine, division: str, profile: str | None) -> Rows:
    """The findings detection would list for ``division``, each with its geometry
    (shapely, EPSG:4490); the work list is not touched."""
    from gis.analysis.forest_grass_scan import scan
    from gis.rules import load_profile, profile_for_division

    rules = load_profile(profile) if profile else profile_for_division(division)
    admin = table_for(get_layer("admin_divisions"))
    with engine.connect() as conn, conn.begin() as transaction:
        known = conn.execute(sa.select(sa.func.count()).select_from(admin)
                             .where(admin.c.code == division)).scalar_one()
        if not known:
            raise NotFound(msg("recon.division_missing", division=division))
        scan(conn, division, rules)
        rows = conn.execute(sa.select(
            _SCAN.c.kind, _SCAN.c.township, _SCAN.c.village, _SCAN.c.parcel_keys,
            _SCAN.c.parcels, _SCAN.c.area_m2, sa.func.ST_AsBinary(_SCAN.c.geom).label("wkb"),
        ).order_by(_SCAN.c.sid)).mappings().all()
        transaction.rollback()
    return [{"kind": r["kind"], "division": division, "township": r["township"],
             "village": r["village"], "parcel_keys": r["parcel_keys"],
             "parcels": r["parcels"], "area_m2": float(r["area_m2"]),
             "geometry": shapely.from_wkb(bytes(r["wkb"]))} for r in rows]


def monitor_pieces(engine: Engine, raster_a: str | Path, raster_b: str | Path, profile: str,
                   dates: tuple[str | None, str | None]) -> Rows:
    """The suspected patches a monitoring run of these rasters would list (layer, zone,
    feature, township, nearest village, transitions, areas, geometry); nothing is stored."""
    from gis.analysis.monitoring_detect import LandCoverPair, detect_changes
    from gis.analysis.monitoring_run import extent_4490, load_zones, patch_places
    from gis.rules import load_profile

    rules = load_profile(profile)
    with LandCoverPair.open(raster_a, raster_b, rules.monitoring, dates[0], dates[1]) as pair:
        with engine.connect() as conn:
            zones = load_zones(conn, extent_4490(pair.grid))
        pieces = detect_changes(pair, zones)
        date_a, date_b = pair.date_a, pair.date_b
    with engine.connect() as conn:
        places = patch_places(conn, pieces)
    return [{"layer": p.layer, "kind": p.kind, "feature_key": p.feature.key,
             "feature_name": p.feature.name, "zone": p.feature.zone, **place,
             "date_a": date_a, "date_b": date_b, "transitions": p.transitions,
             "pixels": p.patch_pixels, "area_m2": p.area_m2, "geometry": p.geometry}
            for p, place in zip(pieces, places, strict=True)]
