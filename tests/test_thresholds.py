"""Thresholds at the boundary (issue 17, item 10): a figure exactly at a rule's threshold is
judged by the rule's words, not by binary floating point.

Every case is built from areas whose float ratio is *not* exact (5000.15 / 100003 is
0.049999999999999996 in floats), on both sides of the boundary: one centi-square-metre
(0.01 m², the precision areas are compared to) further fails. The rule texts:

- 000:854-858 (Xingqing) "村庄规划安排不少于5%的建设用地机动指标": at least 5%, so exactly 5%
  complies;
- 001:1142-1148 (Dawukou) "乡级国土空间规划安排不少于10%的建设用地指标，村庄规划安排5%的建设用地
  机动指标": townships at least 10%; villages 5%, read with the profile's tolerance (±0.1
  point), both ends inclusive;
- 003:131-133 "全区耕地保有量不低于1753万亩，永久基本农田不低于1424万亩，生态保护红线不低于
  1.2万平方千米，城镇开发边界扩展倍数控制在基于2020年现状城镇建设用地规模的1.3倍以内": at
  least the figure, and at most 1.3x;
- the ledger: a draw of exactly what remains is admitted.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

import geopandas as gpd
import pytest
from shapely.geometry import box
from sqlalchemy import text

from gis.analysis.control_lines import indicators
from gis.analysis.reserve import draw, township_report, village_report
from gis.errors import InputError
from gis.layers.load import LoadOptions, load_file
from gis.rules import load_profile
from gis.rules.thresholds import KM2_PER_M2, MU_PER_M2, area, compare, exact, share

XINGQING = load_profile("xingqing").quota["village_flexible"]
DAWUKOU = load_profile("dawukou").quota["village_flexible"]
TOWNSHIP = load_profile("dawukou").quota["township_reserve"]
TARGETS = load_profile("ningxia").targets


def test_rules_read_as_the_seeds_say() -> None:
    assert (XINGQING.comparator, XINGQING.threshold, XINGQING.tolerance) == (">=", 0.05, 0)
    assert (DAWUKOU.comparator, DAWUKOU.threshold, DAWUKOU.tolerance) == ("approx", 0.05, 0.001)
    assert (TOWNSHIP.comparator, TOWNSHIP.threshold) == (">=", 0.10)
    assert {k: (t.comparator, t.value, t.division) for k, t in TARGETS.items()} == {
        "cultivated_land_mu": (">=", 17_530_000, "640000"),
        "basic_farmland_mu": (">=", 14_240_000, "640000"),
        "redline_km2": (">=", 12_000, "640000"),
        "udb_expansion_ratio": ("<=", 1.3, "640000"),
    }


# ------------------------------------------------------------------------ pure comparisons
@pytest.mark.parametrize(("rule", "part", "base", "floats_say", "complies"), [
    # 000:854-858 不少于5%: 5000.15 / 100003 is exactly 5% (floats: 0.049999999999999996)
    (XINGQING, 5000.15, 100003, False, True),
    (XINGQING, 5000.14, 100003, False, False),
    # 001:1144-1148 安排5% with the profile's ±0.1 point: 4.9% and 5.1% exactly are inside
    (DAWUKOU, 4900.0, 100000, False, True),
    (DAWUKOU, 4899.99, 100000, False, False),
    (DAWUKOU, 5100.51, 100010, False, True),
    (DAWUKOU, 5100.52, 100010, False, False),
    # 001:1142-1144 不少于10%: 10000.3 / 100003 is exactly 10% (floats: 0.09999999999999999)
    (TOWNSHIP, 10000.3, 100003, False, True),
    (TOWNSHIP, 10000.29, 100003, False, False),
])
def test_quota_rules_at_the_boundary(rule, part, base, floats_say, complies) -> None:
    t, tol = rule.threshold, rule.tolerance
    as_floats = part / base >= t if rule.comparator == ">=" else abs(part / base - t) <= tol
    assert as_floats is floats_say  # what the old comparison said
    assert rule.complies(share(part, base)) is complies
    assert share(part, 0) is None  # no base, no share (the reports say so, not compliant)


def test_targets_at_the_boundary_both_ways() -> None:
    """003:131-133: "不低于" holds at the figure, "以内" up to it; one centi-m² beyond fails."""
    redline, farmland = TARGETS["redline_km2"], TARGETS["basic_farmland_mu"]
    assert redline.met_by(area(12_000_000_000.0) * KM2_PER_M2)
    assert not redline.met_by(area(11_999_999_999.99) * KM2_PER_M2)
    # 1424万亩 = 9,493,333,333.33... m²: 0.01 m² above it meets, below it does not
    assert farmland.met_by(area(9_493_333_333.34) * MU_PER_M2)
    assert not farmland.met_by(area(9_493_333_333.33) * MU_PER_M2)
    ratio = TARGETS["udb_expansion_ratio"]
    # two districts: (59,064,678.84 + 123,417,308.12) / (49,616,167.57 + 90,754,591.63) is
    # exactly 1.3 (floats: 1.3000000000000003)
    udb, base = (59_064_678.84, 123_417_308.12), (49_616_167.57, 90_754_591.63)
    assert sum(udb) / sum(base) > 1.3
    assert ratio.met_by((area(udb[0]) + area(udb[1])) / (area(base[0]) + area(base[1])))
    assert not ratio.met_by((area(udb[0]) + area(udb[1] + 0.01)) / (area(base[0]) + area(base[1])))
    # Dawukou's forest coverage 7.5% (001:2414-2416): 171,170,804.76 / 2,282,277,396.8 exactly
    coverage = load_profile("dawukou").targets["forest_coverage"]
    assert 171_170_804.76 / 2_282_277_396.8 < 0.075
    assert coverage.met_by(share(171_170_804.76, 2_282_277_396.8))
    assert not coverage.met_by(share(171_170_804.75, 2_282_277_396.8))


def test_exact_reads_decimals_as_written() -> None:
    assert exact(0.05) == Fraction(1, 20) and exact(1.3) == Fraction(13, 10)
    assert area(5000.1 + 1000.2) == Fraction(60003, 10)  # float noise below 0.01 m²
    assert compare(Fraction(1, 20), "approx", 0.05, 0) and not compare(0.0499, ">=", 0.05)
    with pytest.raises(ValueError):
        exact(float("nan"))


# ------------------------------------------------------------------------ in the database
def _load(engine, tmp_path, layer: str, rows: list[dict]) -> None:
    geoms = [box(106.3 + i * 0.01, 39.0, 106.309 + i * 0.01, 39.009) for i in range(len(rows))]
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path)
    load_file(engine, path, layer, LoadOptions(strict=True))


VILLAGES = [  # (code, planned construction m², flexible quota m²)
    ("640104200301", 100003, 5000.15), ("640104200302", 100003, 5000.14),
    ("640202100301", 100000, 4900.0), ("640202100302", 100000, 4899.99),
    ("640202100303", 100010, 5100.51), ("640202100304", 100010, 5100.52),
]


def test_village_quota_and_township_reserve_at_the_boundary(clean_db, tmp_path) -> None:
    _load(clean_db, tmp_path, "village_plans", [
        {"village_code": c, "village_name": f"村{i}", "township_name": "乡",
         "planned_construction_m2": base, "flexible_quota_m2": quota}
        for i, (c, base, quota) in enumerate(VILLAGES)])
    report = {v.village_code: v for v in village_report(clean_db)}
    assert {c: v.compliant for c, v in report.items()} == {
        "640104200301": True, "640104200302": False,    # 不少于5% (000:854-858)
        "640202100301": True, "640202100302": False,    # 5% - 0.1 point (001:1144-1148)
        "640202100303": True, "640202100304": False}    # 5% + 0.1 point
    assert report["640104200301"].assessment_zh == "符合"
    assert report["640104200302"].assessment_zh == "低于5%"
    _load(clean_db, tmp_path, "township_plans", [
        {"township_code": "640202100", "township_name": "星海镇",
         "planned_construction_m2": 100003, "reserved_indicator_m2": 10000.3},
        {"township_code": "640202101", "township_name": "甲镇",
         "planned_construction_m2": 100003, "reserved_indicator_m2": 10000.29}])
    townships = {t.township_code: t for t in township_report(clean_db)}
    assert townships["640202100"].compliant and townships["640202100"].assessment_zh == "符合"
    assert not townships["640202101"].compliant  # 不少于10% (001:1142-1144)
    assert townships["640202101"].assessment_zh == "低于10%"


def test_a_draw_of_exactly_what_remains_is_admitted(clean_db, tmp_path) -> None:
    _load(clean_db, tmp_path, "village_plans", [
        {"village_code": "640202100305", "village_name": "村", "township_name": "乡",
         "planned_construction_m2": 120006, "flexible_quota_m2": 6000.3}])
    code = "640202100305"
    draw(clean_db, code, "P-1", 5000.1, "key_industry")
    assert 6000.3 - 5000.1 < 1000.2  # floats: 1000.1999999999998 remain
    with pytest.raises(InputError, match="refused"):
        draw(clean_db, code, "P-2", 1000.21, "key_industry")
    draw(clean_db, code, "P-2", 1000.2, "key_industry")  # exactly what remains
    row = village_report(clean_db, code)[0]
    assert row.remaining_m2 == 0.0 and not row.overdrawn and row.drawn_m2 == 6000.3
    with pytest.raises(InputError, match="refused"):
        draw(clean_db, code, "P-3", 0.01, "key_industry")


def test_regional_udb_ratio_at_the_limit(clean_db, tmp_path) -> None:
    """003:131-133 "1.3倍以内": the regional figure exactly at 1.3 meets the limit; one
    centi-square-metre more of boundary does not."""
    _load(clean_db, tmp_path, "urban_boundary", [
        {"boundary_code": "DWK", "zone": "centralized_construction", "county_code": "640202",
         "baseline_2020_m2": 49_616_167.57},
        {"boundary_code": "XQ", "zone": "centralized_construction", "county_code": "640104",
         "baseline_2020_m2": 90_754_591.63}])
    with clean_db.begin() as conn:  # the stored areas (the loader measured the boxes)
        conn.execute(text("UPDATE urban_boundary SET area_m2 = CASE boundary_code "
                          "WHEN 'DWK' THEN 59064678.84 ELSE 123417308.12 END"))
    regional = {i.id: i for i in indicators(clean_db, "64")}["udb_expansion_ratio"]
    assert regional.value == 1.3 and regional.meets_target is True
    assert regional.covers == ["640104", "640202"]
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE urban_boundary SET area_m2 = 123417308.13 "
                          "WHERE boundary_code = 'XQ'"))
    regional = {i.id: i for i in indicators(clean_db, "640202")}["udb_expansion_ratio"]
    assert regional.meets_target is False


def test_forest_coverage_is_judged_exactly_not_rounded(lines) -> None:
    """Dawukou 7.5% by 2025 (001:2414-2416): the coverage is compared exactly, not as its
    shown value rounded to 6 decimals (0.07499996 shows as 0.075 but is short)."""
    with lines.connect() as conn:
        forest = conn.execute(text(
            "SELECT ST_Area(geography(ST_Union(geom)), true) FROM forest_parcels "
            "WHERE land_class = ANY(:c)"),
            {"c": load_profile("dawukou").indicators.forest_coverage_land_classes}).scalar_one()
    exact_j = area(forest) * Fraction(40, 3)  # forest / 0.075
    at_limit = Decimal(exact_j.numerator) / Decimal(exact_j.denominator)
    at_limit = at_limit.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)

    def coverage(jurisdiction: Decimal | float):
        with lines.begin() as conn:
            conn.execute(text("UPDATE admin_divisions SET area_m2 = :a WHERE code = '640202'"),
                         {"a": float(jurisdiction)})
        return {i.id: i for i in indicators(lines, "640202")}["forest_coverage"]

    assert coverage(at_limit).meets_target is True
    assert coverage(at_limit + Decimal("0.01")).meets_target is False
    short = coverage(float(area(forest)) / 0.07499996)
    assert short.value == 0.075 and short.meets_target is False
