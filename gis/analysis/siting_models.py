"""What a siting check returns: the overlaps, rule findings, approval path and advisories.

Part of :mod:`gis.analysis.siting`; the API's response models are these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gis.analysis.terrain import TerrainStats
from gis.messages import Message
from gis.rules.models import Citation, Condition, JustificationPath, Verdict
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


class RuleFinding(BaseModel):
    rule_id: str
    verdict: Verdict
    text_zh: str
    summary_en: str
    citation: Citation
    conditions: list[Condition]
    area_m2: float | None = None


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
    footprint_area: AreaOut
    footprint_crs: str
    overlaps: list[Overlap]
    rules: list[RuleFinding]
    approval_path: ApprovalPath | None
    warnings: list[AdvisoryModel]
    footprint_geojson: dict[str, Any]
    #: Slope and elevation under the footprint, when a DEM is configured (GIS_DEM_PATH).
    terrain: TerrainStats | None = None
