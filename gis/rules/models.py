"""Typed rule profiles.

A profile is YAML validated into these models; a district profile ``extends`` the regional
one and overrides or adds sections. The models check what can be checked at load: citations
name a known document, activity codes are unique, every justification case resolves to
exactly one path.
"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import product
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis.rules.cases import (
    ActivityCategory,
    Case,
    ConditionStatus,
    Facts,
    Interpretation,
    Procedure,
    matches_any,
)
from gis.rules.thresholds import compare

Comparator = Literal[">=", ">", "<=", "<", "approx"]
Verdict = Literal["no_conflict", "permitted_with_conditions", "justification_required",
                  "prohibited"]
#: Verdicts from least to most severe; a check's overall verdict is its most severe rule's.
VERDICT_ORDER: tuple[Verdict, ...] = (
    "no_conflict", "permitted_with_conditions", "justification_required", "prohibited")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    """Where a rule stands: the document, its own section label (``二(一)2``), the seed file
    and the lines the quote spans exactly (checked by :mod:`gis.rules.citations`)."""

    document: str
    section: str
    seed: str = Field(pattern=r"^\d{3}_[0-9a-f]+\.txt$")
    lines: str = Field(pattern=r"^\d+(-\d+)?$")
    #: The seed's words, for an entry without a text of its own (a target, a path); omitted
    #: parts marked "……". A rule's or quota rule's quote is its ``text_zh``.
    quote: str | None = None

    @property
    def line_range(self) -> tuple[int, int]:
        first, _, last = self.lines.partition("-")
        return int(first), int(last or first)

    def label(self) -> str:
        return f"{self.seed.split('_')[0]}:{self.lines}"


class Document(_Strict):
    title_zh: str
    title_en: str
    seed: str
    published_in: str | None = None


class Condition(_Strict):
    id: str
    zh: str
    en: str
    #: The cases the condition applies in (none listed: every case).
    applies_when: list[Case] = Field(default_factory=list)
    #: Cases in which the request itself says the condition is not met (it fails the rule) ...
    fails_when: list[Case] = Field(default_factory=list)
    #: ... or met; in any other case the planner must confirm it.
    met_when: list[Case] = Field(default_factory=list)
    interpretation: Interpretation | None = None
    #: Where the condition's words stand, when not in its rule's or activity's own lines.
    citation: Citation | None = None

    def status_for(self, facts: Facts) -> ConditionStatus | None:
        """The condition's status for ``facts``; None when it does not apply."""
        if self.applies_when and not matches_any(self.applies_when, facts):
            return None
        if matches_any(self.fails_when, facts):
            return "not_met"
        return "met" if matches_any(self.met_when, facts) else "to_confirm"


class Rule(_Strict):
    text_zh: str
    summary_en: str
    citation: Citation
    #: Verdict when the rule applies, by activity category (``default`` for the rest);
    #: ``condition_not_met`` when the request says one of the conditions is not met.
    outcome: dict[str, Verdict] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list)
    #: Categories the rule admits subject to the red line's justification path (their verdict
    #: is the path's) if no condition fails.
    admits: list[ActivityCategory] = Field(default_factory=list)
    #: The cases the rule applies in (none listed: every case); in the others its finding is
    #: left out and a warning says why.
    applies_when: list[Case] = Field(default_factory=list)
    interpretation: Interpretation | None = None
    procedure: Procedure | None = None

    def verdict_for(self, category: str) -> Verdict:
        return self.outcome.get(category, self.outcome.get("default", "no_conflict"))

    def applies(self, facts: Facts) -> bool:
        return not self.applies_when or matches_any(self.applies_when, facts)


class Activity(_Strict):
    code: str = Field(pattern=r"^[A-Z]+\d*$")
    zh: str
    en: str
    conditions: list[Condition] = Field(default_factory=list)
    #: A linear form is possible (the request's ``linear`` or the footprint's shape decides).
    linear: bool = False
    #: Construction by definition: a request's "no construction activity" does not apply.
    always_construction: bool = False
    limited_activity: str | None = None
    interpretation: Interpretation | None = None


class JustificationPath(_Strict):
    id: str
    when: Case
    exempt: bool = False
    #: Whether the text prescribes a justification (论证) in this case.
    required: bool = True
    #: The verdict of the red line's general zone in this case.
    verdict: Verdict = "justification_required"
    #: The rule (in ``rules``) stating what the justification covers: its finding is added.
    rule: str | None = None
    organizer_zh: str | None
    reviewer_zh: str | None
    decider_zh: str | None
    document_zh: str
    en: str
    citation: Citation
    interpretation: Interpretation | None = None


#: The purposes the rules name for the village flexible quota (000:856-858, 001:1146-1148:
#: "为重点产业发展、重大工程项目、生态保护修复等预留弹性空间").
NamedPurpose = Literal["key_industry", "major_project", "ecological_restoration"]
#: Every purpose a ledger row can record (the database's CHECK ``quota_draws_purpose``): the
#: named ones and ``other``, for a purpose the rule's closing 等 admits but does not name.
QuotaPurpose = Literal[NamedPurpose, "other"]
OTHER_PURPOSE = "other"


