"""Project siting compliance review: may this project go here, and by which approval path?

The overlay runs in PostGIS (one indexed query per control layer); the verdict is derived from
the overlaps and the active rule profile only: which rules apply, what each decides for the
activity's category, the conditions, and the justification path. No threshold, category or
path is written in this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from psycopg import sql
from pydantic import BaseModel
from sqlalchemy import Engine

from gis.analysis.footprint import Footprint, prepare_footprint
from gis.analysis.terrain import TerrainStats, footprint_stats
from gis.errors import InputError
from gis.layers.catalogue import get_layer
from gis.rules import division_prefix, load_profile
from gis.rules.models import (
    VERDICT_ORDER,
    Citation,
    Condition,
    JustificationPath,
    Profile,
    Rule,
    Verdict,
)
from gis.units import Area


@dataclass(frozen=True)
class _LayerCheck:
    """How to read one control layer's zone, key, name and quality grade."""

    layer_id: str
    key: str
    name: str
    zone: str | None = None
    grade: str | None = None


CHECKED_LAYERS = (
    _LayerCheck("eco_redline", key="redline_code", name="name", zone="zone"),
    _LayerCheck("basic_farmland", key="parcel_code", name="village"),
    _LayerCheck("cultivated_land", key="patch_no", name="village", zone="subclass",
                grade="quality_grade"),
    _LayerCheck("urban_boundary", key="boundary_code", name="name", zone="zone"),
    _LayerCheck("village_plans", key="village_code", name="village_name"),
)

_OUTSIDE_PLANNED_CONSTRUCTION = """
WITH fp AS (SELECT ST_GeomFromEWKB(%(footprint)s) AS g),
     planned AS (
        SELECT ST_Union(z.geom) AS g FROM village_plan_zones AS z, fp
        WHERE z.village_code = %(village)s AND z.construction AND ST_Intersects(z.geom, fp.g))
SELECT ST_Area(geography(ST_Intersection(
           fp.g, CASE WHEN planned.g IS NULL THEN v.geom ELSE ST_Difference(v.geom, planned.g)
                 END)), true)
FROM fp, planned, village_plans AS v WHERE v.village_code = %(village)s
"""


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
    code: str
    message_zh: str
    message_en: str
    rule_id: str | None = None


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


@cache
def _overlap_sql() -> str:
    return resources.files("gis.analysis").joinpath("sql", "siting_overlaps.sql").read_text()


def _column(name: str | None) -> sql.Composable:
    return sql.SQL("t.{}").format(sql.Identifier(name)) if name else sql.NULL


def _query(check: _LayerCheck) -> sql.Composed:
    layer = get_layer(check.layer_id)
    return sql.SQL(_overlap_sql()).format(
        table=sql.Identifier(layer.table), key=_column(check.key), name=_column(check.name),
        zone=_column(check.zone), grade=_column(check.grade),
    )


def _overlaps(engine: Engine, footprint: Footprint, tolerance_m2: float
              ) -> tuple[list[Overlap], list[AdvisoryModel]]:
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    overlaps: list[Overlap] = []
    warnings: list[AdvisoryModel] = []
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        for check in CHECKED_LAYERS:
            cur.execute(_query(check), {"footprint": ewkb})
            groups: dict[str | None, list[tuple]] = {}
            for row in cur.fetchall():
                groups.setdefault(row[3], []).append(row)
            layer = get_layer(check.layer_id)
            for zone, rows in groups.items():
                area = sum(r[6] for r in rows)
                if area < tolerance_m2:
                    warnings.append(AdvisoryModel(
                        code="sliver_ignored",
                        message_zh=f"与{layer.zh}({zone or '-'})的重叠仅{area:.2f}平方米，"
                                   f"低于容差{tolerance_m2}平方米，视为数字化误差忽略",
                        message_en=f"overlap with {layer.en} ({zone or '-'}) of {area:.2f} m² "
                                   f"is below the {tolerance_m2} m² tolerance and is ignored",
                    ))
                    continue
                pieces = shapely.union_all([shapely.from_wkb(bytes(r[5])) for r in rows])
                a = Area(area)
                overlaps.append(Overlap(
                    layer=check.layer_id, layer_zh=layer.zh, zone=zone, **a.as_dict(),
                    share=round(area / footprint.area.m2, 6),
                    features=[FeatureHit(id=r[0], key=r[1], name=r[2], area_m2=round(r[6], 2),
                                         grade=r[4]) for r in rows if r[6] > 0],
                    geometry=shapely.geometry.mapping(pieces),
                ))
    return overlaps, warnings


