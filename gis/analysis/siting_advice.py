"""The siting check's advisories beside the verdict: jurisdiction, village quota, terrain.

None of them changes the verdict: a footprint wholly outside the profile's jurisdiction is
refused, one partly outside is warned about, and where the jurisdiction's outline is only
partly loaded the rest is "not checked"; a project outside a village's planned construction
land is told whose flexible quota it would draw on and what is left; slope is reported
against the profile's threshold. Part of :mod:`gis.analysis.siting`.
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
from gis.messages import Joined, Named, msg
from gis.rules import division_prefix
from gis.rules.models import Profile
from gis.units import Area


def jurisdiction_advice(engine: Engine, profile: Profile, footprint: Footprint
                        ) -> AdvisoryModel | None:
    """Check the footprint against the union of the loaded outlines of the profile's
    jurisdiction (``sql/siting_jurisdiction.sql``). Where the jurisdiction's own outline is
    loaded, a footprint wholly outside is refused and one partly outside is warned about.
    Where only part of it is loaded (two districts of the region), what lies inside the
    loaded outlines is checked and the rest is "not checked", never "outside": its outline
    is not there to say. No outline at all: not checked."""
    if not profile.division_code:
        return None
    ewkb = shapely.to_wkb(shapely.set_srid(footprint.geometry, 4490), include_srid=True)
    with engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute(statement("siting_jurisdiction.sql"), {
            "fp": ewkb, "prefix": division_prefix(profile.division_code) + "%",
            "code": profile.division_code})
        loaded, whole, meets, outside_m2, names = cur.fetchone()
    title = Named(profile.title_zh, profile.title_en)
    if not loaded:
        return AdvisoryModel.of("jurisdiction_not_checked",
                                msg("siting.advice.jurisdiction_not_checked", title=title))
    if not whole:
        outlines = Joined.of(names)
        if not meets:
            return AdvisoryModel.of("jurisdiction_not_checked", msg(
                "siting.advice.jurisdiction_outside_loaded", title=title, loaded=outlines))
        if outside_m2 > profile.siting.sliver_tolerance_m2:
            return AdvisoryModel.of("jurisdiction_partly_not_checked", msg(
                "siting.advice.jurisdiction_partly_not_checked", title=title,
                loaded=outlines, outside_mu=Area(outside_m2).mu))
        return None
    if not meets:
        place = Named(profile.title_zh, f"{profile.title_en} ({profile.title_zh})")
        raise InputError(msg("siting.outside_jurisdiction", place=place))
    if outside_m2 > profile.siting.sliver_tolerance_m2:
        return AdvisoryModel.of("partly_outside_jurisdiction",
                                msg("siting.advice.partly_outside_jurisdiction", title=title))
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
            left = (msg("siting.advice.quota_left", left_mu=Area(max(quota.remaining_m2, 0)).mu)
                    if quota else msg("siting.advice.no_quota"))
            advice.append(AdvisoryModel.of("village_quota_draw", msg(
                "siting.advice.village_quota_draw", outside_mu=Area(outside).mu,
                name=feature.name, code=feature.key, left=left)))
    return advice


def terrain_advice(dem: Path | str, profile: Profile, footprint: Footprint
                   ) -> tuple[TerrainStats | None, list[AdvisoryModel]]:
    """Slope figures for the footprint and a warning citing the profile's slope threshold
    (advisory: slope never changes the verdict). A DEM that cannot be used is a warning."""
    try:
        stats = footprint_stats(dem, footprint.geometry, profile.terrain)
    except InputError as exc:
        return None, [AdvisoryModel.of("terrain_not_checked", msg(
            "siting.advice.terrain_not_checked", reason=exc.catalogued or exc.message))]
    warnings = []
    if stats.pixels_without_data:
        warnings.append(AdvisoryModel.of("terrain_partial", msg(
            "siting.advice.terrain_partial", cells=stats.pixels_without_data)))
    if stats.steep_share > 0:
        source = profile.terrain.citation
        if source:
            document = profile.documents[source.document]
            basis = msg("siting.advice.slope_basis_cited", source=source.label(),
                        document=Named(document.title_zh, document.title_en))
        else:
            basis = msg("siting.advice.slope_basis_parameter")
        warnings.append(AdvisoryModel.of("steep_slope", msg(
            "siting.advice.steep_slope", threshold=profile.terrain.steep_slope_deg,
            steep_mu=stats.steep_area_mu, share=stats.steep_share,
            mean=stats.slope_mean_deg, max=stats.slope_max_deg, basis=basis)))
    return stats, warnings
