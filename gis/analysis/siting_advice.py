"""The siting check's advisories beside the verdict: jurisdiction, village quota, terrain.

None of them changes the verdict: a footprint wholly outside the profile's jurisdiction is
refused, one partly outside is warned about; a project outside a village's planned
construction land is told whose flexible quota it would draw on and what is left; slope is
reported against the profile's threshold. Part of :mod:`gis.analysis.siting`.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from sqlalchemy import Engine

from gis.analysis.footprint import Footprint
from gis.analysis.siting_models import AdvisoryModel, Overlap
from gis.analysis.siting_rules import overlaps_in
from gis.analysis.statements import statement
from gis.analysis.terrain import TerrainStats, footprint_stats
from gis.errors import InputError
from gis.rules import division_prefix
from gis.rules.models import Profile
from gis.units import Area


def jurisdiction_advice(engine: Engine, profile: Profile, footprint: Footprint
                        ) -> AdvisoryModel | None:
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


def quota_advice(engine: Engine, footprint: Footprint, overlaps: list[Overlap],
                 tolerance_m2: float) -> list[AdvisoryModel]:
    """Which village's flexible quota a project outside planned construction land would
    draw on, and what that quota has left (the ledger of gis.analysis.reserve)."""
    from gis.analysis.reserve import village_report

    advice = []
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    for overlap in overlaps_in(overlaps, "village_plans"):
        for feature in overlap.features:
            with engine.connect() as conn:
                cur = conn.connection.driver_connection.cursor()
                cur.execute(statement("siting_outside_planned.sql"),
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


def terrain_advice(dem: Path | str, profile: Profile, footprint: Footprint
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
