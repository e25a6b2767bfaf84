"""The siting check's rule evaluation: overlaps -> rule findings, approval path, warnings.

Pure (no database): the verdict comes from the overlaps and the active rule profile only,
which rules apply, what each decides for the activity's category, the conditions, and the
justification path. No threshold, category or path is written in this module.
Part of :mod:`gis.analysis.siting`.
"""

from __future__ import annotations

from gis.analysis.footprint import Footprint
from gis.analysis.siting_models import AdvisoryModel, ApprovalPath, Overlap, RuleFinding
from gis.messages import Named, msg
from gis.rules.models import VERDICT_ORDER, Condition, Profile, Rule, Verdict
from gis.units import Area


def overlaps_in(overlaps: list[Overlap], layer: str, zone: str | None = None
                ) -> list[Overlap]:
    """The overlaps with ``layer`` (and ``zone``, when given)."""
    return [o for o in overlaps if o.layer == layer and (zone is None or o.zone == zone)]


def _finding(rule_id: str, rule: Rule, verdict: Verdict, extra: list[Condition] = (),
             area_m2: float | None = None) -> RuleFinding:
    return RuleFinding(rule_id=rule_id, verdict=verdict, text_zh=rule.text_zh,
                       summary_en=rule.summary_en, citation=rule.citation,
                       conditions=[*rule.conditions, *extra], area_m2=area_m2)


def evaluate(profile: Profile, footprint: Footprint, overlaps: list[Overlap], activity: str,
             new_construction_land: bool, temporary: bool
             ) -> tuple[list[RuleFinding], ApprovalPath | None, list[AdvisoryModel]]:
    """Apply the profile's rules to the overlaps (pure: no database)."""
    act, category = profile.activity(activity)
    rules, warnings = profile.rules, []
    findings: list[RuleFinding] = []
    path = None
    tolerance = profile.siting.sliver_tolerance_m2
    core = overlaps_in(overlaps, "eco_redline", "core")
    general = overlaps_in(overlaps, "eco_redline", "general")
    if core:
        rule = rules["redline.core_zone"]
        findings.append(_finding("redline.core_zone", rule, rule.verdict_for(category),
                                 area_m2=sum(o.area_m2 for o in core)))
    if general:
        rule_id = "redline.temporary_land" if temporary and category in (
            "limited", "national_major") else "redline.general_zone"
        general_rule = rules["redline.general_zone"]
        verdict = general_rule.verdict_for(category)
        findings.append(_finding(rule_id, rules[rule_id], verdict, act.conditions,
                                 area_m2=sum(o.area_m2 for o in general)))
        if verdict != "prohibited":
            chosen = profile.justification_path(category, new_construction_land, temporary)
            if chosen is not None:
                path = chosen
                findings.append(_finding("redline.justification_content",
                                         rules["redline.justification_content"], verdict))
    linear = act.linear or (
        footprint.elongation >= profile.siting.linear_min_elongation
        and footprint.min_width_m <= profile.siting.linear_max_width_m)
    if (core or general) and linear:
        rule = rules["redline.linear_infrastructure"]
        warnings.append(AdvisoryModel.of(
            "linear_crossing_redline", msg("siting.advice.linear_crossing_redline",
                                           rule=Named(rule.text_zh, rule.summary_en)),
            rule_id="redline.linear_infrastructure"))
    farmland = overlaps_in(overlaps, "basic_farmland")
    if farmland:
        rule = rules["farmland.permanent_basic"]
        findings.append(_finding("farmland.permanent_basic", rule, rule.verdict_for(category),
                                 area_m2=sum(o.area_m2 for o in farmland)))
    cultivated = overlaps_in(overlaps, "cultivated_land")
    if cultivated:
        rule = rules["farmland.siting_preference"]
        area = sum(o.area_m2 for o in cultivated)
        findings.append(_finding("farmland.siting_preference", rule, rule.verdict_for(category),
                                 area_m2=area))
        good = sum(f.area_m2 for o in cultivated for f in o.features
                   if f.grade is not None and f.grade <= profile.siting.good_land_max_grade)
        warnings.append(AdvisoryModel.of(
            "cultivated_land_taken", msg("siting.advice.cultivated_land_taken",
                                         area_mu=Area(area).mu, good_mu=Area(good).mu,
                                         grade=profile.siting.good_land_max_grade),
            rule_id="farmland.siting_preference"))
    centralized = overlaps_in(overlaps, "urban_boundary", "centralized_construction")
    inside = sum(o.area_m2 for o in centralized)
    if inside > 0:
        rule = rules["udb.centralized_construction"]
        findings.append(_finding("udb.centralized_construction", rule,
                                 rule.verdict_for(category), area_m2=inside))
    if footprint.area.m2 - inside >= tolerance:
        rule = rules["udb.outside_centralized"]
        findings.append(_finding("udb.outside_centralized", rule, rule.verdict_for(category),
                                 area_m2=footprint.area.m2 - inside))
    return findings, path, warnings


def overall(findings: list[RuleFinding]) -> Verdict:
    """The most severe verdict of the findings (``no_conflict`` without any)."""
    return max((f.verdict for f in findings), key=VERDICT_ORDER.index, default="no_conflict")
