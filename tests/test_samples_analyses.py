"""The analyses on the sample one-map find exactly the situations planted in
data/samples/planted.yaml, with areas equal to the independently computed ones (0.1%)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from gis.analysis.control_lines import indicators, line_conflicts
from gis.analysis.forest_grass import detect, list_findings
from gis.analysis.reserve import village_report
from gis.analysis.siting import check
from gis.layers.schema import layer_tables, metadata
from gis.samples import load_sample_ledger, load_samples

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PLANTED = yaml.safe_load((SAMPLES / "planted.yaml").read_text(encoding="utf-8"))
SITUATIONS = {s["id"]: s for s in PLANTED["situations"]}
#: planted kind -> the kind the reconciliation reports
KIND = {"forest_grass_overlap": "forest_grass_overlap", "forest_grass_sliver": "sliver",
        "class_mismatch": "class_mismatch", "ownership_overlap": "ownership_overlap",
        "unclear_ownership": "missing_owner", "no_certificate": "missing_certificate",
        "certificate_area_mismatch": "certificate_mismatch"}


def _key(layer: str, feature: dict) -> str:
    return "/".join(str(v) for v in feature.values())


@pytest.fixture(scope="module")
def samples(settings, engine):
    layer_tables()
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables
                                                  if t.name != "api_keys")
                          + " RESTART IDENTITY CASCADE"))
    sample_settings = settings.with_changes(data={"samples_dir": SAMPLES})
    summaries = load_samples(engine, sample_settings)
    assert all(s.repaired == 0 for s in summaries)
    assert load_sample_ledger(engine, sample_settings) > 0
    assert load_sample_ledger(engine, sample_settings) == 0  # idempotent
    return engine


def _planted_findings() -> set[tuple[str, frozenset[str]]]:
    out = set()
    for s in SITUATIONS.values():
        if s["kind"] not in KIND:
            continue
        kind = KIND[s["kind"]]
        if s["kind"] == "class_mismatch" and s["expected"].get("above_tolerance") is False:
            kind = "sliver"  # a mismatch below the mapping unit is reported as a sliver
        keys = frozenset(_key(layer, f) for layer, fs in s["features"].items() for f in fs)
        out.add((kind, keys))
    return out


def test_reconciliation_finds_exactly_the_planted_situations(samples) -> None:
    for division in ("640202", "640104"):
        detect(samples, division)
    _, findings = list_findings(samples, limit=1000)
    found = {(f.kind, frozenset(p["key"] for p in f.parcels)): f for f in findings}
    planted = _planted_findings()
    # The parcel without owner has no certificate either: implied by OWN-UNCLEAR-01.
    unowned = _key("forest_parcels", SITUATIONS["OWN-UNCLEAR-01"]["features"]["forest_parcels"][0])
    implied = {("missing_certificate", frozenset({unowned}))}
    assert set(found) == planted | implied
    for s in SITUATIONS.values():
        area = s["expected"].get("area_m2") if s["kind"] in KIND else None
        if area:
            keys = frozenset(_key(layer, f) for layer, fs in s["features"].items() for f in fs)
            match = next(f for (kind, k), f in found.items() if k == keys)
            assert match.area_m2 == pytest.approx(area, rel=1e-3), s["id"]
            assert (match.kind == "sliver") == (s["expected"].get("above_tolerance") is False)


def test_village_quotas_per_profile(samples) -> None:
    report = {v.village_code: v for v in village_report(samples)}
    for planted in PLANTED["village_quotas"]:
        row = report[planted["village_code"]]
        assert row.share == pytest.approx(planted["share"], abs=1e-6)
    code = {s["id"]: s["features"]["village_plans"][0]["village_code"]
            for s in SITUATIONS.values() if s["kind"] == "village_quota_share"}
    assert report[code["QUOTA-EXACT-01"]].compliant and report[code["QUOTA-TOL-01"]].compliant
    assert not report[code["QUOTA-LOW-01"]].compliant
    assert report[code["QUOTA-EXACT-02"]].compliant and not report[code["QUOTA-LOW-02"]].compliant
    assert report[code["QUOTA-LOW-01"]].profile == "dawukou"
    assert report[code["QUOTA-LOW-02"]].profile == "xingqing"
    overdrawn = SITUATIONS["QUOTA-OVERDRAWN-01"]
    village = report[overdrawn["features"]["village_plans"][0]["village_code"]]
    assert village.overdrawn and village.drawn_m2 == pytest.approx(
        overdrawn["expected"]["drawn_m2"])
    assert [v.village_code for v in report.values() if v.overdrawn] == [village.village_code]


def test_township_reserves_per_profile(samples) -> None:
    from gis.analysis.reserve import township_report

    report = {t.township_code: t for t in township_report(samples)}
    facts = {t["township_code"]: t for t in PLANTED["township_reserves"]}
    low = SITUATIONS["TOWNSHIP-RESERVE-LOW-01"]
    code = low["features"]["township_plans"][0]["township_code"]
    # Only Dawukou has a township rule ("no less than 10%", 001:1142-1144).
    assert set(report) == {c for c in facts if c.startswith("640202")} == {code}
    row = report[code]
    assert row.share == pytest.approx(low["expected"]["share"], abs=1e-6)
    assert not row.compliant and row.profile == "dawukou" and row.comparator == ">="
    assert row.citation.lines == "1142-1144" and row.assessment_zh == "低于10%"


def test_control_lines_and_udb_ratios(samples) -> None:
    conflicts = line_conflicts(samples, "64")
    found = {frozenset({c.key_a, c.key_b}): c for c in conflicts}
    planted = [s for s in SITUATIONS.values() if s["kind"] == "three_line_conflict"]
    assert set(found) == {frozenset(f for fs in s["features"].values()
                                    for f in (_key("", x) for x in fs)) for s in planted}
    for s in planted:
        keys = frozenset(_key("", x) for fs in s["features"].values() for x in fs)
        assert found[keys].area_m2 == pytest.approx(s["expected"]["area_m2"], rel=1e-3)
    # 003:131-133: the 1.3x limit is region-wide. Each district's own ratio is information;
    # the regional figure over the loaded districts is judged (UDB-REGION-01: exceeded).
    region = SITUATIONS["UDB-REGION-01"]["expected"]
    for county, sid in (("640202", "UDB-01"), ("640104", "UDB-02")):
        found = {i.id: i for i in indicators(samples, county)}
        own = found[f"udb_expansion_ratio:{county}"]
        assert own.value == pytest.approx(SITUATIONS[sid]["expected"]["ratio"], rel=1e-6)
        assert own.information_only and own.meets_target is None
        regional = found["udb_expansion_ratio"]
        assert regional.value == pytest.approx(region["ratio"], rel=1e-6)
        assert regional.meets_target is (not region["exceeds"]) is False
        assert regional.covers == region["covers"] and regional.division == "640000"
    everything = {i.id: i for i in indicators(samples, "64")}
    assert {k for k in everything if k.startswith("udb_")} == {
        "udb_expansion_ratio", "udb_expansion_ratio:640104", "udb_expansion_ratio:640202"}
    assert everything["cultivated_land"].covers == ["640104", "640202"]
    assert "仅含已加载数据的区县：兴庆区（640104）、大武口区（640202）" in \
        everything["cultivated_land"].note_zh


def test_sample_projects_siting(samples) -> None:
    with samples.connect() as conn:
        rows = conn.execute(text(
            "SELECT project_code, ST_AsGeoJSON(geom)::json, activity_code, "
            "new_construction_land, temporary FROM projects")).all()
    projects = {r[0]: r for r in rows}
    verdicts = {}
    for s in SITUATIONS.values():
        if s["kind"] != "project_siting":
            continue
        code = s["features"]["projects"][0]["project_code"]
        _, geom, activity, new_land, temporary = projects[code]
        profile = "dawukou" if "-640202-" in code else "xingqing"
        result = check(samples, geom, activity, bool(new_land), bool(temporary), profile,
                       "EPSG:4490")
        verdicts[s["id"]] = result
        assert result.footprint_area.area_m2 == pytest.approx(
            s["expected"]["footprint_area_m2"], rel=1e-3)
        for expected in s["expected"]["overlaps"]:
            zone = expected.get("zone")
            got = sum(o.area_m2 for o in result.overlaps if o.layer == expected["layer"]
                      and (zone is None or o.zone == zone))
            assert got == pytest.approx(expected["area_m2"], rel=1e-3), (s["id"], expected)
    assert verdicts["PRJ-01"].verdict == "prohibited"
    assert verdicts["PRJ-02"].verdict == "justification_required"
    assert verdicts["PRJ-05"].verdict == "no_conflict"
    assert any(w.code == "linear_crossing_redline" for w in verdicts["PRJ-06"].warnings)
    assert verdicts["PRJ-07"].approval_path.id == "temporary_land"
