"""The three control lines together, and the jurisdiction's indicators.

- Pairwise overlaps between the red line, permanent basic farmland and the urban development
  boundary: they must not overlap (000:834-838, 001:1126-1132), so each overlap is a data
  conflict, listed with its area and the two features.
- The urban development boundary's expansion ratio against the 2020 urban construction land
  (limit from the profile: 1.3, 003:131-133). The limit is region-wide: the regional figure
  (over the districts loaded, which it names) is judged against it; each district's own
  ratio is information only.
- Every line is read in its version in force today (each keeps its versions, migration 0014).
- Indicator totals (red line, permanent basic farmland, cultivated land) in km², 万亩 and ha,
  cultivated land from the survey's official areas (图斑地类面积, terraces deducted) where
  survey patches are loaded (``gis.analysis.survey_areas``), saying which,
  compared with the profile's targets where the target is for this level (a region-wide
  figure names the loaded districts it sums), and the forest coverage rate against the
  district targets. Figures are compared with targets exactly (gis.rules.thresholds).

Layer names come from :data:`LINES` and reach SQL as ``psycopg.sql`` identifiers; division
prefixes are bound values.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, text

from gis.analysis.statements import statement
from gis.analysis.survey_areas import cultivated_total, farmland_total
from gis.errors import InputError
from gis.messages import Joined, Message, Named, msg
from gis.rules import division_prefix, profile_for_division
from gis.rules.models import Citation, Profile, Target
from gis.rules.thresholds import KM2_PER_M2, MU_PER_M2, share
from gis.rules.thresholds import area as exact_area
from gis.units import Area

if TYPE_CHECKING:
    from gis.analysis.tiled_detection import TileOptions

#: The three lines: (layer, key column, label).
LINES = (
    ("eco_redline", "redline_code", "生态保护红线"),
    ("basic_farmland", "parcel_code", "永久基本农田"),
    ("urban_boundary", "boundary_code", "城镇开发边界"),
)

#: The area of a layer's features in a division (``%(p)s``, a LIKE prefix), overlaps counted
#: once; features without a county code count for every division (region-wide data). Only
#: the version in force today (``%(layer)s``: every line keeps its versions).
_TOTAL = sql.SQL(
    "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
    "(SELECT ST_Union(geom) AS geom FROM {} WHERE "
    "(coalesce(county_code, '') LIKE %(p)s OR county_code IS NULL) "
    "AND version = (SELECT control_line_version(%(layer)s))) AS u")
#: The county codes of a layer's features under a division (``%(p)s``, a LIKE prefix).
_COUNTIES = sql.SQL(
    "SELECT DISTINCT county_code FROM {} WHERE county_code LIKE %(p)s "
    "AND version = (SELECT control_line_version(%(layer)s)) ORDER BY 1")


@cache
def _pair_sql(table_a: str, key_a: str, table_b: str, key_b: str) -> sql.Composed:
    """``sql/control_line_pairs.sql`` for two of the :data:`LINES`."""
    return sql.SQL(statement("control_line_pairs.sql")).format(
        table_a=sql.Identifier(table_a), key_a=sql.Identifier(key_a),
        table_b=sql.Identifier(table_b), key_b=sql.Identifier(key_b),
        layer_a=sql.Literal(table_a), layer_b=sql.Literal(table_b))


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


def line_conflicts(engine: Engine, division: str = "64",
                   tiles: TileOptions | None = None) -> list[LineConflict]:
    """Overlaps between any two of the three control lines within ``division``; with
    ``tiles``, the same overlaps found tile by tile on dask.distributed
    (:mod:`gis.analysis.tiled_conflicts`), then kept and named by the same code."""
    _check_division(division)
    tolerance = profile_for_division(division).indicators.control_line_sliver_m2
    prefix = division_prefix(division) + "%"
    pairs = [(table_a, key_a, table_b, key_b) for i, (table_a, key_a, _) in enumerate(LINES)
             for table_b, key_b, _ in LINES[i + 1:]]
    if tiles is not None:
        from gis.analysis.tiled_conflicts import pair_rows

        found = pair_rows(engine, prefix, pairs, tiles)
    else:
        with engine.connect() as conn:
            cur = _cursor(conn, row_factory=dict_row)
            found = [cur.execute(_pair_sql(*pair), {"prefix": prefix}).fetchall()
                     for pair in pairs]
    out: list[LineConflict] = []
    for (table_a, _, table_b, _), rows in zip(pairs, found, strict=True):
        for row in rows:
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
    #: The division the figure is for: the one asked for, or 640000 for a region-wide figure
    #: (summed over the districts in ``covers``, the loaded ones).
    division: str
    #: Shown for information only: no target is set for this figure at this level (a
    #: district's own UDB ratio: the 1.3x limit is region-wide, 003:131-133).
    information_only: bool = False
    #: The districts whose data a region-wide figure sums (only those loaded).
    covers: list[str] = Field(default_factory=list)
    area_km2: float | None = None
    area_wanmu: float | None = None
    area_ha: float | None = None
    target: float | None = None
    comparator: str | None = None
    target_year: int | None = None
    meets_target: bool | None = None
    citation: Citation | None = None
    note_zh: str | None = None
    note_en: str | None = None


def _noted(indicator: Indicator, note: Message) -> Indicator:
    return indicator.model_copy(update={"note_zh": note.render("zh"),
                                        "note_en": note.render("en")})


def _also_noted(indicator: Indicator, note: Message) -> Indicator:
    """``note`` after the indicator's note, if it has one (what the figure is summed from)."""
    if indicator.note_zh is None:
        return _noted(indicator, note)
    return indicator.model_copy(update={
        "note_zh": f"{indicator.note_zh}；{note.render('zh')}",
        "note_en": f"{indicator.note_en}; {note.render('en')}"})


