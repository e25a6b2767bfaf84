"""Siting verdicts against the text they cite: every condition of a rule applied (issue 17).

Each test quotes the seed lines (``../shared/seeds/003_93e195fdba6286ab.txt``) its expected
verdict and path come from. The control layers are the synthetic ones of
``tests/siting_fixtures.py`` (Dawukou profile): GENERAL is the red line's general zone,
FARMLAND permanent basic farmland, GOOD_LAND cultivated land, CENTRALIZED and FLEXIBLE the
urban development boundary's centralized construction and flexible development zones.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box, mapping

from gis.analysis.siting import check
from gis.rules import load_profile

IN_GENERAL = box(106.23, 39.005, 106.24, 39.01)
ON_FARMLAND = box(106.302, 39.002, 106.305, 39.005)
ON_CULTIVATED = box(106.312, 39.002, 106.315, 39.005)
IN_FLEXIBLE = box(106.45, 39.005, 106.455, 39.01)
OUTSIDE_BOUNDARY = box(106.50, 39.05, 106.51, 39.06)
#: A flood-control pumping station in the general zone: compact, not linear.
PUMP_STATION = box(106.235, 39.006, 106.2356, 39.0065)
#: A long narrow strip across the general zone (about 2.6 km by 55 m).
STRIP = box(106.225, 39.010, 106.255, 39.0105)


def run(engine, geom, activity, new_land=False, temporary=False, **kw):
    return check(engine, mapping(geom), activity, new_land, temporary, profile="dawukou", **kw)


def finding(result, rule_id):
    return next(r for r in result.rules if r.rule_id == rule_id)


def statuses(result, rule_id) -> dict[str, str]:
    return {c.id: c.status for c in finding(result, rule_id).conditions}


def codes(result) -> set[str]:
    return {w.code for w in result.warnings}


# -- item 1 and 3: residents' housing (003:243, 003:225) --------------------------------------


def test_housing_without_new_land_is_exempt_and_asks_no_justification(layers) -> None:
    """003:243 "原住民和其他合法权益主体在不扩大现有建设用地范围和规模的前提下修筑住房的，可免于
    论证": exempt, so no finding demands the content of a justification (003:243-245)."""
    result = run(layers, IN_GENERAL, "HOUSING")
    assert result.verdict == "permitted_with_conditions"
    assert result.approval_path.id == "residents_housing_exempt"
    assert result.approval_path.exempt and not result.approval_path.required
    assert {r.rule_id for r in result.rules} == {"redline.general_zone", "udb.outside_boundary"}
    assert statuses(result, "redline.general_zone") == {
        "lawful": "to_confirm", "no_damage": "to_confirm", "residents": "to_confirm",
        "no_enlargement": "to_confirm"}


def test_housing_with_new_construction_land_is_prohibited(layers) -> None:
    """New construction land enlarges existing construction land: not the exemption of
    003:243, and outside LA2 (003:225 "在不扩大现有建设用地、耕地、水产养殖规模的前提下……修筑
    生产生活设施"), so none of the admitted activities: "禁止开发性、生产性建设活动" (003:223)."""
    result = run(layers, IN_GENERAL, "HOUSING", new_land=True)
    assert result.verdict == "prohibited"
    assert result.approval_path is None
    general = finding(result, "redline.general_zone")
    assert general.verdict == "prohibited"
    assert statuses(result, "redline.general_zone")["no_enlargement"] == "not_met"
    warning = next(w for w in result.warnings if w.code == "condition_not_met")
    assert warning.rule_id == "redline.general_zone"
    assert "不扩大现有建设用地范围和规模" in warning.message_zh
    assert "涉及新增建设用地" in warning.message_zh
    assert "redline.justification_content" not in {r.rule_id for r in result.rules}


def test_housing_on_temporary_land_is_not_exempt(layers) -> None:
    """Temporary land lies outside existing construction land: the exemption of 003:243 does
    not apply; 003:247 does ("允许的有限人为活动……所需的临时用地")."""
    result = run(layers, IN_GENERAL, "HOUSING", temporary=True)
    assert result.verdict == "justification_required"
    assert result.approval_path.id == "temporary_land"
    assert not result.approval_path.exempt
    assert "redline.temporary_land" in {r.rule_id for r in result.rules}


