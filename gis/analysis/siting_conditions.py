"""The siting check's conditions: what a request declares, how it decides each condition of a
rule, and whether the project is linear infrastructure.

A request declares its activity, new construction land, temporary land and specific
construction activity (具体建设活动, 003:243). A condition the declarations say is not met fails
its rule, and a warning names it; a condition they cannot decide stays on the finding for the
planner to confirm. Which declaration decides which condition is the profile's (``applies_when``,
``fails_when``, ``met_when``); nothing here is a rule. Part of :mod:`gis.analysis.siting`.
"""

from __future__ import annotations

from collections.abc import Iterable

from gis.analysis.footprint import Footprint
from gis.analysis.siting_models import AdvisoryModel, FindingCondition
from gis.messages import Joined, Message, Named, msg
from gis.rules.cases import Case, Facts
from gis.rules.models import Activity, Citation, Condition, Profile, SitingParameters

#: The words for each declaration of a request, by field and value.
FACT_MESSAGES = {
    ("new_construction_land", True): "siting.fact.new_land",
    ("new_construction_land", False): "siting.fact.no_new_land",
    ("temporary", True): "siting.fact.temporary",
    ("temporary", False): "siting.fact.not_temporary",
    ("construction", True): "siting.fact.construction",
    ("construction", False): "siting.fact.no_construction",
}


def request_facts(activity: Activity, category: str, new_construction_land: bool,
                  temporary: bool, construction: bool) -> tuple[Facts, list[AdvisoryModel]]:
    """The request's declarations as the rules read them. An activity that is construction by
    definition (development, housing) is checked as construction whatever the request says,
    and a warning says so."""
    warnings = []
    if activity.always_construction and not construction:
        construction = True
        warnings.append(AdvisoryModel.of("construction_implied", msg(
            "siting.advice.construction_implied", activity=Named(activity.zh, activity.en))))
    return Facts(category, new_construction_land, temporary, construction), warnings


def declared(facts: Facts, case: Case | None = None) -> Joined:
    """The declarations of ``facts`` that ``case`` names (all three without a case)."""
    fields = ("new_construction_land", "temporary", "construction")
    named = [f for f in fields if case is None or getattr(case, f) is not None]
    return Joined.of(msg(FACT_MESSAGES[(f, getattr(facts, f))]) for f in named)


def judged(conditions: Iterable[Condition], facts: Facts) -> list[FindingCondition]:
    """The conditions that apply to ``facts``, each with its status."""
    out = []
    for condition in conditions:
        status = condition.status_for(facts)
        if status is not None:
            out.append(FindingCondition(id=condition.id, zh=condition.zh, en=condition.en,
                                        status=status,
                                        interpretation=condition.interpretation))
    return out


def _source(profile: Profile, citation: Citation) -> dict[str, object]:
    """A citation as message parameters: the document's title, the section, the seed lines."""
    document = profile.documents[citation.document]
    return {"document": Named(document.title_zh, document.title_en),
            "section": citation.section, "source": citation.label()}


def not_met_warnings(profile: Profile, rule_id: str, citation: Citation,
                     conditions: Iterable[Condition], facts: Facts) -> list[AdvisoryModel]:
    """A warning for each condition the request says is not met, naming the condition, its
    source and the declaration that fails it."""
    warnings = []
    for condition in conditions:
        if condition.status_for(facts) != "not_met":
            continue
        case = next(c for c in condition.fails_when if c.matches(*facts))
        warnings.append(AdvisoryModel.of("condition_not_met", msg(
            "siting.advice.condition_not_met", condition=Named(condition.zh, condition.en),
            declared=declared(facts, case), **_source(profile, condition.citation or citation)),
            rule_id=rule_id))
    return warnings


def not_applicable(profile: Profile, rule_id: str, facts: Facts) -> AdvisoryModel:
    """The warning for a rule whose cases the request's declarations are not among."""
    rule = profile.rules[rule_id]
    message: Message = msg("siting.advice.rule_not_applicable",
                           rule=Named(rule.text_zh, rule.summary_en), declared=declared(facts),
                           **_source(profile, rule.citation))
    return AdvisoryModel.of("rule_not_applicable", message, rule_id=rule_id)


def is_linear(activity: Activity, footprint: Footprint, params: SitingParameters,
              declared_linear: bool | None) -> bool:
    """Linear infrastructure: as the request declares it; undeclared, for an activity that
    may take a linear form (the profile's flag says no more than that), a footprint drawn as
    a line, or one long and narrow enough as a corridor (the profile's elongation and mean
    width)."""
    if declared_linear is not None:
        return declared_linear
    return activity.linear and (footprint.buffered_from_line or (
        footprint.elongation >= params.linear_min_elongation
        and footprint.mean_width_m <= params.linear_max_width_m))