def _jurisdiction(engine: Engine, profile: Profile, footprint: Footprint) -> AdvisoryModel | None:
    """Refuse a footprint wholly outside the profile's jurisdiction; warn when the
    jurisdiction's boundary is not loaded (so the check could not be made)."""
    if not profile.division_code:
        return None
    prefix = division_prefix(profile.division_code)
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute(
            "SELECT count(*), bool_or(ST_Intersects(geom, ST_GeomFromEWKB(%(fp)s))), "
            "bool_or(ST_CoveredBy(ST_GeomFromEWKB(%(fp)s), geom)) "
            "FROM admin_divisions WHERE code LIKE %(prefix)s AND level IN "
            "('region', 'city', 'district')",
            {"fp": ewkb, "prefix": prefix + "%"},
        )
        count, touches, covered = cur.fetchone()
    if not count:
        return AdvisoryModel(
            code="jurisdiction_not_checked",
            message_zh=f"未加载{profile.title_zh}行政区划边界，未核对项目是否在辖区内",
            message_en=f"the boundary of {profile.title_en} is not loaded: jurisdiction "
                       "not checked")
    if not touches:
        raise InputError(f"the footprint lies outside {profile.title_en} ({profile.title_zh}); "
                         "choose the profile of the jurisdiction it is in")
    if not covered:
        return AdvisoryModel(
            code="partly_outside_jurisdiction",
            message_zh=f"项目范围部分超出{profile.title_zh}",
            message_en=f"the footprint extends beyond {profile.title_en}")
    return None


def _quota_advice(engine: Engine, footprint: Footprint, overlaps: list[Overlap],
                  tolerance_m2: float) -> list[AdvisoryModel]:
    """Which village's flexible quota a project outside planned construction land would
    draw on, and what that quota has left (the ledger of gis.analysis.reserve)."""
    from gis.analysis.reserve import village_report

    advice = []
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    for overlap in _find(overlaps, "village_plans"):
        for feature in overlap.features:
            with engine.connect() as conn:
                cur = conn.connection.driver_connection.cursor()
                cur.execute(_OUTSIDE_PLANNED_CONSTRUCTION,
                            {"footprint": ewkb, "village": feature.key})
                outside = cur.fetchone()[0] or 0.0
            if outside < tolerance_m2:
                continue
            quota = next(iter(village_report(engine, feature.key)), None)
            left = (f"剩余机动指标{Area(max(quota.remaining_m2, 0)).mu:,.2f}亩"
                    if quota else "该村规划未设机动指标")
            left_en = (f"{Area(max(quota.remaining_m2, 0)).mu:,.2f} mu of quota left"
                       if quota else "no quota in the plan")
            advice.append(AdvisoryModel(
                code="village_quota_draw",
                message_zh=f"项目有{Area(outside).mu:,.2f}亩位于{feature.name}({feature.key})"
                           f"规划建设用地之外，需使用该村机动指标；{left}",
                message_en=f"{Area(outside).mu:,.2f} mu lie outside the planned construction "
                           f"land of {feature.name} ({feature.key}) and would draw on its "
                           f"flexible quota; {left_en}",
            ))
    return advice


def _find(overlaps: list[Overlap], layer: str, zone: str | None = None) -> list[Overlap]:
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
    core = _find(overlaps, "eco_redline", "core")
    general = _find(overlaps, "eco_redline", "general")
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
        warnings.append(AdvisoryModel(
            code="linear_crossing_redline", rule_id="redline.linear_infrastructure",
            message_zh=f"线性工程穿越生态保护红线：{rule.text_zh}",
            message_en=f"Linear infrastructure crosses the red line: {rule.summary_en}",
        ))
    farmland = _find(overlaps, "basic_farmland")
    if farmland:
        rule = rules["farmland.permanent_basic"]
        findings.append(_finding("farmland.permanent_basic", rule, rule.verdict_for(category),
                                 area_m2=sum(o.area_m2 for o in farmland)))
    cultivated = _find(overlaps, "cultivated_land")
    if cultivated:
        rule = rules["farmland.siting_preference"]
        area = sum(o.area_m2 for o in cultivated)
        findings.append(_finding("farmland.siting_preference", rule, rule.verdict_for(category),
                                 area_m2=area))
        good = sum(f.area_m2 for o in cultivated for f in o.features
                   if f.grade is not None and f.grade <= profile.siting.good_land_max_grade)
        warnings.append(AdvisoryModel(
            code="cultivated_land_taken", rule_id="farmland.siting_preference",
            message_zh=f"占用耕地{Area(area).mu:.2f}亩，其中优质耕地（等别≤"
                       f"{profile.siting.good_land_max_grade}）{Area(good).mu:.2f}亩；"
                       "可以利用荒地的，不得占用耕地；可以利用劣地的，不得占用好地",
            message_en=f"takes {Area(area).mu:.2f} mu of cultivated land, {Area(good).mu:.2f} "
                       f"mu of it good land (grade <= {profile.siting.good_land_max_grade})",
        ))
    centralized = _find(overlaps, "urban_boundary", "centralized_construction")
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