def _with_target(indicator: Indicator, target: Target | None, figure: Fraction) -> Indicator:
    """The indicator judged against ``target``: ``figure`` is its exact value (the shown
    ``value`` is rounded), compared exactly (gis.rules.thresholds)."""
    if target is None:
        return _noted(indicator.model_copy(update={"information_only": True}),
                      msg("indicators.no_target"))
    return indicator.model_copy(update={
        "target": target.value, "comparator": target.comparator,
        "target_year": target.year, "meets_target": target.met_by(figure),
        "citation": target.citation})


def _names(conn: Connection, codes: list[str]) -> dict[str, str]:
    """The names of divisions from the loaded outlines (a code without one names itself)."""
    names = dict(conn.execute(text(
        "SELECT code, min(name) FROM admin_divisions WHERE code = ANY(:c) GROUP BY code"),
        {"c": codes}).all())
    return {c: names.get(c, c) for c in codes}


def _districts(conn: Connection, codes: list[str]) -> Joined:
    """Districts listed by name and code: 大武口区（640202）、兴庆区（640104）."""
    return Joined.of(Named(f"{name}（{c}）", f"{name} ({c})")
                     for c, name in _names(conn, codes).items())


def _county_codes(conn: Connection, table: str, prefix: str) -> list[str]:
    """The county codes of a layer's rows under ``prefix`` (what a total sums)."""
    cur = _cursor(conn)
    cur.execute(_COUNTIES.format(sql.Identifier(table)), {"p": prefix + "%", "layer": table})
    return [row[0] for row in cur.fetchall()]


def indicators(engine: Engine, division: str) -> list[Indicator]:
    """Indicators of one division (a county code such as 640202, or 64 for the region)."""
    _check_division(division)
    profile = profile_for_division(division)
    prefix = division_prefix(division)
    code = division.ljust(6, "0")
    with engine.connect() as conn:
        jurisdiction = conn.execute(text(
            "SELECT sum(area_m2) FROM admin_divisions WHERE code = :code"),
            {"code": code}).scalar()

        def total(table: str) -> float:
            cur = _cursor(conn)
            cur.execute(_TOTAL.format(sql.Identifier(table)),
                        {"p": prefix + "%", "layer": table})
            return cur.fetchone()[0]

        redline = total("eco_redline")
        # Permanent basic farmland in official areas where its parcels meet survey patches
        # carrying TBDLMJ (each its share of its patch), else the polygon union.
        official_farmland = farmland_total(conn, prefix)
        farmland = official_farmland[0] if official_farmland else total("basic_farmland")
        # 耕地 from the survey's official areas (TBDLMJ) where survey patches are loaded;
        # else the cultivated-land layer, which has no county code: the patches whose inner
        # point lies in the division (all when the division has no outline, e.g. the region).
        survey = cultivated_total(conn, prefix)
        cultivated = survey[0] if survey else conn.execute(text(
            "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
            "(SELECT ST_Union(c.geom) AS geom FROM cultivated_land AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM admin_divisions WHERE code = :code) OR EXISTS (SELECT 1 FROM "
            "admin_divisions AS d WHERE d.code = :code "
            "AND ST_Intersects(d.geom, ST_PointOnSurface(c.geom)))) AS u"),
            {"code": code}).scalar_one()
        classes = profile.indicators.forest_coverage_land_classes
        forest = conn.execute(text(
            "SELECT coalesce(sum(ST_Area(geography(geom), true)), 0) FROM "
            "(SELECT ST_Union(geom) AS geom FROM forest_parcels WHERE land_class = ANY(:c) "
            "AND coalesce(county_code, '') LIKE :p) AS u"),
            {"c": classes, "p": prefix + "%"}).scalar_one()
        # A target applies only to the division it is set for (the region's 1753万亩 of
        # cultivated land is not Dawukou's); a region-wide figure says which districts it sums.
        targets = {k: t for k, t in profile.targets.items()
                   if division_prefix(t.division) == prefix}
        covers = {"eco_redline": [], "basic_farmland": [], "cultivated_land": []}
        if targets and len(prefix) < 6:
            covers = {table: _county_codes(conn, table, prefix)
                      for table in ("eco_redline", "basic_farmland")}
            covers["cultivated_land"] = survey[2] if survey else conn.execute(text(
                "SELECT code FROM admin_divisions WHERE level = 'district' AND code LIKE :p "
                "ORDER BY code"), {"p": prefix + "%"}).scalars().all()
        out = []
        for ident, label, table, m2, target in (
            ("redline", "生态保护红线面积", "eco_redline", redline, targets.get("redline_km2")),
            ("basic_farmland", "永久基本农田面积", "basic_farmland", farmland,
             targets.get("basic_farmland_mu")),
            ("cultivated_land", "耕地面积", "cultivated_land", cultivated,
             targets.get("cultivated_land_mu")),
        ):
            a = Area(m2)
            unit, factor = ("km2", KM2_PER_M2) if ident == "redline" else ("mu", MU_PER_M2)
            figure = exact_area(m2) * factor
            row = _with_target(Indicator(
                id=ident, label_zh=label, value=round(float(figure), 6), unit=unit,
                division=code, covers=covers[table], area_km2=round(a.km2, 6),
                area_wanmu=round(a.wanmu, 6), area_ha=round(a.ha, 4),
            ), target, figure)
            if target is not None and len(prefix) < 6:
                row = _noted(row, msg("indicators.region_loaded_only",
                                      districts=_districts(conn, covers[table]))
                             if covers[table] else msg("indicators.region_nothing_loaded"))
            if ident == "cultivated_land":
                row = _also_noted(row, msg(f"indicators.cultivated_{survey[1]}",
                                           counties=_districts(conn, survey[2]))
                                  if survey else msg("indicators.cultivated_layer"))
            if ident == "basic_farmland" and official_farmland:
                row = _also_noted(row, msg(f"indicators.farmland_{official_farmland[1]}"))
            out.append(row)
        out += udb_ratios(conn, profile, prefix)
    if jurisdiction:
        figure = share(forest, jurisdiction)
        if figure is not None:
            out.append(_with_target(Indicator(
                id="forest_coverage", label_zh="森林覆盖率", value=round(float(figure), 6),
                unit="share", division=code, area_km2=round(Area(forest).km2, 6),
            ), targets.get("forest_coverage"), figure))
    return out