class QuotaPurposes(_Strict):
    """What a quota may be drawn for, as the rule says it. ``named`` are the rule's examples
    (key industries, major projects, ecological restoration); ``open_list`` is its closing
    等: the list is open, so a draw for another purpose (a public service facility, say) is
    admitted as ``other``, with the purpose stated in words, because an auditor reading the
    ledger must see what "other" was. The quote is ``citation.quote``."""

    named: list[NamedPurpose] = Field(min_length=1)
    open_list: bool
    citation: Citation

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.named, OTHER_PURPOSE) if self.open_list else tuple(self.named)


class QuotaRule(_Strict):
    base: Literal["planned_construction_land"]
    comparator: Comparator
    threshold: float = Field(gt=0, lt=1)
    tolerance: float = Field(ge=0, lt=0.05)
    text_zh: str
    summary_en: str
    citation: Citation
    #: What the quota may be drawn for (a village quota; a township reserve names nothing).
    purposes: QuotaPurposes | None = None

    def complies(self, share: Fraction | float) -> bool:
        """Whether ``share`` (quota / base: exact, as :func:`gis.rules.thresholds.share` gives
        it from the areas, or a float read as the decimal it is written as) satisfies the
        rule, compared exactly: "不少于5%" holds at exactly 5%, "安排5%" at exactly
        5% ± the tolerance."""
        return compare(share, self.comparator, self.threshold, self.tolerance)

    def below(self, share: Fraction | float) -> bool:
        """Whether ``share`` is below the threshold itself (exactly)."""
        return compare(share, "<", self.threshold)


class Target(_Strict):
    #: The division the target is set for: a region-wide total is not a district's target.
    division: str = Field(pattern=r"^\d{6}$")
    value: float
    comparator: Comparator
    year: int
    citation: Citation

    def met_by(self, value: Fraction) -> bool:
        """Whether ``value`` (exact, in the target's unit) meets the target, compared exactly
        (:mod:`gis.rules.thresholds`): "不低于" holds at the figure, "以内" up to it."""
        return compare(value, self.comparator, self.value)


class SitingParameters(_Strict):
    sliver_tolerance_m2: float = Field(ge=0)
    good_land_max_grade: int = Field(ge=1, le=15)
    max_footprint_m2: float = Field(gt=0)
    max_vertices: int = Field(gt=3)
    linear_max_width_m: float = Field(gt=0)
    linear_min_elongation: float = Field(gt=1)


class IndicatorParameters(_Strict):
    #: Forest-parcel land classes counted as forest for the coverage rate.
    forest_coverage_land_classes: list[str] = Field(min_length=1)
    #: Overlaps between two control lines smaller than this are digitizing noise.
    control_line_sliver_m2: float = Field(ge=0)


class ReconciliationParameters(_Strict):
    min_mapping_m2: float = Field(gt=0)
    sliver_max_width_m: float = Field(ge=0)
    certificate_tolerance: float = Field(gt=0, lt=1)
    land_use_classes: dict[Literal["forest", "grassland", "cultivated", "construction"],
                           list[str]]
    rematch_min_iou: float = Field(gt=0, le=1)


class LandCoverClass(_Strict):
    value: int
    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    zh: str


class MonitoringParameters(_Strict):
    """Change monitoring of classified land cover (red line, permanent basic farmland).

    The duty to monitor is cited in ``rules`` (``zone_rules`` names them per zone); the class
    table and the thresholds below are technical parameters of the classification.
    """

    classes: list[LandCoverClass] = Field(min_length=2)
    nodata: int
    #: A pixel is a suspected change when its later class is one of these and its earlier
    #: class is not (e.g. grassland -> construction; bare -> construction is not new).
    change_to: list[str] = Field(min_length=1)
    #: Patches (after clipping to a red-line zone or farmland parcel) below this are dropped.
    min_patch_m2: float = Field(gt=0)
    #: A re-run of the same period keeps the decision of a patch matched at this IoU.
    rematch_min_iou: float = Field(gt=0, le=1)
    #: Rule ids (in ``rules``) that a patch in each zone falls under: ``eco_redline/core``,
    #: ``eco_redline/general`` and ``basic_farmland``.
    zone_rules: dict[str, list[str]]
    citation: Citation | None = None
    note: str

    @model_validator(mode="after")
    def _classes_consistent(self) -> MonitoringParameters:
        values = [c.value for c in self.classes]
        codes = [c.code for c in self.classes]
        if len(set(values)) != len(values) or len(set(codes)) != len(codes):
            raise ValueError("monitoring classes: values and codes must be unique")
        if self.nodata in values:
            raise ValueError(f"monitoring nodata value {self.nodata} is also a class")
        unknown = set(self.change_to) - set(codes)
        if unknown:
            raise ValueError(f"monitoring change_to names unknown classes {sorted(unknown)}")
        return self

    def class_codes(self) -> dict[int, str]:
        return {c.value: c.code for c in self.classes}


