"""The siting check's rule evaluation: overlaps -> rule findings, approval path, warnings.

Pure (no database): the verdict comes from the overlaps, the request's declarations and the
active rule profile only: which rules apply in the request's case, what each decides for the
activity's category, how the declarations decide each condition (one the request says is not
met fails its rule), and the justification path of the case. No threshold, category or path
is written in this module. Part of :mod:`gis.analysis.siting`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gis.analysis.footprint import Footprint
from gis.analysis.siting_conditions import (
    is_linear,
    judged,
    not_applicable,
    not_met_warnings,
    request_facts,
)
from gis.analysis.siting_models import AdvisoryModel, ApprovalPath, Overlap, RuleFinding
from gis.messages import Named, msg
from gis.rules.cases import Facts
from gis.rules.models import VERDICT_ORDER, Activity, Condition, Profile, Verdict
from gis.units import Area

#: The urban development boundary's zone where 003:179 applies (the layer catalogue's code).
CENTRALIZED = "centralized_construction"


@dataclass
class Evaluation:
    """What the rules make of a request: findings, the approval path, warnings, and the
    declarations and linearity as checked."""

    facts: Facts
    linear: bool
    findings: list[RuleFinding] = field(default_factory=list)
    path: ApprovalPath | None = None
    warnings: list[AdvisoryModel] = field(default_factory=list)


def overlaps_in(overlaps: list[Overlap], layer: str, zone: str | None = None
                ) -> list[Overlap]:
    """The overlaps with ``layer`` (and ``zone``, when given)."""
    return [o for o in overlaps if o.layer == layer and (zone is None or o.zone == zone)]


def _judge(profile: Profile, out: Evaluation, rule_id: str, area_m2: float | None = None,
           extra: list[Condition] = (), verdict: Verdict | None = None,
           with_conditions: bool = True) -> RuleFinding:
    """The finding of ``rule_id`` (plus the ``extra`` conditions of the activity): a condition
    the request says is not met gives the rule's ``condition_not_met`` verdict and a warning;
    otherwise ``verdict`` (a path's) or the rule's verdict for the category."""
    rule, facts = profile.rules[rule_id], out.facts
    conditions = [*rule.conditions, *extra] if with_conditions else []
    failed = not_met_warnings(profile, rule_id, rule.citation, conditions, facts)
    out.warnings += failed
    if failed:
        verdict = rule.outcome["condition_not_met"]
    elif verdict is None:
        verdict = rule.verdict_for(facts.category)
    procedure = rule.procedure
    if failed or procedure is None or not procedure.applies(facts):
        procedure = None
    finding = RuleFinding(rule_id=rule_id, verdict=verdict, text_zh=rule.text_zh,
                          summary_en=rule.summary_en, citation=rule.citation,
                          conditions=judged(conditions, facts), area_m2=area_m2,
                          interpretation=rule.interpretation, procedure=procedure)
    out.findings.append(finding)
    return finding


def _general_zone(profile: Profile, out: Evaluation, act: Activity, area_m2: float) -> None:
    """003:223-229 (which activities the general zone admits, on which conditions) and the
    justification path of the case (003:243-247), with what that justification covers."""
    facts = out.facts
    rule = profile.rules["redline.general_zone"]
    if facts.category not in rule.admits:
        _judge(profile, out, "redline.general_zone", area_m2, with_conditions=False)
        return
    path = profile.justification_path(*facts)
    finding = _judge(profile, out, "redline.general_zone", area_m2, act.conditions,
                     path.verdict)
    if finding.verdict == "prohibited":
        return
    out.path = path
    if path.rule is not None:
        _judge(profile, out, path.rule, verdict=path.verdict)


def _farmland(profile: Profile, out: Evaluation, overlaps: list[Overlap]) -> None:
    farmland = overlaps_in(overlaps, "basic_farmland")
    if farmland:
        _judge(profile, out, "farmland.permanent_basic", sum(o.area_m2 for o in farmland))
    cultivated = overlaps_in(overlaps, "cultivated_land")
    if not cultivated:
        return
    rule_id = "farmland.siting_preference"
    if not profile.rules[rule_id].applies(out.facts):
        out.warnings.append(not_applicable(profile, rule_id, out.facts))
        return
    area = sum(o.area_m2 for o in cultivated)
    _judge(profile, out, rule_id, area)
    grade = profile.siting.good_land_max_grade
    good = sum(f.area_m2 for o in cultivated for f in o.features
               if f.grade is not None and f.grade <= grade)
    out.warnings.append(AdvisoryModel.of(
        "cultivated_land_taken", msg("siting.advice.cultivated_land_taken",
                                     area_mu=Area(area).mu, good_mu=Area(good).mu,
                                     grade=grade),
        rule_id=rule_id))


def _urban_boundary(profile: Profile, out: Evaluation, footprint: Footprint,
                    overlaps: list[Overlap]) -> None:
    """003:179 inside the centralized construction zone, 003:181 outside the boundary, and
    the text's silence on the boundary's other zones said as such."""
    boundary = overlaps_in(overlaps, "urban_boundary")
    centralized = sum(o.area_m2 for o in boundary if o.zone == CENTRALIZED)
    other = sum(o.area_m2 for o in boundary if o.zone != CENTRALIZED)
    outside = footprint.area.m2 - centralized - other
    if centralized > 0:  # the overlaps are already above the sliver tolerance
        _judge(profile, out, "udb.centralized_construction", centralized)
    if other > 0:
        _judge(profile, out, "udb.other_zones", other)
    if outside >= profile.siting.sliver_tolerance_m2:
        _judge(profile, out, "udb.outside_boundary", outside)


def evaluate(profile: Profile, footprint: Footprint, overlaps: list[Overlap], activity: str,
             new_construction_land: bool, temporary: bool, construction: bool = True,
             linear: bool | None = None
             ) -> tuple[list[RuleFinding], ApprovalPath | None, list[AdvisoryModel]]:
    """Apply the profile's rules to the overlaps (pure): findings, path, warnings."""
    out = evaluate_case(profile, footprint, overlaps, activity, new_construction_land,
                        temporary, construction, linear)
    return out.findings, out.path, out.warnings


def evaluate_case(profile: Profile, footprint: Footprint, overlaps: list[Overlap],
                  activity: str, new_construction_land: bool, temporary: bool,
                  construction: bool = True, linear: bool | None = None) -> Evaluation:
    """Apply the profile's rules to the overlaps and the request's declarations (pure), with
    the declarations and linearity as checked."""
    act, category = profile.activity(activity)
    facts, warnings = request_facts(act, category, new_construction_land, temporary,
                                    construction)
    out = Evaluation(facts=facts, linear=is_linear(act, footprint, profile.siting, linear),
                     warnings=warnings)
    core = overlaps_in(overlaps, "eco_redline", "core")
    general = overlaps_in(overlaps, "eco_redline", "general")
    if core:
        _judge(profile, out, "redline.core_zone", sum(o.area_m2 for o in core))
    if general:
        _general_zone(profile, out, act, sum(o.area_m2 for o in general))
    if (core or general) and out.linear:
        rule = profile.rules["redline.linear_infrastructure"]
        out.warnings.append(AdvisoryModel.of(
            "linear_crossing_redline", msg("siting.advice.linear_crossing_redline",
                                           rule=Named(rule.text_zh, rule.summary_en)),
            rule_id="redline.linear_infrastructure"))
    _farmland(profile, out, overlaps)
    _urban_boundary(profile, out, footprint, overlaps)
    return out


def overall(findings: list[RuleFinding]) -> Verdict:
    """The most severe verdict of the findings (``no_conflict`` without any)."""
    return max((f.verdict for f in findings), key=VERDICT_ORDER.index, default="no_conflict")