def udb_ratios(conn: Connection, profile: Profile, prefix: str) -> list[Indicator]:
    """The urban development boundary's expansion ratio (UDB area / 2020 urban construction
    land). The limit (1.3x, 003:131-133: "城镇开发边界扩展倍数控制在……1.3倍以内") is set
    for the region as a whole, so it judges the regional figure: the sum of the UDB areas
    over the sum of the 2020 baselines of the districts loaded (only those; districts
    without a baseline are left out of both sums and named). Each district under ``prefix``
    gets its own ratio as information, never judged against the region's limit."""
    target = profile.targets.get("udb_expansion_ratio")
    scope = division_prefix(target.division) if target else prefix
    rows = conn.execute(text(
        "SELECT county_code, sum(area_m2), max(baseline_2020_m2) FROM urban_boundary "
        "WHERE county_code LIKE :p AND version = (SELECT control_line_version('urban_boundary')) "
        "GROUP BY county_code ORDER BY county_code"), {"p": scope + "%"}).all()
    counted = [(c, exact_area(a), exact_area(b)) for c, a, b in rows if b and b > 0]
    missing = [c for c, _, b in rows if not (b and b > 0)]
    out = []
    if target is not None and counted:
        udb = sum((a for _, a, _ in counted), Fraction(0))
        baseline = sum((b for _, _, b in counted), Fraction(0))
        note = msg("indicators.udb_region", udb_km2=float(udb * KM2_PER_M2),
                   baseline_km2=float(baseline * KM2_PER_M2),
                   districts=_districts(conn, [c for c, _, _ in counted]))
        text_zh, text_en = note.render("zh"), note.render("en")
        if missing:
            extra = msg("indicators.udb_without_baseline", districts=_districts(conn, missing))
            text_zh, text_en = text_zh + extra.render("zh"), text_en + extra.render("en")
        regional = _with_target(Indicator(
            id="udb_expansion_ratio", label_zh="城镇开发边界扩展倍数（全区）",
            value=round(float(udb / baseline), 6), unit="ratio",
            division=target.division, covers=[c for c, _, _ in counted],
            note_zh=text_zh, note_en=text_en), target, udb / baseline)
        out.append(regional)
    for county, udb, baseline in counted:
        if not county.startswith(prefix):
            continue
        params = {"district": _districts(conn, [county]), "udb_km2": float(udb * KM2_PER_M2),
                  "baseline_km2": float(baseline * KM2_PER_M2)}
        note = (msg("indicators.udb_district", limit=target.value,
                    source=target.citation.label(), **params) if target
                else msg("indicators.udb_district_no_target", **params))
        out.append(_noted(Indicator(
            id=f"udb_expansion_ratio:{county}",
            label_zh=f"城镇开发边界扩展倍数（{_names(conn, [county])[county]}）",
            value=round(float(udb / baseline), 6), unit="ratio", division=county,
            information_only=True), note))
    return out
