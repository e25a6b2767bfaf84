"""Three control lines: pairwise overlaps, UDB expansion ratio, indicators and targets, each
checked against an independent shapely + pyproj.Geod computation."""

from __future__ import annotations

import pytest

from gis.analysis.control_lines import indicators, line_conflicts
from gis.errors import InputError
from gis.units import Area, geodesic_area
from tests.planning_fixtures import DISTRICT, FARM_A, FARM_B, FARM_C, FOREST, REDLINE, UDB, _load


def test_pairwise_overlaps_are_found_with_areas(lines) -> None:
    conflicts = line_conflicts(lines, "640202")
    kinds = {(c.kind, c.key_a, c.key_b): c for c in conflicts}
    assert set(kinds) == {("eco_redline/basic_farmland", "HX-1", "JB-A"),
                          ("basic_farmland/urban_boundary", "JB-B", "UDB-1")}
    red_farm = kinds[("eco_redline/basic_farmland", "HX-1", "JB-A")]
    assert red_farm.area_m2 == pytest.approx(geodesic_area(REDLINE & FARM_A).m2, rel=1e-3)
    farm_udb = kinds[("basic_farmland/urban_boundary", "JB-B", "UDB-1")]
    assert farm_udb.area_mu == pytest.approx(geodesic_area(FARM_B & UDB).mu, rel=1e-3)
    assert len({c.id for c in conflicts}) == 2
    assert line_conflicts(lines, "640202") == conflicts  # stable ids


def test_indicators_and_targets(lines) -> None:
    found = {i.id: i for i in indicators(lines, "640202")}
    farmland = geodesic_area(FARM_A) + geodesic_area(FARM_B) + geodesic_area(FARM_C)
    assert found["basic_farmland"].area_ha == pytest.approx(farmland.ha, rel=1e-3)
    assert found["basic_farmland"].area_wanmu == pytest.approx(farmland.wanmu, rel=1e-3)
    assert found["redline"].area_km2 == pytest.approx(geodesic_area(REDLINE).km2, rel=1e-3)
    # Region-level targets (1753万亩 ...) are not applied to a district.
    cultivated = found["cultivated_land"]
    assert cultivated.target is None and cultivated.information_only
    assert "no target" in cultivated.note_en and "仅供参考" in cultivated.note_zh
    # 003:131-133 "城镇开发边界扩展倍数控制在基于2020年现状城镇建设用地规模的1.3倍以内" is a
    # region-wide limit: it judges the regional figure; the district's own ratio is information.
    regional = found["udb_expansion_ratio"]
    assert regional.value == pytest.approx(1.25, rel=1e-6) and regional.division == "640000"
    assert regional.target == 1.3 and regional.comparator == "<=" and regional.meets_target
    assert regional.citation.label() == "003:131-133" and not regional.information_only
    assert regional.covers == ["640202"] and "大武口区（640202）" in regional.note_zh
    assert "covers only the loaded districts: 大武口区 (640202)" in regional.note_en
    own = found["udb_expansion_ratio:640202"]
    assert own.value == pytest.approx(1.25, rel=1e-6) and own.information_only
    assert own.meets_target is None and own.target is None and own.division == "640202"
    assert "for information only" in own.note_en and "003:131-133" in own.note_en
    coverage = found["forest_coverage"]
    expected = geodesic_area(FOREST).m2 / geodesic_area(DISTRICT).m2  # 疏林地 does not count
    assert coverage.value == pytest.approx(expected, rel=1e-3)
    assert coverage.target == 0.075 and coverage.meets_target is (expected >= 0.075)


def test_expansion_ratio_over_the_limit(lines, tmp_path) -> None:
    _load(lines, tmp_path, "urban_boundary", [
        {"boundary_code": "UDB-1", "zone": "centralized_construction", "county_code": "640202",
         "baseline_2020_m2": geodesic_area(UDB).m2 / 1.36}], [UDB])
    found = {i.id: i for i in indicators(lines, "640202")}
    assert found["udb_expansion_ratio"].value == pytest.approx(1.36, rel=1e-6)
    assert found["udb_expansion_ratio"].meets_target is False
    assert found["udb_expansion_ratio:640202"].meets_target is None


def test_region_level_applies_region_targets(lines) -> None:
    found = {i.id: i for i in indicators(lines, "64")}
    assert found["cultivated_land"].target == 17_530_000
    assert found["cultivated_land"].meets_target is False  # a few parcels, far below
    assert Area.from_mu(found["cultivated_land"].value).m2 > 0


@pytest.mark.parametrize("division", ["64'; DROP TABLE eco_redline; --", "abc", ""])
def test_bad_division_codes(lines, division) -> None:
    with pytest.raises(InputError, match="division code"):
        line_conflicts(lines, division)
    with pytest.raises(InputError, match="division code"):
        indicators(lines, division)
