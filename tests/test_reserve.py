"""Village flexible quota: compliance per profile, the ledger, refusals and concurrency."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from gis.analysis.reserve import draw, ledger, township_report, village_report
from gis.errors import InputError, NotFound
from gis.rules import load_profile
from gis.testing import table_state


def _by_code(report):
    return {v.village_code: v for v in report}


def test_compliance_reading_differs_between_profiles(villages) -> None:
    report = _by_code(village_report(villages))
    # Dawukou: "安排5%" = 5% within the profile's tolerance; 6% is not 5%.
    assert report["640202100203"].compliant and report["640202100204"].compliant
    assert not report["640202100201"].compliant and not report["640202100202"].compliant
    assert report["640202100201"].comparator == "approx"
    # Xingqing: "不少于5%" = at least 5%; 6% complies, 4.98% does not.
    assert report["640104200201"].compliant and report["640104200203"].compliant
    assert not report["640104200202"].compliant
    assert report["640104200202"].comparator == ">="
    assert report["640202100202"].share == pytest.approx(0.03)
    assert report["640202100202"].citation.label() == "001:1144-1148"
    assert "不少于5%" in report["640104200201"].rule_text_zh
    assert {v.profile for v in report.values()} == {"dawukou", "xingqing"}
    only_xingqing = village_report(villages, "640104")
    assert {v.village_code[:6] for v in only_xingqing} == {"640104"}


def test_thresholds_come_from_the_profile(villages) -> None:
    rule = load_profile("dawukou").quota["village_flexible"]
    report = _by_code(village_report(villages))
    assert report["640202100203"].threshold == rule.threshold
    assert report["640202100203"].tolerance == rule.tolerance


def test_draws_reduce_what_remains_and_overdraw_is_refused(villages) -> None:
    code = "640202100203"  # quota 12,500 m²
    first = draw(villages, code, "P-001", 5_000, "key_industry", dt.date(2024, 3, 1), "冷链物流")
    assert first.area_mu == pytest.approx(7.5)
    draw(villages, code, "P-002", 7_000, "ecological_restoration")
    row = _by_code(village_report(villages))[code]
    assert row.drawn_m2 == pytest.approx(12_000) and row.remaining_m2 == pytest.approx(500)
    before = table_state(villages, "village_plans")
    with pytest.raises(InputError, match=r"500\.00 m²"):
        draw(villages, code, "P-003", 501, "major_project")
    assert [d.project_code for d in ledger(villages, code)] == ["P-001", "P-002"]
    assert table_state(villages, "village_plans") == before


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"village_code": "640202999999"}, NotFound, "no village plan"),
    ({"area_m2": 0}, InputError, "greater than 0"),
    ({"area_m2": -10}, InputError, "greater than 0"),
    ({"area_m2": float("nan")}, InputError, "finite"),
    ({"area_m2": float("inf")}, InputError, "finite"),
    ({"area_m2": float("-inf")}, InputError, "finite"),
    ({"area_m2": 1e300}, InputError, "at most"),
    ({"purpose": "housing"}, InputError, "purpose"),
    ({"project_code": " "}, InputError, "project code"),
    ({"village_code": "640202100205"}, InputError, "no flexible quota"),
])
def test_bad_draws_change_nothing(villages, kwargs, error, message) -> None:
    args = {"village_code": "640202100201", "project_code": "P-9", "area_m2": 100.0,
            "purpose": "key_industry", **kwargs}
    with pytest.raises(error, match=message):
        draw(villages, **args)
    with villages.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM quota_draws")).scalar_one() == 0


def test_concurrent_draws_never_exceed_the_quota(villages) -> None:
    code, quota = "640104200201", 350_000 * 0.06  # 21,000 m²

    def attempt(i: int) -> bool:
        try:
            draw(villages, code, f"P-{i:03d}", 1_000, "major_project")
            return True
        except InputError:
            return False

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(40)))
    assert sum(results) == 21
    total = sum(d.area_m2 for d in ledger(villages, code))
    assert total == pytest.approx(21_000) and total <= quota


def test_ledger_of_unknown_village(villages) -> None:
    with pytest.raises(NotFound):
        ledger(villages, "000000000000")


def test_siting_says_which_village_quota_a_project_draws_on(villages, tmp_path) -> None:
    """Village 640202100201 (星光村) is the box 106.300-106.309 / 39.000-39.009; half of it is
    planned construction land. A project on the other half draws on its quota."""
    import geopandas as gpd
    from shapely.geometry import box, mapping

    from gis.analysis.siting import check
    from gis.layers.load import LoadOptions, load_file

    zones = gpd.GeoDataFrame(
        [{"zone_code": "Z1", "village_code": "640202100201", "land_use_code": "0703",
          "construction": True}],
        geometry=[box(106.300, 39.000, 106.309, 39.0045)], crs="EPSG:4490")
    zones.to_file(tmp_path / "zones.gpkg")
    load_file(villages, tmp_path / "zones.gpkg", "village_plan_zones", LoadOptions(strict=True))
    outside = check(villages, mapping(box(106.302, 39.006, 106.304, 39.008)), "DEV", True,
                    profile="dawukou")
    advice = [w for w in outside.warnings if w.code == "village_quota_draw"]
    assert len(advice) == 1 and "星光村" in advice[0].message_zh
    assert "剩余机动指标36.00亩" in advice[0].message_zh  # 6% of 400,000 m² = 24,000 m²
    inside = check(villages, mapping(box(106.302, 39.001, 106.304, 39.003)), "DEV", True,
                   profile="dawukou")
    assert not [w for w in inside.warnings if w.code == "village_quota_draw"]


def test_township_reserve_reads_no_less_than_ten_percent(clean_db, tmp_path) -> None:
    """Dawukou: "乡级国土空间规划安排不少于10%的建设用地指标" (001:1142-1144): 10% exactly and
    above comply, below does not; Xingqing has no township rule, so its plans are not judged."""
    import geopandas as gpd
    from shapely.geometry import box

    from gis.layers.load import LoadOptions, load_file

    plans = [("640202100", "星海镇", 1_000_000, 0.10), ("640202101", "甲镇", 800_000, 0.125),
             ("640202102", "乙镇", 900_000, 0.0999), ("640202103", "丙镇", 0, 0.0),
             ("640104100", "掌政镇", 500_000, 0.02)]
    rows = [{"township_code": c, "township_name": n, "planned_construction_m2": base,
             "reserved_indicator_m2": base * share} for c, n, base, share in plans]
    geoms = [box(106.3 + i * 0.01, 39.0, 106.309 + i * 0.01, 39.009) for i in range(len(rows))]
    path = tmp_path / "townships.gpkg"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4490").to_file(path)
    load_file(clean_db, path, "township_plans", LoadOptions(strict=True))
    report = {t.township_code: t for t in township_report(clean_db)}
    assert set(report) == {"640202100", "640202101", "640202102", "640202103"}
    assert report["640202100"].compliant and report["640202101"].compliant
    assert not report["640202102"].compliant and report["640202102"].assessment_zh == "低于10%"
    assert not report["640202103"].compliant
    assert report["640202103"].assessment_zh == "规划建设用地为零，无法计算比例"
    rule = load_profile("dawukou").quota["township_reserve"]
    assert report["640202101"].threshold == rule.threshold == 0.10
    assert report["640202101"].reserved_mu == pytest.approx(100_000 / 666.6667, rel=1e-6)
    assert township_report(clean_db, "640104") == []