# -- item 2: LA2's condition applied (003:225) -------------------------------------------------


def test_la2_with_new_construction_land_fails_its_condition(layers) -> None:
    """003:225: LA2 only "在不扩大现有建设用地、耕地、水产养殖规模的前提下"."""
    result = run(layers, IN_GENERAL, "LA2", new_land=True)
    assert result.verdict == "prohibited"
    assert result.approval_path is None
    assert statuses(result, "redline.general_zone")["no_enlargement"] == "not_met"
    assert "condition_not_met" in codes(result)


def test_la2_without_new_land_keeps_its_conditions_to_confirm(layers) -> None:
    """Without new construction land the request cannot tell whether cultivated land or
    aquaculture grow: the planner confirms; the path is 003:243's second case."""
    result = run(layers, IN_GENERAL, "LA2")
    assert result.verdict == "justification_required"
    assert result.approval_path.id == "limited_without_new_land"
    assert statuses(result, "redline.general_zone")["no_enlargement"] == "to_confirm"
    assert statuses(result, "redline.general_zone")["residents"] == "to_confirm"
    assert "condition_not_met" not in codes(result)


# -- item 4: specific construction activity (003:243) -----------------------------------------


def test_limited_activity_without_land_or_construction_needs_no_justification(layers) -> None:
    """003:243 prescribes a justification for new construction land and for "不涉及新增建设
    用地、有具体建设活动的项目"; a patrol without facilities is neither: admission per 003:223-225
    only (permitted with its conditions), no justification finding, no confirming body."""
    result = run(layers, IN_GENERAL, "LA1", construction=False)
    assert result.verdict == "permitted_with_conditions"
    path = result.approval_path
    assert path.id == "limited_without_land_or_construction"
    assert not path.required and not path.exempt
    assert path.organizer_zh is path.decider_zh is None
    assert path.interpretation is not None
    assert "redline.justification_content" not in {r.rule_id for r in result.rules}
    assert result.construction is False
    # the facilities condition of LA1 ("相关的必要设施修筑") does not apply without construction
    assert "necessary_facilities" not in statuses(result, "redline.general_zone")


def test_limited_activity_with_construction_goes_to_the_same_level_government(layers) -> None:
    result = run(layers, IN_GENERAL, "LA1", construction=True)
    assert result.verdict == "justification_required"
    assert result.approval_path.id == "limited_without_new_land"
    assert result.approval_path.decider_zh == "同级人民政府（认定）"
    assert statuses(result, "redline.general_zone")["necessary_facilities"] == "to_confirm"


def test_national_major_project_without_construction_still_needs_justification(layers) -> None:
    """003:245 "不涉及新增建设用地的，市、县（区）人民政府组织……论证": no construction qualifier."""
    result = run(layers, IN_GENERAL, "NMP2", construction=False)
    assert result.verdict == "justification_required"
    assert result.approval_path.id == "national_major_without_new_land"


def test_development_is_construction_whatever_the_request_says(layers) -> None:
    result = run(layers, IN_GENERAL, "DEV", construction=False)
    assert result.verdict == "prohibited"
    assert result.construction is True
    assert "construction_implied" in codes(result)


# -- items 5 and 6: what each justification covers, who does what (003:245-247) --------------


def test_temporary_land_justification_is_247s(layers) -> None:
    """003:247: "对项目不可避让生态保护红线和减缓生态环境影响的措施进行论证" (no 节约集约),
    approved by "设区的市自然资源主管部门"."""
    result = run(layers, IN_GENERAL, "NMP3", new_land=False, temporary=True)
    assert result.verdict == "justification_required"
    assert result.approval_path.id == "temporary_land"
    assert result.approval_path.decider_zh == "设区的市自然资源主管部门（审批）"
    ids = {r.rule_id for r in result.rules}
    assert "redline.temporary_land" in ids and "redline.justification_content" not in ids
    subjects = statuses(result, "redline.temporary_land")
    assert {"unavoidable", "mitigation", "restore", "minimize"} <= set(subjects)
    assert "land_saving" not in subjects
    assert "节约集约" not in " ".join(c.zh for c in finding(result,
                                                            "redline.temporary_land").conditions)


