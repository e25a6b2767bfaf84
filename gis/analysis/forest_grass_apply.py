"""Apply reconciliation decisions: a new version of the forest and grassland layers.

The original layers are never edited. Each apply copies the division's forest and grassland
parcels, changes the copies as the decided findings say, stores them as a new version
(``recon_versions`` / ``recon_parcels``), marks the findings ``applied`` (with an event), and
returns a before/after area summary by township.

What each decision does to the copies:
- ``keep_forest``: the disputed piece is removed from the grassland (or survey-class) side;
- ``keep_grass``: it is removed from the forest parcel;
- ``split_by_line``: the piece is cut by the line through its centre perpendicular to the
  line joining the two parcels' centres; each parcel keeps the half on its side;
- ``reassign_owner``: the overlap is removed from the second parcel of the pair, leaving it
  with the first parcel's right holder;
- ``correct_certificate``: the parcel's certificate area becomes its mapped area (亩);
- ``no_change``: nothing.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel
from shapely.geometry import LineString
from shapely.ops import split
from sqlalchemy import Engine, text

from gis.analysis.forest_grass import record_event
from gis.identity import Actor, resolve
from gis.layers.validation import polygonal_part
from gis.units import Area, ellipsoidal_areas

#: Per layer: its parcels in the division (key, attributes, WKB, township), one whole
#: statement each.
_PARCELS = {
    "forest_parcels": text(
        "WITH scope AS (SELECT ST_Union(geom) AS g FROM admin_divisions WHERE code = :d) "
        "SELECT concat_ws('/', county_code, lin_ban, xiao_ban), to_jsonb(t) - 'geom', "
        "ST_AsBinary(t.geom), t.township FROM forest_parcels AS t, scope "
        "WHERE ST_Intersects(t.geom, scope.g)"),
    "grassland_parcels": text(
        "WITH scope AS (SELECT ST_Union(geom) AS g FROM admin_divisions WHERE code = :d) "
        "SELECT parcel_no, to_jsonb(t) - 'geom', ST_AsBinary(t.geom), t.township "
        "FROM grassland_parcels AS t, scope WHERE ST_Intersects(t.geom, scope.g)"),
}


class TownshipChange(BaseModel):
    township: str
    layer: str
    before_m2: float
    after_m2: float
    before_mu: float
    after_mu: float


class ApplySummary(BaseModel):
    version_id: int
    division: str
    applied: int
    by_township: list[TownshipChange]


def _split(piece: shapely.Geometry, a: shapely.Geometry, b: shapely.Geometry
           ) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Halves of ``piece`` on a's side and on b's side of the perpendicular bisector-like
    line through the piece's centre."""
    ca, cb, cp = a.centroid, b.centroid, piece.centroid
    dx, dy = cb.x - ca.x, cb.y - ca.y
    if dx == 0 and dy == 0:
        return piece, shapely.Polygon()
    reach = 10 * max(piece.bounds[2] - piece.bounds[0], piece.bounds[3] - piece.bounds[1], 1e-6)
    norm = np.hypot(dx, dy)
    px, py = -dy / norm * reach, dx / norm * reach
    cut = LineString([(cp.x - px, cp.y - py), (cp.x + px, cp.y + py)])
    side_a, side_b = [], []
    for part in split(piece, cut).geoms:
        (side_a if part.distance(ca) <= part.distance(cb) else side_b).append(part)
    return shapely.union_all(side_a), shapely.union_all(side_b)


