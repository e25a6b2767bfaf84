"""What changed between two stored runs of a project: the verdict, the approval path, the
profile and control-line versions, the footprint, the area on each control layer and zone,
the rule findings and the warnings. Read from the runs as stored (the later one is usually a
re-run against newer data, :func:`gis.analysis.run_history.rerun`); nothing is recomputed,
so the comparison says what each check said when it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from pydantic import BaseModel
from shapely.geometry import shape

from gis.analysis.siting_models import AdvisoryModel
from gis.analysis.siting_runs import StoredRun
from gis.rules.models import Verdict
from gis.units import geodesic_area

#: Area differences below this (m²) are the noise of stored floats, not a change.
AREA_NOISE_M2 = 0.01


class OverlapChange(BaseModel):
    layer: str
    zone: str | None
    before_m2: float
    after_m2: float
    change_m2: float


class RuleChange(BaseModel):
    rule_id: str
    before: Verdict | None
    after: Verdict | None


class VersionChange(BaseModel):
    layer: str
    before: str | None
    after: str | None


class RunComparison(BaseModel):
    """The earlier run is ``before``, whichever order the two were asked in."""

    before: str
    after: str
    before_at: datetime
    after_at: datetime
    same_project: bool
    verdict_before: Verdict
    verdict_after: Verdict
    path_before: str | None
    path_after: str | None
    profile_version_before: str
    profile_version_after: str
    area_before_m2: float
    area_after_m2: float
    #: Area covered by one footprint and not the other (0: the same footprint).
    footprint_difference_m2: float
    overlaps: list[OverlapChange]
    rules: list[RuleChange]
    control_lines: list[VersionChange]
    warnings_added: list[AdvisoryModel]
    warnings_removed: list[AdvisoryModel]
    changed: bool


def _overlap_areas(run: StoredRun) -> dict[tuple[str, str | None], float]:
    areas: dict[tuple[str, str | None], float] = {}
    for o in run.result.overlaps:
        areas[(o.layer, o.zone)] = areas.get((o.layer, o.zone), 0.0) + o.area_m2
    return areas


def _versions(run: StoredRun) -> dict[str, str | None]:
    return {str(v.get("layer")): (None if v.get("version") is None else str(v["version"]))
            for v in run.control_line_versions or []}


def _warning_key(w: AdvisoryModel) -> tuple[str, str]:
    return (w.code, w.message_zh)


def _path(run: StoredRun) -> str | None:
    return run.result.approval_path.id if run.result.approval_path else None


def compare_runs(first: StoredRun, second: StoredRun) -> RunComparison:
    """What differs between two runs, the earlier as ``before``."""
    a, b = sorted((first, second), key=lambda r: (r.created_at, r.id))
    ra, rb = a.result, b.result
    fa, fb = shape(ra.footprint_geojson), shape(rb.footprint_geojson)
    moved = 0.0 if fa.equals(fb) else geodesic_area(shapely.symmetric_difference(fa, fb)).m2
    before, after = _overlap_areas(a), _overlap_areas(b)
    overlaps = [OverlapChange(layer=k[0], zone=k[1], before_m2=before.get(k, 0.0),
                              after_m2=after.get(k, 0.0),
                              change_m2=after.get(k, 0.0) - before.get(k, 0.0))
                for k in dict.fromkeys([*before, *after])]
    rules_a = {r.rule_id: r.verdict for r in ra.rules}
    rules_b = {r.rule_id: r.verdict for r in rb.rules}
    rules = [RuleChange(rule_id=k, before=rules_a.get(k), after=rules_b.get(k))
             for k in dict.fromkeys([*rules_a, *rules_b]) if rules_a.get(k) != rules_b.get(k)]
    va, vb = _versions(a), _versions(b)
    versions = [VersionChange(layer=k, before=va.get(k), after=vb.get(k))
                for k in dict.fromkeys([*va, *vb]) if va.get(k) != vb.get(k)]
    wa = {_warning_key(w): w for w in ra.warnings}
    wb = {_warning_key(w): w for w in rb.warnings}
    out: dict[str, Any] = dict(
        before=a.id, after=b.id, before_at=a.created_at, after_at=b.created_at,
        same_project=bool(a.project.project_code)
        and a.project.project_code == b.project.project_code,
        verdict_before=ra.verdict, verdict_after=rb.verdict, path_before=_path(a),
        path_after=_path(b), profile_version_before=ra.profile_version,
        profile_version_after=rb.profile_version,
        area_before_m2=ra.footprint_area.area_m2, area_after_m2=rb.footprint_area.area_m2,
        footprint_difference_m2=moved, overlaps=overlaps, rules=rules,
        control_lines=versions,
        warnings_added=[w for k, w in wb.items() if k not in wa],
        warnings_removed=[w for k, w in wa.items() if k not in wb])
    out["changed"] = bool(
        ra.verdict != rb.verdict or out["path_before"] != out["path_after"]
        or ra.profile_version != rb.profile_version or moved > AREA_NOISE_M2
        or any(abs(o.change_m2) > AREA_NOISE_M2 for o in overlaps) or rules or versions
        or out["warnings_added"] or out["warnings_removed"])
    return RunComparison(**out)