def test_justification_content_of_243_245(layers) -> None:
    result = run(layers, IN_GENERAL, "NMP3", new_land=True)
    content = finding(result, "redline.justification_content")
    assert {c.id for c in content.conditions} == {"unavoidable", "land_saving", "mitigation"}


def test_national_major_project_without_new_land_names_no_confirming_body(layers) -> None:
    """003:245 "不涉及新增建设用地的，市、县（区）人民政府组织对项目……进行论证，办理相关行政
    许可审批手续时应当附论证意见": an organizer and a document, no confirming body."""
    path = run(layers, IN_GENERAL, "NMP5").approval_path
    assert path.id == "national_major_without_new_land"
    assert path.organizer_zh.startswith("市、县（区）人民政府")
    assert path.reviewer_zh is None and path.decider_zh is None
    assert "论证意见" in path.document_zh


def test_general_zone_conditions_by_category(layers) -> None:
    """003:223-229: limited activities "对生态功能不造成破坏"; national major projects "确需占用
    生态保护红线"; LA7 mining also 003:231 "严格执行绿色勘查、开采及矿山环境生态修复相关要求"."""
    major = statuses(run(layers, IN_GENERAL, "NMP6", new_land=True), "redline.general_zone")
    assert {"lawful", "must_occupy", "hard_to_avoid"} <= set(major)
    assert "no_damage" not in major
    mining = statuses(run(layers, IN_GENERAL, "LA7", new_land=True), "redline.general_zone")
    assert {"lawful", "no_damage", "national_rules", "green_mining"} <= set(mining)


# -- item 7: the urban development boundary (003:179-181) -------------------------------------


def test_inside_the_boundary_outside_the_centralized_zone(layers) -> None:
    """003:179 is the centralized construction zone's, 003:181 "城镇开发边界外"; the text says
    nothing of the boundary's other zones, and the finding says so."""
    result = run(layers, IN_FLEXIBLE, "DEV", new_land=True)
    assert {r.rule_id for r in result.rules} == {"udb.other_zones"}
    other = finding(result, "udb.other_zones")
    assert other.verdict == "no_conflict" and other.conditions == []
    assert "未作规定" in other.interpretation.zh


def test_outside_the_boundary_both_regimes(layers) -> None:
    """003:181 "实行“详细规划+规划许可”和“约束指标+分区准入”的管制方式，严格空间准入"."""
    result = run(layers, OUTSIDE_BOUNDARY, "DEV", new_land=True)
    assert {r.rule_id for r in result.rules} == {"udb.outside_boundary"}
    assert set(statuses(result, "udb.outside_boundary")) == {
        "detailed_plan_permit", "indicators_zone_entry", "strict_entry"}


def test_straddling_centralized_and_flexible_zones(layers) -> None:
    result = run(layers, box(106.435, 39.005, 106.445, 39.01), "DEV", new_land=True)
    assert {r.rule_id for r in result.rules} == {"udb.centralized_construction",
                                                 "udb.other_zones"}


# -- item 11: linearity from the declaration and the shape -----------------------------------


def test_compact_flood_control_facility_is_not_linear(layers) -> None:
    result = run(layers, PUMP_STATION, "LA6", new_land=True)
    assert "linear_crossing_redline" not in codes(result) and result.linear is False
    declared = run(layers, PUMP_STATION, "LA6", new_land=True, linear=True)
    assert "linear_crossing_redline" in codes(declared) and declared.linear is True


def test_long_narrow_footprint_is_linear_for_activities_that_may_be(layers) -> None:
    assert "linear_crossing_redline" in codes(run(layers, STRIP, "NMP4", new_land=True))
    assert "linear_crossing_redline" not in codes(run(layers, STRIP, "NMP4", new_land=True,
                                                      linear=False))
    # ecological restoration has no linear form: a long strip of it is not infrastructure
    assert "linear_crossing_redline" not in codes(run(layers, STRIP, "LA8", new_land=True))