def apply_decisions(engine: Engine, division: str, actor: Actor | None = None) -> ApplySummary:
    """Apply every ``decided`` finding of ``division`` into a new version (one transaction).
    ``actor`` (authenticated; default the local user) is recorded as the version's creator."""
    actor = resolve(actor)
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('recon:' || :d))"),
                     {"d": division})
        decided = conn.execute(text(
            "SELECT id, kind, decision, parcels, ST_AsBinary(geom) FROM recon_findings "
            "WHERE division = :d AND status = 'decided' ORDER BY id FOR UPDATE"),
            {"d": division}).all()
        parcels: dict[tuple[str, str], dict[str, Any]] = {}
        for layer, statement in _PARCELS.items():
            rows = conn.execute(statement, {"d": division}).all()
            for key, attrs, wkb, township in rows:
                parcels[(layer, key)] = {"attributes": attrs, "township": township or "",
                                         "geom": shapely.from_wkb(bytes(wkb))}
        before = {k: v["geom"] for k, v in parcels.items()}
        versions = {}
        for finding_id, _kind, decision, involved, wkb in decided:
            piece = shapely.from_wkb(bytes(wkb))
            keys = [(p["layer"], p["key"]) for p in involved if "layer" in p]
            _apply_one(parcels, before, decision, keys, piece)
            versions[finding_id] = conn.execute(text(
                "UPDATE recon_findings SET status = 'applied', version = version + 1, "
                "updated_at = now() WHERE id = :id RETURNING version"),
                {"id": finding_id}).scalar_one()
        version_id = conn.execute(text(
            "INSERT INTO recon_versions (division, created_by, actor_key, on_behalf_of) "
            "VALUES (:d, :actor, :actor_key, :on_behalf_of) RETURNING id"),
            {"d": division, **actor.columns()}).scalar_one()
        for finding_id, *_ in decided:
            record_event(conn, finding_id, actor, "applied", {"version": version_id},
                         version=versions[finding_id])
        keys = list(parcels)
        geoms = np.array([parcels[k]["geom"] for k in keys], dtype=object)
        areas = ellipsoidal_areas(geoms) if len(geoms) else np.array([])
        for (layer, key), area in zip(keys, areas, strict=True):
            item = parcels[(layer, key)]
            if item["geom"].is_empty:
                continue
            conn.execute(text(
                "INSERT INTO recon_parcels (version_id, layer, parcel_key, attributes, "
                "township, area_m2, geom) VALUES (:v, :l, :k, CAST(:a AS jsonb), :t, :area, "
                "ST_Multi(ST_GeomFromWKB(:g, 4490)))"),
                {"v": version_id, "l": layer, "k": key, "t": item["township"], "area": area,
                 "a": json.dumps(item["attributes"], ensure_ascii=False, default=str),
                 "g": shapely.to_wkb(item["geom"])})
        summary = _township_summary(keys, before, parcels)
        result = ApplySummary(version_id=version_id, division=division, applied=len(decided),
                              by_township=summary)
        conn.execute(text("UPDATE recon_versions SET summary = CAST(:s AS jsonb) "
                          "WHERE id = :id"), {"s": result.model_dump_json(), "id": version_id})
    return result


def _apply_one(parcels: dict, original: dict, decision: str, keys: list[tuple[str, str]],
               piece: shapely.Geometry) -> None:
    """Edit the copies in ``parcels``; splits use the ``original`` shapes, so the result does
    not depend on the order in which decisions are applied."""
    def cut(key: tuple[str, str], part: shapely.Geometry) -> None:
        if key in parcels and not part.is_empty:
            parcels[key]["geom"] = polygonal_part(parcels[key]["geom"].difference(part))

    first = keys[0] if keys else None
    second = keys[1] if len(keys) > 1 else None
    if decision == "keep_forest":
        for key in keys:
            if key[0] != "forest_parcels":
                cut(key, piece)
    elif decision == "keep_grass":
        for key in keys:
            if key[0] == "forest_parcels":
                cut(key, piece)
    elif decision == "split_by_line" and first in parcels and second in parcels:
        half_a, half_b = _split(piece, original[first], original[second])
        cut(first, half_b)
        cut(second, half_a)
    elif decision == "reassign_owner" and second is not None:
        cut(second, piece)
    elif decision == "correct_certificate" and first in parcels:
        mapped = Area(ellipsoidal_areas(np.array([parcels[first]["geom"]], dtype=object))[0])
        parcels[first]["attributes"]["certificate_area_mu"] = round(mapped.mu, 2)


def _township_summary(keys: list[tuple[str, str]], before: dict[tuple[str, str], Any],
                      after: dict[tuple[str, str], dict[str, Any]]) -> list[TownshipChange]:
    rows: dict[tuple[str, str], list[float]] = {}
    old = ellipsoidal_areas(np.array([before[k] for k in keys], dtype=object)) if keys else []
    new = ellipsoidal_areas(np.array([after[k]["geom"] for k in keys], dtype=object)) if keys \
        else []
    for key, a, b in zip(keys, old, new, strict=True):
        bucket = rows.setdefault((after[key]["township"], key[0]), [0.0, 0.0])
        bucket[0] += a
        bucket[1] += b
    return [TownshipChange(township=t, layer=layer, before_m2=round(a, 2), after_m2=round(b, 2),
                           before_mu=round(Area(a).mu, 4), after_mu=round(Area(b).mu, 4))
            for (t, layer), (a, b) in sorted(rows.items())]