def _terrain(dem: Path | str, profile: Profile, footprint: Footprint
             ) -> tuple[TerrainStats | None, list[AdvisoryModel]]:
    """Slope figures for the footprint and a warning citing the profile's slope threshold
    (advisory: slope never changes the verdict). A DEM that cannot be used is a warning."""
    try:
        stats = footprint_stats(dem, footprint.geometry, profile.terrain)
    except InputError as exc:
        return None, [AdvisoryModel(code="terrain_not_checked",
                                    message_zh=f"未能计算坡度：{exc.message}",
                                    message_en=f"terrain not checked: {exc.message}")]
    warnings = []
    if stats.pixels_without_data:
        warnings.append(AdvisoryModel(
            code="terrain_partial",
            message_zh=f"高程模型在项目范围内有{stats.pixels_without_data}个无数据像元",
            message_en=f"the DEM has no data in {stats.pixels_without_data} cells of the "
                       "footprint; the slope figures cover the rest"))
    if stats.steep_share > 0:
        threshold = profile.terrain.steep_slope_deg
        source = profile.terrain.citation
        basis_zh = (f"依据{profile.documents[source.document].title_zh}({source.label()})"
                    if source else
                    "该阈值为规则配置中的技术参数(terrain.steep_slope_deg)，无文件依据")
        basis_en = (f"per {profile.documents[source.document].title_en} ({source.label()})"
                    if source else "the threshold is a technical parameter of the rule "
                    "profile (terrain.steep_slope_deg), not a cited rule")
        warnings.append(AdvisoryModel(
            code="steep_slope",
            message_zh=f"项目范围内坡度大于{threshold:g}°的面积约{stats.steep_area_mu:,.2f}亩，"
                       f"占{stats.steep_share:.1%}（平均坡度{stats.slope_mean_deg:.1f}°，最大"
                       f"{stats.slope_max_deg:.1f}°）；{basis_zh}",
            message_en=f"{stats.steep_share:.1%} of the footprint ({stats.steep_area_mu:,.2f} mu)"
                       f" is steeper than {threshold:g}° (mean {stats.slope_mean_deg:.1f}°, max "
                       f"{stats.slope_max_deg:.1f}°); {basis_en}"))
    return stats, warnings


def overall(findings: list[RuleFinding]) -> Verdict:
    return max((f.verdict for f in findings), key=VERDICT_ORDER.index, default="no_conflict")


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
) -> SitingResult:
    """Check a footprint against the control layers under ``profile``.

    ``dem`` (default: the ``GIS_DEM_PATH`` setting) adds slope figures and a steep-slope
    warning; without a DEM the result has no terrain section.
    """
    rules = load_profile(profile)
    try:
        activity_def, category = rules.activity(activity)
    except KeyError:
        codes = ", ".join(a.code for a in rules.activities)
        raise InputError(f"unknown activity code {activity!r}; use one of {codes}") from None
    fp = prepare_footprint(footprint, crs, rules.siting, line_width_m)
    outside = _jurisdiction(engine, rules, fp)
    overlaps, warnings = _overlaps(engine, fp, rules.siting.sliver_tolerance_m2)
    if outside is not None:
        warnings.append(outside)
    findings, path, rule_warnings = evaluate(rules, fp, overlaps, activity,
                                             new_construction_land, temporary)
    if new_construction_land:
        warnings += _quota_advice(engine, fp, overlaps, rules.siting.sliver_tolerance_m2)
    if fp.repaired:
        warnings.append(AdvisoryModel(code="footprint_repaired",
                                 message_zh="项目范围几何无效，已自动修复",
                                 message_en="the footprint geometry was invalid and repaired"))
    if dem is None:
        from gis.settings import get_settings

        dem = get_settings().dem_path
    terrain = None
    if dem is not None:
        terrain, terrain_warnings = _terrain(dem, rules, fp)
        warnings += terrain_warnings
    verdict = overall(findings)
    if verdict == "prohibited":
        path = None  # no justification can admit a prohibited project: do not suggest one
    return SitingResult(
        verdict=verdict, profile=rules.id, profile_version=rules.version,
        activity=activity, activity_zh=activity_def.zh, category=category,
        new_construction_land=new_construction_land, temporary=temporary,
        footprint_area=AreaOut.of(fp.area), footprint_crs=fp.source_crs, overlaps=overlaps,
        rules=findings, approval_path=path, warnings=[*warnings, *rule_warnings],
        footprint_geojson=shapely.geometry.mapping(fp.geometry), terrain=terrain,
    )
