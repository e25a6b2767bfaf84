"""What red-line monitoring returns and stores: runs, patches, cited rules, and the codes.

Part of :mod:`gis.analysis.monitoring`; the API's response models are these.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, field_validator

from gis.analysis.worklist import DecisionTrail
from gis.messages import Message
from gis.rules.models import Citation

Layer = Literal["eco_redline", "basic_farmland"]
Status = Literal["open", "field_check", "decided", "closed"]
#: violation: illegal activity, hand over for enforcement (003:253); permitted: an approved
#: activity (limited activity, national major project, approved farmland occupation);
#: legacy: pre-existing, to an exit plan (003:235); false_alarm: no change on the ground.
Decision = Literal["violation", "permitted", "legacy", "false_alarm"]
LAYERS: tuple[str, ...] = Layer.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
DECISIONS: tuple[str, ...] = Decision.__args__  # type: ignore[attr-defined]


def file_name(value: str) -> str:
    """A raster as its file name: answers never show the server's directories (runs stored
    before issue 21 keep the whole path in ``monitor_runs``)."""
    return PurePath(value).name or value


class RunSummary(BaseModel):
    run_id: int
    profile: str
    profile_version: str
    raster_a: str
    raster_b: str
    date_a: str
    date_b: str
    grid: dict[str, Any]
    resampled: str | None
    found: dict[str, int]
    area_m2: dict[str, float]

    _names = field_validator("raster_a", "raster_b")(file_name)
    new: int
    kept: int
    closed: int
    warnings: list[dict[str, str]]


class PatchFields(BaseModel):
    id: int
    layer: str
    kind: str
    status: str
    decision: str | None
    feature_id: int | None
    #: None only where the reader's role may not see it (gis.analysis.worklist_policy).
    feature_key: str | None
    feature_name: str | None
    zone: str | None
    division: str | None
    township: str | None
    village: str | None
    village_code: str | None
    village_distance_m: float | None
    date_a: str
    date_b: str
    transitions: dict[str, int]
    pixels: int
    area_m2: float
    area_mu: float
    area_ha: float
    version: int
    first_run: int
    last_run: int
    created_at: datetime
    updated_at: datetime
    geometry: dict[str, Any] | None = None


class ExitDeadline(BaseModel):
    """A legacy activity's exit plan as the list shows it: its deadline, and whether it has
    passed with the plan still active (``gis.analysis.monitoring_legacy``)."""

    exit_deadline: date | None = None
    exit_overdue: bool = False


class Patch(ExitDeadline, DecisionTrail, PatchFields):
    """A suspected patch of the work list, with who decided it, when and why, and the
    deadline of its exit plan when it was decided ``legacy``."""


class CitedRule(BaseModel):
    rule_id: str
    text_zh: str
    summary_en: str
    citation: Citation


class RunInfo(BaseModel):
    id: int
    profile: str
    profile_version: str
    raster_a: str
    raster_b: str
    date_a: str
    date_b: str
    actor: str
    on_behalf_of: str | None = None
    actor_verified: bool = True
    started_at: datetime
    summary: dict[str, Any] | None

    _names = field_validator("raster_a", "raster_b")(file_name)


def note(code: str, message: Message) -> dict[str, str]:
    """A run's warning (``RunSummary.warnings``): its code, ``message`` in English as it always
    was, and the same in each language (``message_zh``, ``message_en``) for readers."""
    return {"code": code, "message": message.render("en"), "message_zh": message.render("zh"),
            "message_en": message.render("en")}


def zone_label(layer: str, zone: str | None) -> str:
    """``layer/zone`` (``eco_redline/core``), or the layer alone: how runs count patches and
    how the profile's ``monitoring.zone_rules`` are keyed."""
    return f"{layer}/{zone}" if zone else layer
