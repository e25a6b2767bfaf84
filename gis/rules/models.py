"""Typed rule profiles.

A profile is YAML validated into these models; a district profile ``extends`` the regional
one and overrides or adds sections. The models check what can be checked at load: citations
name a known document, activity codes are unique, every justification case resolves to
exactly one path.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Comparator = Literal[">=", ">", "<=", "<", "approx"]
Verdict = Literal["no_conflict", "permitted_with_conditions", "justification_required",
                  "prohibited"]
#: Verdicts from least to most severe; a check's overall verdict is its most severe rule's.
VERDICT_ORDER: tuple[Verdict, ...] = (
    "no_conflict", "permitted_with_conditions", "justification_required", "prohibited")
ActivityCategory = Literal["limited", "national_major", "other", "housing"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    document: str
    section: str
    seed: str = Field(pattern=r"^\d{3}_[0-9a-f]+\.txt$")
    lines: str = Field(pattern=r"^\d+(-\d+)?$")

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


class Rule(_Strict):
    text_zh: str
    summary_en: str
    citation: Citation
    #: Verdict when the rule applies, by activity category (``default`` for the rest).
    outcome: dict[str, Verdict] = Field(default_factory=dict)
    conditions: list[Condition] = Field(default_factory=list)

    def verdict_for(self, category: str) -> Verdict:
        return self.outcome.get(category, self.outcome.get("default", "no_conflict"))


class Activity(_Strict):
    code: str = Field(pattern=r"^[A-Z]+\d*$")
    zh: str
    en: str
    conditions: list[Condition] = Field(default_factory=list)
    linear: bool = False
    limited_activity: str | None = None


class PathCase(_Strict):
    category: ActivityCategory | None = None
    new_construction_land: bool | None = None
    temporary: bool | None = None

    def matches(self, category: str, new_construction_land: bool, temporary: bool) -> bool:
        return all((
            self.category in (None, category),
            self.new_construction_land in (None, new_construction_land),
            self.temporary in (None, temporary),
        ))


class JustificationPath(_Strict):
    id: str
    when: PathCase
    exempt: bool = False
    organizer_zh: str | None
    reviewer_zh: str | None
    decider_zh: str | None
    document_zh: str
    en: str
    citation: Citation


class QuotaRule(_Strict):
    base: Literal["planned_construction_land"]
    comparator: Comparator
    threshold: float = Field(gt=0, lt=1)
    tolerance: float = Field(ge=0, lt=0.05)
    text_zh: str
    summary_en: str
    citation: Citation

    def complies(self, share: float) -> bool:
        """Whether ``share`` (quota / base) satisfies the rule, per its comparator."""
        t, tol = self.threshold, self.tolerance
        return {
            ">=": share >= t - tol,
            ">": share > t - tol,
            "<=": share <= t + tol,
            "<": share < t + tol,
            "approx": abs(share - t) <= tol,
        }[self.comparator]


class Target(_Strict):
    #: The division the target is set for: a region-wide total is not a district's target.
    division: str = Field(pattern=r"^\d{6}$")
    value: float
    comparator: Comparator
    year: int
    citation: Citation


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
        citations += [q.citation for q in (self.quota or {}).values() if q is not None]
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
        for category in ("limited", "national_major"):
            for new_land in (True, False):
                for temporary in (True, False):
                    found = [p.id for p in self.justification_paths
                             if p.when.matches(category, new_land, temporary)]
                    if len(found) != 1:
                        raise ValueError(
                            f"profile {self.id}: case {category}/new_land={new_land}/"
                            f"temporary={temporary} resolves to {found or 'no path'}"
                        )
        return self

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
                           temporary: bool) -> JustificationPath | None:
        for path in self.justification_paths:
            if path.when.matches(category, new_construction_land, temporary):
                return path
        return None
