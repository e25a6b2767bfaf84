"""The truth about the forest and grassland samples: the planted reconciliation situations,
measured, and the check that no other overlap, class mismatch or ownership defect exists.
"""

from __future__ import annotations

from gis.samples import _geo as geo
from gis.samples._measure import SituationSteps, overlaps, place_label, r2
from gis.samples._model import FOREST_CODES, GRASS_CODES, SLIVER_M2, Parcel
from gis.units import M2_PER_MU


class ForestTruth(SituationSteps):
    """The forest and grassland measuring steps of the sample builder (a mixin of
    ``Builder``, through :class:`gis.samples._truth.TruthSteps`)."""

    def _situations_forest(self) -> None:
        """Overlaps, class mismatches and defects, in that order (the order of
        ``planted.yaml``)."""
        forest = [p for p in self.parcels if p.kind == "forest"]
        grass = [p for p in self.parcels if p.kind == "grass"]
        plants = {s["id"]: s for s in self.plants}
        self._situations_parcel_overlaps(forest, grass, plants)
        self._situations_class_mismatch(forest, grass)
        self._situations_parcel_defects(forest, plants)

    def _situations_parcel_overlaps(self, forest: list[Parcel], grass: list[Parcel],
                                    plants: dict[str, dict]) -> None:
        """Forest-grass overlaps and slivers, and the one ownership overlap: exactly the
        planted ones."""
        add = self.situations.append
        # Forest-grass overlaps and slivers.
        found = overlaps([p.geom for p in forest], [p.geom for p in grass])
        fg = {(id(forest[i]), id(grass[j])): (area, inter) for i, j, area, inter in found}
        expected = [s for s in self.plants if s["kind"].startswith("forest_grass")]
        if set(fg) != {(id(s["parcels"][0]), id(s["parcels"][1])) for s in expected}:
            raise RuntimeError("forest-grass overlaps differ from the planted ones")
        for s in expected:
            f, g = s["parcels"]
            area, inter = fg[(id(f), id(g))]
            sliver = s["kind"] == "forest_grass_sliver"
            if sliver != (area < SLIVER_M2):
                raise RuntimeError(f"{s['id']}: {area:.1f} m² is on the wrong side of 0.067 ha")
            add(self._situation(
                s["id"], s["kind"], inter,
                ("林地小班与草地图斑沿界线的细碎重叠(小于0.067公顷，属制图误差，不计为林草重叠)"
                 if sliver else "林草重叠：林地小班与草地图斑重叠(大于0.067公顷)"),
                ("Thin overlap of a forest sub-compartment and a grassland parcel along their "
                 "shared edge, below 0.067 ha: noise, not a forest-grass conflict" if sliver else
                 "Forest-grass overlap: a forest sub-compartment overlaps a grassland parcel by "
                 "more than 0.067 ha"),
                {"forest_parcels": [f.key], "grassland_parcels": [g.key]},
                {"area_m2": r2(area), "above_tolerance": not sliver}, place=place_label(s)))
        if overlaps([p.geom for p in grass], [p.geom for p in grass], same=True):
            raise RuntimeError("grassland parcels overlap")
        ff = overlaps([p.geom for p in forest], [p.geom for p in forest], same=True)
        own = plants["OWN-OVERLAP-01"]
        if {frozenset((id(forest[i]), id(forest[j]))) for i, j, _, _ in ff} != {
                frozenset(id(p) for p in own["parcels"])}:
            raise RuntimeError("forest parcels overlap other than the planted 权属叠加")
        _, _, area, inter = ff[0]
        a, b = own["parcels"]
        add(self._situation(
            "OWN-OVERLAP-01", "ownership_overlap", inter,
            "权属叠加：两个林地小班重叠，林木使用权人不同"
            f"({a.attrs['owner']} / {b.attrs['owner']})",
            "Overlapping ownership: two forest sub-compartments with different right holders "
            "overlap", {"forest_parcels": [a.key, b.key]},
            {"area_m2": r2(area), "owners": [a.attrs["owner"], b.attrs["owner"]]},
            place="星光村集体林"))

    def _situations_class_mismatch(self, forest: list[Parcel], grass: list[Parcel]) -> None:
        """Parcels on survey patches of another class: the planted ones and those the
        planted forest-grass overlaps imply, nothing else."""
        add = self.situations.append
        # Survey classes against forestry / grassland classes.
        cells = self.cells
        mism = []
        for parcels, codes in ((forest, FOREST_CODES), (grass, GRASS_CODES)):
            for i, j, area, inter in overlaps([p.geom for p in parcels],
                                               [c.geom for c in cells]):
                if cells[j].code not in codes:
                    mism.append((parcels[i], cells[j], area, inter))
        deliberate = {id(s["cell"]): s for s in self.plants if s["kind"] == "class_mismatch"}
        growers = {(id(s["parcels"][0]), id(c)): s for s in self.plants
                   if s["kind"].startswith("forest_grass") for c in s["parcels"][1].cells}
        implied: list[tuple] = []
        names = {"0404": ("其他草地", "grassland"), "0103": ("旱地", "cultivated land"),
                 "0702": ("农村宅基地", "rural homestead (construction)"),
                 "0305": ("灌木林地", "shrub forest")}
        for parcel, cell, area, inter in sorted(mism, key=lambda m: (m[0].label, m[1].patch_no)):
            layer = "forest_parcels" if parcel.kind == "forest" else "grassland_parcels"
            feats = {layer: [parcel.key], "survey_patches": [
                {"county_code": cell.county, "patch_no": cell.patch_no}]}
            expected_area = {"area_m2": r2(area), "survey_code": cell.code,
                             "above_tolerance": area >= SLIVER_M2}
            if id(cell) in deliberate:
                s = deliberate.pop(id(cell))
                zh, en = names[cell.code]
                what = "林地小班" if parcel.kind == "forest" else "草地图斑"
                add(self._situation(
                    s["id"], "class_mismatch", inter,
                    f"地类不一致：{what}压盖三调{cell.code}{zh}图斑",
                    f"Class mismatch: a {'forest' if parcel.kind == 'forest' else 'grassland'} "
                    f"parcel lies on a land-survey patch coded {cell.code} ({en})",
                    feats, expected_area, place=place_label(s)))
            elif (id(parcel), id(cell)) in growers:
                implied.append((growers[(id(parcel), id(cell))], inter, feats, expected_area))
            else:
                raise RuntimeError(f"unplanted class mismatch {parcel.label} / {cell.patch_no}")
        if deliberate:
            raise RuntimeError("a planted class mismatch was not found")
        implied.sort(key=lambda m: m[0]["id"])
        for n, (s, inter, feats, expected_area) in enumerate(implied):
            code = expected_area["survey_code"]
            add(self._situation(
                f"CM-I{n + 1:02d}", "class_mismatch", inter,
                f"地类不一致(由{s['id']}引起)：林地小班伸入草地，压盖三调{code}草地图斑",
                f"Class mismatch implied by {s['id']}: where the forest parcel reaches into "
                f"the grassland it lies on a survey patch coded {code}",
                feats, {**expected_area, "implied_by": s["id"]}, place=place_label(s)))

    def _situations_parcel_defects(self, forest: list[Parcel], plants: dict[str, dict]) -> None:
        """The planted ownership and certificate defects; every other parcel has none."""
        add = self.situations.append
        for sid, zh, en in (
            ("OWN-UNCLEAR-01", "权属不清：林地小班没有林木使用权人", "Unclear ownership: a forest "
             "sub-compartment with no right holder"),
            ("CERT-NONE-01", "无证：林地小班有权利人但没有林权证", "No certificate: a forest "
             "sub-compartment with a right holder but no certificate"),
            ("CERT-AREA-01", "证地不符：林权证面积150亩，图上面积约100亩", "Certificate does not "
             "match the map: 150 mu on the certificate, about 100 mu mapped"),
        ):
            s = plants[sid] if sid in plants else next(p for p in self.plants if p["id"] == sid)
            p = s["parcels"][0]
            mapped = geo.area_m2(p.geom)
            exp = {"mapped_area_m2": r2(mapped), "mapped_area_mu": round(mapped / M2_PER_MU, 2)}
            if sid == "CERT-AREA-01":
                exp["certificate_area_mu"] = p.attrs["certificate_area_mu"]
            add(self._situation(sid, s["kind"], p.geom, zh, en, {"forest_parcels": [p.key]},
                                exp, place=place_label(s)))
        # Every other forest parcel has an owner, a certificate and a matching area.
        for p in forest:
            if id(p) in {id(q) for s in self.plants for q in s["parcels"]
                         if s["id"] in ("OWN-UNCLEAR-01", "CERT-NONE-01", "CERT-AREA-01")}:
                continue
            mapped_mu = geo.area_m2(p.geom) / M2_PER_MU
            if (not p.attrs["owner"] or not p.attrs["certificate_no"]
                    or abs(p.attrs["certificate_area_mu"] - mapped_mu) > 0.06):
                raise RuntimeError(f"forest parcel {p.label} has an unplanted defect")