class TerrainParameters(_Strict):
    """Slope thresholds for siting; a threshold without a seed text has ``citation: null``."""

    steep_slope_deg: float = Field(gt=0, lt=90)
    citation: Citation | None = None
    note: str


class Profile(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title_zh: str
    title_en: str
    extends: str | None = None
    division_code: str | None = None
    documents: dict[str, Document]
    siting: SitingParameters
    rules: dict[str, Rule]
    limited_activities: list[Activity] = Field(min_length=9, max_length=9)
    national_major_projects: list[Activity] = Field(min_length=6, max_length=6)
    other_activities: list[Activity]
    justification_paths: list[JustificationPath]
    quota: dict[str, QuotaRule | None] | None = None
    targets: dict[str, Target] = Field(default_factory=dict)
    indicators: IndicatorParameters
    reconciliation: ReconciliationParameters
    monitoring: MonitoringParameters
    terrain: TerrainParameters

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        citations = [r.citation for r in self.rules.values()]
        citations += [p.citation for p in self.justification_paths]
        quotas = [q for q in (self.quota or {}).values() if q is not None]
        citations += [q.citation for q in quotas]
        citations += [q.purposes.citation for q in quotas if q.purposes is not None]
        citations += [t.citation for t in self.targets.values()]
        citations += [c for c in (self.monitoring.citation, self.terrain.citation) if c]
        for c in citations:
            if c.document not in self.documents:
                raise ValueError(f"profile {self.id}: citation names unknown document "
                                 f"{c.document!r}")
        codes = [a.code for a in self.activities]
        if len(set(codes)) != len(codes):
            raise ValueError(f"profile {self.id}: duplicate activity codes")
        for zone, rule_ids in self.monitoring.zone_rules.items():
            missing = [r for r in rule_ids if r not in self.rules]
            if missing:
                raise ValueError(f"profile {self.id}: monitoring zone {zone} names unknown "
                                 f"rules {missing}")
        for rule_id in self.rules:
            if not re.fullmatch(r"[a-z]+(\.[a-z_]+)+", rule_id):
                raise ValueError(f"profile {self.id}: bad rule id {rule_id!r}")
        self._siting_consistent()
        return self

    def _siting_consistent(self) -> None:
        """Every case of an admitted category resolves to exactly one justification path;
        paths, outcomes and conditions name what exists."""
        for category in ("limited", "national_major", "housing"):
            for facts in product((True, False), repeat=3):
                found = [p.id for p in self.justification_paths
                         if p.when.matches(category, *facts)]
                if len(found) != 1:
                    raise ValueError(
                        f"profile {self.id}: case {category}/new_land, temporary, "
                        f"construction={facts} resolves to {found or 'no path'}")
        for path in self.justification_paths:
            if path.rule is not None and path.rule not in self.rules:
                raise ValueError(f"profile {self.id}: path {path.id} names unknown rule "
                                 f"{path.rule!r}")
        keys = {*get_args(ActivityCategory), "default", "condition_not_met"}
        for rule_id, rule in self.rules.items():
            if set(rule.outcome) - keys:
                raise ValueError(f"profile {self.id}: rule {rule_id} has outcome keys "
                                 f"{sorted(set(rule.outcome) - keys)}")
            if (rule.admits or any(c.fails_when for c in rule.conditions)) \
                    and "condition_not_met" not in rule.outcome:
                raise ValueError(f"profile {self.id}: rule {rule_id} needs a "
                                 "condition_not_met outcome")
        conditions = [c for a in self.activities for c in a.conditions]
        for rule in self.rules.values():
            conditions += rule.conditions
        for c in conditions:
            if c.citation is not None and c.citation.document not in self.documents:
                raise ValueError(f"profile {self.id}: condition {c.id} cites unknown "
                                 f"document {c.citation.document!r}")

    @property
    def activities(self) -> list[Activity]:
        return [*self.limited_activities, *self.national_major_projects, *self.other_activities]

    def activity(self, code: str) -> tuple[Activity, ActivityCategory]:
        for category, group in (("limited", self.limited_activities),
                                ("national_major", self.national_major_projects),
                                ("other", self.other_activities)):
            for activity in group:
                if activity.code == code:
                    if activity.limited_activity and category == "other":
                        return activity, "housing"
                    return activity, category  # type: ignore[return-value]
        raise KeyError(code)

    def justification_path(self, category: str, new_construction_land: bool,
                           temporary: bool, construction: bool = True
                           ) -> JustificationPath | None:
        for path in self.justification_paths:
            if path.when.matches(category, new_construction_land, temporary, construction):
                return path
        return None
