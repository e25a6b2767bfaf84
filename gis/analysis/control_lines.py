"""The three control lines together, and the jurisdiction's indicators.

- Pairwise overlaps between the red line, permanent basic farmland and the urban development
  boundary: they must not overlap (000:834-838, 001:1126-1132), so each overlap is a data
  conflict, listed with its area and the two features.
- The urban development boundary's expansion ratio against the 2020 urban construction land
  (limit from the profile: 1.3, 003:131-133).
- Indicator totals (red line, permanent basic farmland, cultivated land) in km², 万亩 and ha,
  compared with the profile's targets where the target is for this level, and the forest
  coverage rate against the district targets.

Layer names come from :data:`LINES` and reach SQL as ``psycopg.sql`` identifiers; division
prefixes are bound values.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text

from gis.analysis.statements import statement
from gis.errors import InputError
from gis.messages import msg
from gis.rules import division_prefix, profile_for_division
from gis.rules.models import Citation, Target
from gis.units import Area

#: The three lines: (layer, key column, label).
LINES = (
    ("eco_redline", "redline_code", "生态保护红线"),
    ("basic_farmland", "parcel_code", "永久基本农田"),
    ("urban_boundary", "boundary_code", "城镇开发边界"),
)

#: The area of a layer's features in a division (``%(p)s``, a LIKE prefix), overlaps counted
#: once; features without a county code count for every division (region-wide data).
_TOTAL = sql.SQL(
    "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
    "(SELECT ST_Union(geom) AS geom FROM {} WHERE "
    "coalesce(county_code, '') LIKE %(p)s OR county_code IS NULL) AS u")


@cache
def _pair_sql(table_a: str, key_a: str, table_b: str, key_b: str) -> sql.Composed:
    """``sql/control_line_pairs.sql`` for two of the :data:`LINES`."""
    return sql.SQL(statement("control_line_pairs.sql")).format(
        table_a=sql.Identifier(table_a), key_a=sql.Identifier(key_a),
        table_b=sql.Identifier(table_b), key_b=sql.Identifier(key_b))


class LineConflict(BaseModel):
    id: str
    kind: str
    layer_a: str
    key_a: str
    layer_b: str
    key_b: str
    area_m2: float
    area_mu: float
    area_ha: float
    geometry: dict


def _check_division(division: str) -> None:
    """A division is a code prefix (digits, at most a village's 12); anything else is a
    mistake to report, not a prefix that silently matches nothing."""
    if not division.isdigit() or len(division) > 12:
        raise InputError(msg("control_lines.bad_division", division=division))


def _cursor(conn: Connection, **kwargs: Any) -> Cursor[Any]:
    """A psycopg cursor on ``conn`` (same transaction), to run ``psycopg.sql`` statements."""
    return conn.connection.driver_connection.cursor(**kwargs)


def line_conflicts(engine: Engine, division: str = "64") -> list[LineConflict]:
    """Overlaps between any two of the three control lines within ``division``."""
    _check_division(division)
    tolerance = profile_for_division(division).indicators.control_line_sliver_m2
    prefix = division_prefix(division) + "%"
    out: list[LineConflict] = []
    with engine.connect() as conn:
        cur = _cursor(conn, row_factory=dict_row)
        for i, (table_a, key_a, _) in enumerate(LINES):
            for table_b, key_b, _ in LINES[i + 1:]:
                cur.execute(_pair_sql(table_a, key_a, table_b, key_b), {"prefix": prefix})
                for row in cur.fetchall():
                    if row["area_m2"] < tolerance:
                        continue
                    kind = f"{table_a}/{table_b}"
                    ident = hashlib.sha1(
                        f"{kind}:{row['key_a']}:{row['key_b']}".encode()).hexdigest()[:12]
                    out.append(LineConflict(
                        id=ident, kind=kind, layer_a=table_a, key_a=row["key_a"],
                        layer_b=table_b, key_b=row["key_b"],
                        **Area(row["area_m2"]).as_dict(), geometry=json.loads(row["geometry"]),
                    ))
    return out


class Indicator(BaseModel):
    id: str
    label_zh: str
    value: float
    unit: str
    area_km2: float | None = None
    area_wanmu: float | None = None
    area_ha: float | None = None
    target: float | None = None
    comparator: str | None = None
    target_year: int | None = None
    meets_target: bool | None = None
    citation: Citation | None = None
    note: str | None = None


def _meets(value: float, target: Target) -> bool:
    return {">=": value >= target.value, ">": value > target.value,
            "<=": value <= target.value, "<": value < target.value,
            "approx": abs(value - target.value) < 1e-9}[target.comparator]


def _with_target(indicator: Indicator, target: Target | None) -> Indicator:
    if target is None:
        return indicator.model_copy(update={"note": "no target for this level in the profile"})
    return indicator.model_copy(update={
        "target": target.value, "comparator": target.comparator,
        "target_year": target.year, "meets_target": _meets(indicator.value, target),
        "citation": target.citation})


def indicators(engine: Engine, division: str) -> list[Indicator]:
    """Indicators of one division (a county code such as 640202, or 64 for the region)."""
    _check_division(division)
    profile = profile_for_division(division)
    prefix = division_prefix(division)
    with engine.connect() as conn:
        jurisdiction = conn.execute(text(
            "SELECT sum(area_m2) FROM admin_divisions WHERE code = :code"),
            {"code": division.ljust(6, "0")}).scalar()

        def total(table: str) -> float:
            cur = _cursor(conn)
            cur.execute(_TOTAL.format(sql.Identifier(table)), {"p": prefix + "%"})
            return cur.fetchone()[0]

        redline = total("eco_redline")
        farmland = total("basic_farmland")
        # The cultivated-land layer has no county code: take the patches whose inner point
        # lies in the division (all of them when the division has no outline, e.g. the region).
        cultivated = conn.execute(text(
            "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
            "(SELECT ST_Union(c.geom) AS geom FROM cultivated_land AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM admin_divisions WHERE code = :code) OR EXISTS (SELECT 1 FROM "
            "admin_divisions AS d WHERE d.code = :code "
            "AND ST_Intersects(d.geom, ST_PointOnSurface(c.geom)))) AS u"),
            {"code": division.ljust(6, "0")}).scalar_one()
        classes = profile.indicators.forest_coverage_land_classes
        forest = conn.execute(text(
            "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
            "(SELECT ST_Union(geom) AS geom FROM forest_parcels WHERE land_class = ANY(:c) "
            "AND coalesce(county_code, '') LIKE :p) AS u"),
            {"c": classes, "p": prefix + "%"}).scalar_one()
        udb = conn.execute(text(
            "SELECT coalesce(county_code, ''), sum(area_m2), max(baseline_2020_m2) "
            "FROM urban_boundary WHERE coalesce(county_code, '') LIKE :p GROUP BY 1"),
            {"p": prefix + "%"}).all()
    # A target applies only to the division it is set for (the region's 1753万亩 of
    # cultivated land is not Dawukou's).
    targets = {k: t for k, t in profile.targets.items() if division_prefix(t.division) == prefix}
    out = []
    for ident, label, area, target in (
        ("redline", "生态保护红线面积", redline, targets.get("redline_km2")),
        ("basic_farmland", "永久基本农田面积", farmland, targets.get("basic_farmland_mu")),
        ("cultivated_land", "耕地面积", cultivated, targets.get("cultivated_land_mu")),
    ):
        a = Area(area)
        unit = "km2" if ident == "redline" else "mu"
        value = a.km2 if unit == "km2" else a.mu
        out.append(_with_target(Indicator(
            id=ident, label_zh=label, value=round(value, 6), unit=unit,
            area_km2=round(a.km2, 6), area_wanmu=round(a.wanmu, 6), area_ha=round(a.ha, 4),
        ), target))
    for county, area, baseline in udb:
        if baseline:
            out.append(_with_target(Indicator(
                id=f"udb_expansion_ratio:{county}", label_zh="城镇开发边界扩展倍数",
                value=round(area / baseline, 6), unit="ratio",
                note=f"UDB {Area(area).km2:.3f} km² / 2020 urban construction land "
                     f"{Area(baseline).km2:.3f} km²",
            ), profile.targets.get("udb_expansion_ratio")))  # a ratio: the same limit everywhere
    if jurisdiction:
        out.append(_with_target(Indicator(
            id="forest_coverage", label_zh="森林覆盖率", value=round(forest / jurisdiction, 6),
            unit="share", area_km2=round(Area(forest).km2, 6),
        ), targets.get("forest_coverage")))
    return out
