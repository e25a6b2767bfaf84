"""What the samples contain, measured: the planted situations and the checks that nothing
else of the kinds the analyses look for is there.

Every figure is measured on the stored EPSG:4490 geometry with ellipsoidal areas
(:func:`gis.units.geodesic_area`), after the drawing steps of
:class:`gis.samples.generate.Builder` have run; a check that fails stops the build.

The measuring is split by subject: ``_truth_forest`` (reconciliation situations),
``_truth_planning`` (control lines, quotas, projects); the helpers are in ``_measure``.
"""

from __future__ import annotations

import numpy as np
import shapely

from gis.samples import _geo as geo
from gis.samples import _raster as raster
from gis.samples._measure import overlaps, r2
from gis.samples._truth_forest import ForestTruth
from gis.samples._truth_planning import PlanningTruth


class TruthSteps(ForestTruth, PlanningTruth):
    """The measuring steps of the sample builder (a mixin of ``Builder``)."""

    def situations_vector(self) -> None:
        """Measure every planted situation on the stored geometry, and make sure nothing that
        the analyses look for exists without having been planted."""
        # Layers that partition their ground: no overlaps at all.
        partitions = {
            "survey_patches": [c.geom for c in self.cells],
            "village_plan_zones": [z["geom"] for v in self.villages.values() for z in v["zones"]]
            + [v["farm"] for v in self.villages.values() if "farm" in v],
            "forest_farm_areas": [a["geom"] for a in self.farm_areas],
            "eco_redline": [r["geom"] for r in self.redline],
            "urban_boundary": [u["geom"] for u in self.udb],
            "cultivated_land": [b.geom for b in self.blocks],
        }
        for name, geoms in partitions.items():
            if overlaps(geoms, geoms, same=True):
                raise RuntimeError(f"{name} overlap each other")
        self._situations_forest()
        self._situations_control_lines()
        self._situations_farm_areas()
        self._situations_quota()
        self._situations_projects()

    def situations_landcover(self) -> None:
        changed = (~np.isin(self.lc2020, raster.CONSTRUCTION_OR_BARE)
                   & np.isin(self.lc2023, raster.CONSTRUCTION_OR_BARE))
        other = (self.lc2020 != self.lc2023) & ~changed
        expected_new = sum(p["pixels"] for p in self.lc_patches
                           if p["kind"] != "landcover_other_change")
        if int(changed.sum()) != expected_new:
            raise RuntimeError("the 2023 land cover has unplanted construction/bare changes")
        if int(other.sum()) != sum(p["pixels"] for p in self.lc_patches
                                   if p["kind"] == "landcover_other_change"):
            raise RuntimeError("the 2023 land cover has unplanted changes")
        names = {v: f"{v} {en}" for v, en, _, _ in raster.LANDCOVER_CLASSES}
        checks = {"LC-01": [("eco_redline", "general")], "LC-02": [("eco_redline", "general")],
                  "LC-03": [("eco_redline", "core")],
                  "LC-04": [("basic_farmland", None), ("cultivated_land", None)],
                  "LC-05": [], "LC-06": []}
        layers = {"eco_redline": [(r, r["geom"]) for r in self.redline],
                  "basic_farmland": [(b, b.geom) for b in self.blocks if b.designated],
                  "cultivated_land": [(b, b.geom) for b in self.blocks],
                  "urban_boundary": [(u, u["geom"]) for u in self.udb]}
        for p in self.lc_patches:
            inside = []
            for layer, items in layers.items():
                for _, j, area, _ in overlaps([p["footprint"]], [g for _, g in items]):
                    inside.append({"layer": layer, **self._key(layer, items[j][0]),
                                   "area_m2": r2(area)})
            got = sorted((h["layer"], h.get("zone")) for h in inside)
            if got != sorted(checks[p["id"]], key=lambda t: (t[0], t[1] or "")):
                raise RuntimeError(f"land-cover patch {p['id']} lies in {got}")
            wkt = shapely.to_wkt(p["footprint"], rounding_precision=7)
            self.situations.append(self._situation(
                p["id"], p["kind"], p["footprint"], p["zh"], p["en"],
                {"landcover_2023.tif": [{"window": p["window"]}]},
                {"class_2020": names[p["before"]], "class_2023": names[p["after"]],
                 "pixel_count": p["pixels"], "pixel_size_m": raster.LC_CELL,
                 "window": p["window"], "area_m2": r2(geo.area_m2(p["footprint"])),
                 "footprint_wkt": wkt, "inside": inside}))
