"""What the samples contain, measured: the planted situations and the checks that nothing
else of the kinds the analyses look for is there.

Every figure is measured on the stored EPSG:4490 geometry with ellipsoidal areas
(:func:`gis.units.geodesic_area`), after the drawing steps of
:class:`gis.samples.generate.Builder` have run; a check that fails stops the build.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples import _raster as raster
from gis.samples._model import (
    FOREST_CODES,
    GRASS_CODES,
    NOISE_M2,
    QUOTA_LEDGER,
    RESERVE_NAME,
    SLIVER_M2,
    YYH_FARM,
)
from gis.units import M2_PER_MU


def overlaps(a: list[BaseGeometry], b: list[BaseGeometry],
              same: bool = False) -> list[tuple[int, int, float, BaseGeometry]]:
    """Pairs (i, j) whose ellipsoidal intersection area exceeds NOISE_M2 (with ``same``, each
    unordered pair of one list once)."""
    tree = shapely.STRtree(b)
    out = []
    for i, g in enumerate(a):
        for j in sorted(int(j) for j in tree.query(g, predicate="intersects")):
            if same and j <= i:
                continue
            inter = g.intersection(b[j])
            area = geo.area_m2(inter)
            if area > NOISE_M2:
                out.append((i, j, area, inter))
    return out


def r2(value: float) -> float:
    return round(float(value), 2)


def place_label(plant: dict) -> str:
    labels = {"woodland": "星光村集体林", "yueyahu": YYH_FARM, "reserve": RESERVE_NAME}
    return labels.get(plant["mosaic"], plant["mosaic"])


class TruthSteps:
    """The measuring steps of the sample builder (a mixin of ``Builder``)."""

    def situations_vector(self) -> None:
        """Measure every planted situation on the stored geometry, and make sure nothing that
        the analyses look for exists without having been planted."""
        add = self.situations.append
        forest = [p for p in self.parcels if p.kind == "forest"]
        grass = [p for p in self.parcels if p.kind == "grass"]
        plants = {s["id"]: s for s in self.plants}

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

        # The three control lines.
        red = [(r, r["geom"]) for r in self.redline]
        farm = [b for b in self.blocks if b.designated]
        udb = [(u, u["geom"]) for u in self.udb]
        rf = overlaps([g for _, g in red], [b.geom for b in farm])
        fu = overlaps([b.geom for b in farm], [g for _, g in udb])
        ru = overlaps([g for _, g in red], [g for _, g in udb])
        if ru or len(rf) != 1 or len(fu) != 1:
            raise RuntimeError(f"three control lines overlap unexpectedly: {len(rf)} red/farmland,"
                               f" {len(fu)} farmland/boundary, {len(ru)} red/boundary")
        i, j, area, inter = fu[0]
        if farm[i] is not self.tl_udb:
            raise RuntimeError("the farmland/boundary overlap is not the planted one")
        u = udb[j][0]
        add(self._situation(
            "TL-01", "three_line_conflict", inter,
            "三线冲突：永久基本农田与城镇开发边界重叠", "Three-line conflict: permanent basic "
            "farmland overlaps the urban development boundary",
            {"basic_farmland": [{"parcel_code": farm[i].attrs["parcel_code"]}],
             "urban_boundary": [{"boundary_code": u["boundary_code"]}]},
            {"area_m2": r2(area), "urban_zone": u["zone"]}))
        i, j, area, inter = rf[0]
        if farm[j] is not self.tl_red:
            raise RuntimeError("the red-line/farmland overlap is not the planted one")
        r = red[i][0]
        add(self._situation(
            "TL-02", "three_line_conflict", inter,
            "三线冲突：生态保护红线与永久基本农田重叠", "Three-line conflict: the ecological "
            "protection red line overlaps permanent basic farmland",
            {"eco_redline": [{"redline_code": r["redline_code"]}],
             "basic_farmland": [{"parcel_code": farm[j].attrs["parcel_code"]}]},
            {"area_m2": r2(area), "redline_zone": r["zone"]}))

        # Urban development boundary against its 2020 baseline (003:131-133: at most 1.3x).
        for county, sid in ((places.DWK, "UDB-01"), (places.XQ, "UDB-02")):
            zones = [u for u in self.udb if u["county_code"] == county]
            total = sum(geo.area_m2(u["geom"]) for u in zones)
            baseline = zones[0]["baseline_2020_m2"]
            ratio = total / baseline
            exceeds = ratio > 1.3
            name = self.district_props[county]["name"]
            add(self._situation(
                sid, "udb_expansion_ratio", geo.union(u["geom"] for u in zones),
                f"{name}城镇开发边界面积为2020年城镇建设用地的{ratio:.2f}倍"
                + ("，超过1.3倍上限" if exceeds else "，未超过1.3倍上限"),
                f"{name}: the urban development boundary is {ratio:.2f}x the 2020 urban "
                f"construction land ({'over' if exceeds else 'within'} the 1.3x limit)",
                {"urban_boundary": [{"boundary_code": u["boundary_code"]} for u in zones]},
                {"udb_area_m2": r2(total), "baseline_2020_m2": baseline,
                 "ratio": round(ratio, 6), "limit": 1.3, "exceeds": exceeds},
                where=False))

        # Forest farm management areas (001:238-246, 001:2585-2593).
        for k, a in enumerate(self.farm_areas):
            mapped = geo.area_m2(a["geom"])
            add(self._situation(
                f"FARM-{k + 1:02d}", "forest_farm_area", a["geom"],
                f"{a['area_name']}：规定面积{a['nominal_area_mu']:.0f}亩，图上面积相差不超过1%",
                f"{a['area_name']}: nominal {a['nominal_area_mu']:.0f} mu; the mapped area is "
                "within 1% of it", {"forest_farm_areas": [{"area_code": a["area_code"]}]},
                {"nominal_area_mu": a["nominal_area_mu"], "mapped_area_m2": r2(mapped),
                 "mapped_area_mu": round(mapped / M2_PER_MU, 2),
                 "relative_difference": round(mapped / M2_PER_MU / a["nominal_area_mu"] - 1, 5)},
                place=a["area_name"]))
        self._situations_quota()
        self._situations_projects()

    def _situations_quota(self) -> None:
        add = self.situations.append
        self.facts["village_quotas"] = []
        for code in sorted(self.villages):
            rec = self.villages[code]
            v: places.Village = rec["village"]
            construction = sum(geo.area_m2(z["geom"]) for z in rec["zones"])
            flexible = sum(geo.area_m2(z["geom"]) for z in rec["zones"] if z["use"] == "16")
            self.facts["village_quotas"].append({
                "village_code": code, "village_name": v.name, "county_code": rec["county"],
                "planned_construction_m2": v.planned_construction_m2,
                "flexible_quota_m2": rec["flexible"],
                "share": round(rec["flexible"] / v.planned_construction_m2, 6),
                "zones_construction_m2": r2(construction), "zones_flexible_m2": r2(flexible),
            })
        cases = [
            ("QUOTA-LOW-01", "640202100202", "机动指标不足5%", "Flexible quota below 5%"),
            ("QUOTA-LOW-02", "640104201202", "机动指标不足5%(兴庆区要求不少于5%)",
             "Flexible quota below Xingqing's 'no less than 5%'"),
            ("QUOTA-EXACT-01", "640202100204", "机动指标恰为5.00%(大武口区：5%)",
             "Flexible quota exactly 5.00% (Dawukou: 5%)"),
            ("QUOTA-EXACT-02", "640104201203", "机动指标恰为5.00%(兴庆区：不少于5%，符合)",
             "Flexible quota exactly 5.00% (Xingqing: no less than 5%, compliant)"),
            ("QUOTA-TOL-01", "640202100206", "机动指标4.98%，是否视为5%取决于容差",
             "Flexible quota 4.98%: whether it counts as Dawukou's 5% depends on the tolerance"),
        ]
        for sid, code, zh, en in cases:
            rec = self.villages[code]
            v = rec["village"]
            add(self._situation(
                sid, "village_quota_share", rec["geom"], f"{v.name}{zh}", f"{v.name}: {en}",
                {"village_plans": [{"village_code": code}]},
                {"planned_construction_m2": v.planned_construction_m2,
                 "flexible_quota_m2": rec["flexible"],
                 "share": round(rec["flexible"] / v.planned_construction_m2, 6)}))
        from gis.samples.generate import TOWNSHIP_PLANS

        self.facts["township_reserves"] = []
        for code, (planned, share, _approved) in sorted(TOWNSHIP_PLANS.items()):
            t = self.townships[code]
            reserved = round(planned * share, 2)
            self.facts["township_reserves"].append({
                "township_code": code, "township_name": t["name"], "county_code": t["county"],
                "planned_construction_m2": planned, "reserved_indicator_m2": reserved,
                "share": round(reserved / planned, 6)})
            if t["county"] == "640202" and share < 0.10:
                add(self._situation(
                    "TOWNSHIP-RESERVE-LOW-01", "township_reserve_share", t["geom"],
                    f"{t['name']}乡级规划预留建设用地指标{share:.1%}，不足10%",
                    f"{t['name']}: the township plan reserves {share:.1%} of construction "
                    "land, below Dawukou's 'no less than 10%'",
                    {"township_plans": [{"township_code": code}]},
                    {"planned_construction_m2": planned, "reserved_indicator_m2": reserved,
                     "share": round(reserved / planned, 6)}, place=t["name"], where=False))
        for code in sorted({d["village_code"] for d in self.ledger}):
            rec = self.villages[code]
            drawn = sum(d["area_m2"] for d in self.ledger if d["village_code"] == code)
            over = drawn > rec["flexible"]
            self.facts.setdefault("ledgers", []).append({
                "village_code": code, "village_name": rec["village"].name,
                "flexible_quota_m2": rec["flexible"], "drawn_m2": drawn,
                "draws": sum(1 for d in self.ledger if d["village_code"] == code),
                "overdrawn": over})
            if over:
                add(self._situation(
                    "QUOTA-OVERDRAWN-01", "quota_overdrawn", rec["geom"],
                    f"{rec['village'].name}机动指标台账超用：已使用{drawn:.0f}平方米，"
                    f"指标{rec['flexible']:.0f}平方米",
                    f"{rec['village'].name}: the quota ledger draws {drawn:.0f} m² against a "
                    f"flexible quota of {rec['flexible']:.0f} m²",
                    {"village_plans": [{"village_code": code}],
                     QUOTA_LEDGER: [{"village_code": code}]},
                    {"flexible_quota_m2": rec["flexible"], "drawn_m2": drawn,
                     "excess_m2": r2(drawn - rec["flexible"])}))

    def _situations_projects(self) -> None:
        add = self.situations.append
        notes = {
            "LA5": ("生态保护红线核心保护区内的建设项目(原则上禁止人为活动)",
                    "A project inside the red line's core zone (human activity prohibited in "
                    "principle)"),
            "LA1": ("生态保护红线一般控制区内的有限人为活动(管护巡护设施)，新增建设用地",
                    "A limited human activity (patrol facility) in the red line's general zone, "
                    "with new construction land"),
            "farm": ("占用永久基本农田的建设项目", "A project on permanent basic farmland"),
            "cult": ("占用一般耕地(非永久基本农田)的建设项目",
                     "A project on cultivated land that is not permanent basic farmland"),
            "udb": ("城镇开发边界集中建设区内、无冲突的建设项目",
                    "A project inside the centralized construction zone with no conflict"),
            "LA6": ("穿越生态保护红线一般控制区的线性道路工程",
                    "A linear road crossing the red line's general zone"),
            "temp": ("生态保护红线(黄河湿地)内的临时用地", "Temporary land use inside the red "
                     "line (Yellow River wetland)"),
        }
        keys = ["LA5", "LA1", "farm", "cult", "udb", "LA6", "temp"]
        layers = {"eco_redline": [(r, r["geom"]) for r in self.redline],
                  "basic_farmland": [(b, b.geom) for b in self.blocks if b.designated],
                  "cultivated_land": [(b, b.geom) for b in self.blocks],
                  "urban_boundary": [(u, u["geom"]) for u in self.udb],
                  "forest_parcels": [(p, p.geom) for p in self.parcels if p.kind == "forest"],
                  "grassland_parcels": [(p, p.geom) for p in self.parcels if p.kind == "grass"]}
        for k, (p, note) in enumerate(zip(self.projects, keys, strict=True)):
            hits = []
            for layer, items in layers.items():
                for _, j, area, _ in overlaps([p["geom"]], [g for _, g in items]):
                    item = items[j][0]
                    hits.append({"layer": layer, **self._key(layer, item), "area_m2": r2(area)})
            p["hits"] = hits
            zh, en = notes[note]
            add(self._situation(
                f"PRJ-{k + 1:02d}", "project_siting", p["geom"], f"{p['name']}：{zh}",
                f"{p['name']}: {en}", {"projects": [{"project_code": p["project_code"]}]},
                {"footprint_area_m2": r2(geo.area_m2(p["geom"])),
                 "activity_code": p["activity_code"],
                 "new_construction_land": p["new_construction_land"],
                 "temporary": p["temporary"], "overlaps": hits}))
        self._check_projects()

    def _check_projects(self) -> None:
        def layers_of(p: dict) -> set[tuple]:
            return {(h["layer"], h.get("zone")) for h in p["hits"]}

        want = [
            {("eco_redline", "core")}, {("eco_redline", "general")},
            {("basic_farmland", None), ("cultivated_land", None)}, {("cultivated_land", None)},
            {("urban_boundary", "centralized_construction")}, {("eco_redline", "general")},
            {("eco_redline", "general")},
        ]
        for p, expected in zip(self.projects, want, strict=True):
            got = {x for x in layers_of(p) if x[0] != "grassland_parcels"}
            if got != expected:
                raise RuntimeError(f"project {p['name']} overlaps {got}, planned {expected}")

    def _key(self, layer: str, item) -> dict:
        if layer == "eco_redline":
            return {"redline_code": item["redline_code"], "zone": item["zone"]}
        if layer == "urban_boundary":
            return {"boundary_code": item["boundary_code"], "zone": item["zone"]}
        if layer == "basic_farmland":
            return {"parcel_code": item.attrs["parcel_code"]}
        if layer == "cultivated_land":
            return {"patch_no": f"{item.county}-{item.cell.patch_no}"}
        return dict(item.key)

    def _situation(self, sid: str, kind: str, geom: BaseGeometry, zh: str, en: str,
                   features: dict, expected: dict, place: str | None = None,
                   where: bool = True) -> dict:
        out = {"id": sid, "kind": kind, "description_zh": zh, "description_en": en,
               "layers": list(features), "features": features}
        if where:
            w = self.where(geom.representative_point())
            out.update(township=w["township_name"], village=w["village_name"])
        else:
            out.update(township=None, village=None)
        out["place"] = place
        out["expected"] = expected
        return out

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