def test_a_footprint_drawn_as_a_line_is_linear(layers) -> None:
    line = shapely.LineString([(106.225, 39.015), (106.235, 39.0152)])
    water = check(layers, mapping(line), "LA6", True, profile="dawukou", line_width_m=10)
    assert "linear_crossing_redline" in codes(water) and water.linear
    restoration = check(layers, mapping(line), "LA8", True, profile="dawukou", line_width_m=10)
    assert "linear_crossing_redline" not in codes(restoration)


# -- item 12: permanent basic farmland (003:155-157) ------------------------------------------


def test_national_major_project_on_permanent_basic_farmland(layers) -> None:
    """003:157 "确需占用永久基本农田的，应符合国家关于重大建设项目范围的规定并严格履行审批程序":
    conditions to confirm, the procedure with no body the text does not name, and the scope
    marked as the profile's interpretation."""
    result = run(layers, ON_FARMLAND, "NMP1", new_land=True)
    farm = finding(result, "farmland.permanent_basic")
    assert farm.verdict == "permitted_with_conditions"
    assert statuses(result, "farmland.permanent_basic") == {
        "major_project_scope": "to_confirm", "strict_approval": "to_confirm"}
    assert farm.procedure.document_zh == "严格履行审批程序"
    assert (farm.procedure.organizer_zh, farm.procedure.reviewer_zh,
            farm.procedure.decider_zh) == (None, None, None)
    assert "227-229" in farm.interpretation.zh and "解释" in farm.interpretation.zh


def test_other_projects_occupying_permanent_basic_farmland_are_prohibited(layers) -> None:
    """003:157 "任何单位和个人不得擅自占用或者改变其用途"."""
    result = run(layers, ON_FARMLAND, "LA1", new_land=True)
    assert finding(result, "farmland.permanent_basic").verdict == "prohibited"
    assert statuses(result, "farmland.permanent_basic")["no_occupation"] == "not_met"
    assert result.verdict == "prohibited"


def test_a_survey_without_construction_does_not_occupy_farmland(layers) -> None:
    """Without new construction land, temporary land or construction nothing is occupied
    (003:157), and 003:155 is about "各类非农建设项目": not applicable, said as such."""
    result = run(layers, ON_FARMLAND, "LA1", construction=False)
    farm = finding(result, "farmland.permanent_basic")
    assert farm.verdict == "permitted_with_conditions"
    assert statuses(result, "farmland.permanent_basic") == {"no_occupation": "to_confirm"}
    cultivated = run(layers, ON_CULTIVATED, "LA1", construction=False)
    assert "farmland.siting_preference" not in {r.rule_id for r in cultivated.rules}
    assert "cultivated_land_taken" not in codes(cultivated)
    assert "rule_not_applicable" in codes(cultivated)


# -- the profile: every case has one path, and each path's verdict matches its text -----------


@pytest.mark.parametrize("profile_id", ["ningxia", "dawukou", "xingqing"])
def test_every_case_resolves_to_one_path(profile_id: str) -> None:
    profile = load_profile(profile_id)
    for category in ("limited", "national_major", "housing"):
        for new_land in (True, False):
            for temporary in (True, False):
                for construction in (True, False):
                    path = profile.justification_path(category, new_land, temporary,
                                                      construction)
                    assert path is not None
                    assert (path.verdict == "justification_required") == path.required
                    if path.exempt:
                        assert (category, new_land, temporary) == ("housing", False, False)


def test_the_batch_job_passes_the_declarations(layers) -> None:
    """``siting.batch`` job params take ``construction`` and ``linear`` like the request."""
    from gis.identity import Actor
    from gis.jobs.siting_job import SitingBatchParams, run_batch
    from gis.progress import NullProgress

    footprints = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": mapping(IN_GENERAL), "properties": {}}]}
    params = SitingBatchParams(footprints=footprints, activity="LA1", profile="dawukou",
                               new_construction_land=False, construction=False, crs="EPSG:4490")
    assert SitingBatchParams(footprints=footprints, activity="LA1",
                             new_construction_land=False).construction is True
    result = run_batch(layers, params, Actor.cli(), NullProgress())
    assert result["rows"][0]["verdict"] == "permitted_with_conditions"
    assert result["rows"][0]["approval_path"] == "limited_without_land_or_construction"
