"""Project siting compliance review: may this project go here, and by which approval path?

The overlay runs in PostGIS (one indexed query per control layer); the verdict is derived from
the overlaps and the active rule profile only: which rules apply, what each decides for the
activity's category, the conditions, and the justification path. No threshold, category or
path is written in this module.

The parts: :mod:`~gis.analysis.siting_overlay` (the PostGIS overlay),
:mod:`~gis.analysis.siting_rules` (the verdict from the profile),
:mod:`~gis.analysis.siting_advice` (jurisdiction, quota and terrain advisories) and
:mod:`~gis.analysis.siting_models` (the result); every public name is importable from here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import Engine

from gis.analysis.footprint import prepare_footprint
from gis.analysis.siting_advice import jurisdiction_advice, quota_advice, terrain_advice
from gis.analysis.siting_models import (
    AdvisoryModel,
    ApprovalPath,
    AreaOut,
    FeatureHit,
    FindingCondition,
    Overlap,
    RuleFinding,
    SitingResult,
)
from gis.analysis.siting_overlay import CHECKED_LAYERS, overlay
from gis.analysis.siting_rules import evaluate, evaluate_case, overall
from gis.analysis.survey_areas import footprint_land_classes
from gis.errors import InputError
from gis.layers.versions import today, versions_in_force
from gis.messages import Joined, msg
from gis.rules import load_profile

__all__ = [
    "CHECKED_LAYERS", "AdvisoryModel", "ApprovalPath", "AreaOut", "FeatureHit",
    "FindingCondition", "Overlap", "RuleFinding", "SitingResult", "check", "evaluate", "overall",
]


def check(
    engine: Engine,
    footprint: str | dict[str, Any],
    activity: str,
    new_construction_land: bool,
    temporary: bool = False,
    profile: str = "ningxia",
    crs: str = "CRS84",
    line_width_m: float | None = None,
    dem: Path | str | None = None,
    construction: bool = True,
    linear: bool | None = None,
    as_of: dt.date | None = None,
) -> SitingResult:
    """Check a footprint against the control layers under ``profile``.

    ``construction``: whether the project has specific construction activity (具体建设活动,
    003:243; false for a patrol, monitoring or research without facilities). ``linear``:
    whether it is linear infrastructure (None: judged from the footprint's shape, for
    activities that may be linear). ``dem`` (default: the ``GIS_DEM_PATH`` setting) adds
    slope figures and a steep-slope warning; without a DEM the result has no terrain section.
    ``as_of``: the day (China) whose control lines are checked: the version of each in force
    then (default today); the result names them (``control_line_versions``).
    """
    rules = load_profile(profile)
    try:
        activity_def, category = rules.activity(activity)
    except KeyError:
        raise InputError(msg("siting.unknown_activity", activity=activity,
                             codes=Joined.of(a.code for a in rules.activities))) from None
    fp = prepare_footprint(footprint, crs, rules.siting, line_width_m)
    outside = jurisdiction_advice(engine, rules, fp)
    day = as_of or today()
    versions = versions_in_force(engine, day)
    overlaps, warnings = overlay(engine, fp, rules.siting.sliver_tolerance_m2, versions, day)
    if outside is not None:
        warnings.append(outside)
    rated = evaluate_case(rules, fp, overlaps, activity, new_construction_land, temporary,
                          construction, linear)
    findings, path = rated.findings, rated.path
    if new_construction_land:
        warnings += quota_advice(engine, fp, overlaps, rules.siting.sliver_tolerance_m2)
    if fp.repaired:
        warnings.append(AdvisoryModel.of("footprint_repaired",
                                         msg("siting.advice.footprint_repaired")))
    if dem is None:
        from gis.settings import get_settings

        dem = get_settings().data.dem_path
    terrain = None
    if dem is not None:
        terrain, terrain_warnings = terrain_advice(dem, rules, fp)
        warnings += terrain_warnings
    verdict = overall(findings)
    if verdict == "prohibited":
        path = None  # no justification can admit a prohibited project: do not suggest one
    return SitingResult(
        verdict=verdict, profile=rules.id, profile_version=rules.version,
        activity=activity, activity_zh=activity_def.zh, category=category,
        new_construction_land=new_construction_land, temporary=temporary,
        construction=rated.facts.construction, linear=rated.linear, linear_declared=linear,
        footprint_area=AreaOut.of(fp.area), footprint_crs=fp.source_crs, overlaps=overlaps,
        rules=findings, approval_path=path, warnings=[*warnings, *rated.warnings],
        footprint_geojson=shapely.geometry.mapping(fp.geometry), terrain=terrain,
        as_of=day, control_line_versions=[v.brief() for v in versions.values() if v],
        land_survey=footprint_land_classes(engine, fp.geometry, fp.area.m2),
    )
