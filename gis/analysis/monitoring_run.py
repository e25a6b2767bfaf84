"""A monitoring run: compare two land-cover rasters and bring the work list up to date.

The pixels are :mod:`gis.analysis.monitoring_detect`'s; this module brings the zones from
PostGIS, places each patch (township, district, nearest village), and matches patches to the
active ones of the same period (same feature and kind, IoU above the profile's
``rematch_min_iou``) so decisions stay attached to the same ground, in one transaction.
The zone and place queries are ``sql/monitoring_zones.sql`` and ``sql/monitoring_places.sql``.
Part of :mod:`gis.analysis.monitoring`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from sqlalchemy import Connection, Engine, text

from gis.analysis.monitoring_detect import (
    DEFAULT_WINDOW,
    Grid,
    LandCoverPair,
    Piece,
    ZoneFeature,
    detect_changes,
)
from gis.analysis.monitoring_models import RunSummary, note, zone_label
from gis.analysis.monitoring_worklist import record_patch_event
from gis.analysis.statements import statement
from gis.crs import STORAGE_CRS, transformer
from gis.identity import Actor, resolve
from gis.messages import DEFAULT_LANG, msg
from gis.messages import text as message_text
from gis.progress import NullProgress, Progress
from gis.rules import load_profile


def extent_4490(grid: Grid) -> shapely.MultiPolygon:
    """The compared extent as a polygon in EPSG:4490 (edges densified before transforming)."""
    t = grid.transform
    x0, y0 = t @ (0, 0)
    x1, y1 = t @ (grid.width, grid.height)
    box = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    source = pyproj.CRS.from_wkt(grid.crs.to_wkt())
    if not source.equals(STORAGE_CRS, ignore_axis_order=True):
        step = max(abs(x1 - x0), abs(y1 - y0)) / 64
        to_4490 = transformer(source, STORAGE_CRS)
        box = shapely.transform(shapely.segmentize(box, step), lambda xy: np.column_stack(
            to_4490.transform(xy[:, 0], xy[:, 1])))
    return shapely.MultiPolygon([box])


def load_zones(conn: Connection, extent: shapely.Geometry) -> list[ZoneFeature]:
    """Red-line zones and permanent basic farmland parcels intersecting ``extent``."""
    cur = conn.connection.driver_connection.cursor()
    cur.execute(statement("monitoring_zones.sql"), {"extent": shapely.to_wkb(extent)})
    return [ZoneFeature(layer=layer, key=key, name=name, zone=zone, feature_id=fid,
                        county_code=county, geometry=shapely.from_wkb(bytes(wkb)))
            for layer, fid, key, name, zone, county, wkb in cur.fetchall()]


def patch_places(conn: Connection, pieces: Sequence[Piece]) -> list[dict[str, Any]]:
    if not pieces:
        return []
    cur = conn.connection.driver_connection.cursor()
    cur.execute(statement("monitoring_places.sql"),
                {"i": list(range(len(pieces))), "w": [shapely.to_wkb(p.geometry) for p in pieces]})
    out = []
    for _i, township, district, village, vcode, _vtown, dist in cur.fetchall():
        out.append({"township": township, "division": district, "village": village,
                    "village_code": vcode,
                    "village_distance_m": None if dist is None else round(float(dist), 1)})
    return out


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def run(engine: Engine, raster_a: str | Path, raster_b: str | Path, profile: str = "ningxia",
        date_a: str | date | None = None, date_b: str | date | None = None,
        actor: Actor | None = None, window: int | None = DEFAULT_WINDOW,
        progress: Progress | None = None) -> RunSummary:
    """Compare two land-cover rasters and bring the monitoring work list up to date.

    Inputs are validated before anything is written; the database part is one transaction.
    ``actor`` (authenticated; default the local user) is recorded on the run and its events.
    """
    actor = resolve(actor)
    progress = progress or NullProgress()
    rules = load_profile(profile)
    with LandCoverPair.open(raster_a, raster_b, rules.monitoring, date_a, date_b) as pair:
        extent = extent_4490(pair.grid)
        progress.stage(msg("monitor.stage.zones"))
        with engine.connect() as conn:
            zones = load_zones(conn, extent)
        pieces = detect_changes(pair, zones, window, progress)
        grid = {**pair.grid.describe(), "resampled": pair.resampled, "window": window}
        notes = list(pair.warnings)
        if not zones:
            notes.append(note("no_zones", msg("monitor.no_zones")))
        dates = (pair.date_a, pair.date_b)
        # Absolute: a relative path given to the CLI means nothing to the server that
        # later serves the run's land cover as map tiles (gis.tiles.landcover_runs).
        names = (str(Path(raster_a).resolve()), str(Path(raster_b).resolve()))
    progress.stage(msg("worklist.stage.updating"), len(pieces))
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('monitor:' || :a || '/' || :b))"),
                     {"a": dates[0], "b": dates[1]})
        places = patch_places(conn, pieces)
        run_id = conn.execute(text(
            "INSERT INTO monitor_runs (profile, profile_version, raster_a, raster_b, date_a, "
            "date_b, actor, actor_key, on_behalf_of, grid, geom) VALUES (:p, :v, :ra, :rb, "
            ":da, :db, :actor, :actor_key, :on_behalf_of, CAST(:grid AS jsonb), "
            "ST_GeomFromWKB(:extent, 4490)) RETURNING id"),
            {"p": rules.id, "v": rules.version, "ra": names[0], "rb": names[1],
             "da": dates[0], "db": dates[1], **actor.columns(), "grid": json.dumps(grid),
             "extent": shapely.to_wkb(extent)}).scalar_one()
        active = conn.execute(text(
            "SELECT id, layer, feature_key, kind, ST_AsBinary(geom) FROM monitor_patches "
            "WHERE date_a = :a AND date_b = :b AND status <> 'closed' "
            "AND ST_Intersects(geom, ST_GeomFromWKB(:extent, 4490))"),
            {"a": dates[0], "b": dates[1], "extent": shapely.to_wkb(extent)}).all()
        unmatched = {row[0]: ((row[1], row[2], row[3]), shapely.from_wkb(bytes(row[4])))
                     for row in active}
        inserts, updates = [], []
        for piece, place in zip(pieces, places, strict=True):
            same = (piece.layer, piece.feature.key, piece.kind)
            candidates = [(pid, _iou(geom, piece.geometry))
                          for pid, (key, geom) in unmatched.items() if key == same]
            best = max(candidates, key=lambda c: c[1], default=(None, 0.0))
            params = {
                "layer": piece.layer, "kind": piece.kind, "fid": piece.feature.feature_id,
                "key": piece.feature.key, "name": piece.feature.name,
                "zone": piece.feature.zone, **place,
                "division": place["division"] or piece.feature.county_code,
                "da": dates[0], "db": dates[1],
                "transitions": json.dumps(piece.transitions, ensure_ascii=False),
                "pixels": piece.patch_pixels, "area": piece.area_m2,
                "wkb": shapely.to_wkb(piece.geometry), "run": run_id,
            }
            if best[0] is not None and best[1] >= rules.monitoring.rematch_min_iou:
                unmatched.pop(best[0])
                updates.append({**params, "id": best[0]})
            else:
                inserts.append(params)
            progress.advance()
        if updates:
            conn.execute(text(
                "UPDATE monitor_patches SET transitions = CAST(:transitions AS jsonb), "
                "pixels = :pixels, area_m2 = :area, geom = ST_GeomFromWKB(:wkb, 4490), "
                "feature_id = :fid, feature_name = :name, division = :division, "
                "township = :township, village = :village, village_code = :village_code, "
                "village_distance_m = :village_distance_m, last_run = :run WHERE id = :id"),
                updates)
        if inserts:
            conn.execute(text(
                "INSERT INTO monitor_patches (layer, kind, feature_id, feature_key, "
                "feature_name, zone, division, township, village, village_code, "
                "village_distance_m, date_a, date_b, transitions, pixels, area_m2, geom, "
                "first_run, last_run) VALUES (:layer, :kind, :fid, :key, :name, :zone, "
                ":division, :township, :village, :village_code, :village_distance_m, :da, :db, "
                "CAST(:transitions AS jsonb), :pixels, :area, ST_GeomFromWKB(:wkb, 4490), "
                ":run, :run)"), inserts)
            conn.execute(text(
                "INSERT INTO monitor_events (patch_id, actor, actor_key, on_behalf_of, "
                "action, details, version) SELECT id, :actor, :actor_key, :on_behalf_of, "
                "'detected', jsonb_build_object('run', :run), 1 FROM monitor_patches "
                "WHERE first_run = :run ORDER BY id"),
                {**actor.columns(), "run": run_id})
        for patch_id in unmatched:
            version = conn.execute(text(
                "UPDATE monitor_patches SET status = 'closed', version = version + 1, "
                "updated_at = now(), last_run = :run WHERE id = :id RETURNING version"),
                {"id": patch_id, "run": run_id}).scalar_one()
            record_patch_event(conn, patch_id, actor, "closed", {"run": run_id},
                               message_text("monitor.closed_reason", DEFAULT_LANG), version)
        found: dict[str, int] = {}
        areas: dict[str, float] = {}
        for piece in pieces:
            label = zone_label(piece.layer, piece.feature.zone)
            found[label] = found.get(label, 0) + 1
            areas[label] = round(areas.get(label, 0.0) + piece.area_m2, 2)
        summary = RunSummary(
            run_id=run_id, profile=rules.id, profile_version=rules.version, raster_a=names[0],
            raster_b=names[1], date_a=dates[0], date_b=dates[1], grid=grid,
            resampled=grid["resampled"], found=found, area_m2=areas, new=len(inserts),
            kept=len(updates), closed=len(unmatched), warnings=notes)
        conn.execute(text("UPDATE monitor_runs SET summary = CAST(:s AS jsonb) WHERE id = :id"),
                     {"s": summary.model_dump_json(), "id": run_id})
    return summary
