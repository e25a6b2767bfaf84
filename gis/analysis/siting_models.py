"""What a siting check returns: the overlaps, rule findings, approval path and advisories.

Part of :mod:`gis.analysis.siting`; the API's response models are these.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gis.analysis.survey_areas import SurveyShare
from gis.analysis.terrain import TerrainStats
from gis.layers.versions import ControlLineVersion
from gis.messages import Message
from gis.rules.cases import ConditionStatus, Interpretation, Procedure
from gis.rules.models import Citation, JustificationPath, Verdict
from gis.units import Area


class AreaOut(BaseModel):
    area_m2: float
    area_mu: float
    area_ha: float

    @classmethod
    def of(cls, area: Area) -> AreaOut:
        return cls(**area.as_dict())


class FeatureHit(BaseModel):
    id: int
    key: str | None
    name: str | None
    area_m2: float
    grade: int | None = None


class Overlap(BaseModel):
    layer: str
    layer_zh: str
    zone: str | None
    area_m2: float
    area_mu: float
    area_ha: float
    share: float
    features: list[FeatureHit]
    geometry: dict[str, Any]


#: The approval path of a result is the profile's justification path, as it stands there.
ApprovalPath = JustificationPath


class FindingCondition(BaseModel):
    """A condition of a finding (the profile's words) and what the request says of it:
    ``not_met`` (the request itself says so: the rule fails), ``met``, or ``to_confirm`` (the
    request cannot tell: the planner must confirm it)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    zh: str
    en: str
    status: ConditionStatus = "to_confirm"
    interpretation: Interpretation | None = None


class RuleFinding(BaseModel):
    rule_id: str
    verdict: Verdict
    text_zh: str
    summary_en: str
    citation: Citation
    conditions: list[FindingCondition]
    area_m2: float | None = None
    #: The profile's reading where the text does not say it in so many words.
    interpretation: Interpretation | None = None
    #: An approval procedure the rule names (outside the red line's justification paths).
    procedure: Procedure | None = None


class AdvisoryModel(BaseModel):
    """A warning beside the verdict: its code and its catalogue message in both languages
    (a stored run keeps both, and the portal and reports show the reader's)."""

    code: str
    message_zh: str
    message_en: str
    rule_id: str | None = None

    @classmethod
    def of(cls, code: str, message: Message, rule_id: str | None = None) -> AdvisoryModel:
        return cls(code=code, message_zh=message.render("zh"), message_en=message.render("en"),
                   rule_id=rule_id)


class SitingResult(BaseModel):
    verdict: Verdict
    profile: str
    profile_version: str
    activity: str
    activity_zh: str
    category: str
    new_construction_land: bool
    temporary: bool
    #: Whether the project has specific construction activity (具体建设活动, 003:243), as
    #: checked (an activity that is construction by definition always has).
    construction: bool = True
    #: Whether the project was checked as linear infrastructure, and what the request said
    #: (None: judged from the footprint's shape, for activities that may be linear).
    linear: bool = False
    linear_declared: bool | None = None
    footprint_area: AreaOut
    footprint_crs: str
    overlaps: list[Overlap]
    rules: list[RuleFinding]
    approval_path: ApprovalPath | None
    warnings: list[AdvisoryModel]
    footprint_geojson: dict[str, Any]
    #: Slope and elevation under the footprint, when a DEM is configured (GIS_DEM_PATH).
    terrain: TerrainStats | None = None
    #: The day (China) the control lines were checked as of, and the version of each in
    #: force then (none for a line with no version in force: a warning says so). Runs stored
    #: before versions were kept have neither.
    as_of: date | None = None
    control_line_versions: list[ControlLineVersion] = Field(default_factory=list)
    #: The land survey (三调) under the footprint in official areas (图斑地类面积, terraces
    #: deducted; cut patches pro rata), with its cultivated-land share; None without survey
    #: patches under it.
    land_survey: SurveyShare | None = None


class ReevaluationNotice(BaseModel):
    """What a stored run gives under the rules as they stood later: its latest
    re-evaluation (:mod:`gis.analysis.siting_reevaluate`) whose verdict or approval path
    differed from what the run said before. The run's own result is unchanged beside it."""

    id: int
    batch: str
    evaluated_at: datetime
    profile: str
    profile_version: str
    verdict: Verdict
    approval_path: ApprovalPath | None
    rules: list[RuleFinding]
    previous_verdict: Verdict
    previous_path: str | None
    #: Who re-evaluated: the admin key's holder, or ``cli:<os user>``.
    actor: str
    #: The notice in both languages (a report shows the reader's).
    message_zh: str
    message_en: str
