"""The truth about the planning samples: the three control lines, the urban development
boundary's ratio, forest farm areas, village quotas, township reserves, the ledger and the
projects, measured, with the check that the lines overlap only where planted.
"""

from __future__ import annotations

from fractions import Fraction

from gis.rules import load_profile
from gis.rules.thresholds import area as exact_area
from gis.rules.thresholds import share as exact_share
from gis.rules.thresholds import total
from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._measure import SituationSteps, overlaps, r2
from gis.samples._model import QUOTA_LEDGER
from gis.samples._villages import TOWNSHIP_PLANS
from gis.units import M2_PER_MU


class PlanningTruth(SituationSteps):
    """The planning measuring steps of the sample builder (a mixin of ``Builder``, through
    :class:`gis.samples._truth.TruthSteps`)."""

    def _situations_control_lines(self) -> None:
        """The two planted three-line conflicts (the only overlaps of the lines) and each
        district's boundary against its 2020 baseline."""
        add = self.situations.append
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

        self._situations_udb()

    def _situations_udb(self) -> None:
        """The urban development boundary against the 2020 baseline (003:131-133: "城镇开发
        边界扩展倍数控制在基于2020年现状城镇建设用地规模的1.3倍以内"). The limit (from the
        profile) is region-wide: it judges the two districts together (UDB-REGION-01);
        each district's own ratio is information (UDB-01, UDB-02)."""
        add = self.situations.append
        target = load_profile("ningxia").targets["udb_expansion_ratio"]
        limit = target.value
        udb, base = Fraction(0), Fraction(0)
        for county, sid in ((places.DWK, "UDB-01"), (places.XQ, "UDB-02")):
            zones = [u for u in self.udb if u["county_code"] == county]
            total = sum(geo.area_m2(u["geom"]) for u in zones)
            baseline = zones[0]["baseline_2020_m2"]
            udb, base = udb + exact_area(r2(total)), base + exact_area(baseline)
            ratio = total / baseline
            name = self.district_props[county]["name"]
            add(self._situation(
                sid, "udb_expansion_ratio", geo.union(u["geom"] for u in zones),
                f"{name}城镇开发边界面积为2020年城镇建设用地的{ratio:.2f}倍（区县自身数值，"
                f"仅供参考：{limit:g}倍上限针对全区）",
                f"{name}: the urban development boundary is {ratio:.2f}x the 2020 urban "
                f"construction land (the district's own ratio, for information: the {limit:g}x "
                "limit is region-wide)",
                {"urban_boundary": [{"boundary_code": u["boundary_code"]} for u in zones]},
                {"udb_area_m2": r2(total), "baseline_2020_m2": baseline,
                 "ratio": round(ratio, 6), "information_only": True},
                where=False))
        exceeds = not target.met_by(udb / base)
        ratio = float(udb / base)
        names = [self.district_props[c]["name"] for c in (places.XQ, places.DWK)]
        add(self._situation(
            "UDB-REGION-01", "udb_expansion_ratio", geo.union(u["geom"] for u in self.udb),
            f"全区（仅含已加载的{'、'.join(names)}）城镇开发边界面积为2020年城镇建设用地的{ratio:.2f}倍，"
            + (f"超过{limit:g}倍上限" if exceeds else f"未超过{limit:g}倍上限"),
            f"The region (only the loaded {', '.join(names)}): the urban development boundary is "
            f"{ratio:.2f}x the 2020 urban construction land ({'over' if exceeds else 'within'} "
            f"the region-wide {limit:g}x limit)",
            {"urban_boundary": [{"boundary_code": u["boundary_code"]} for u in self.udb]},
            {"udb_area_m2": float(udb), "baseline_2020_m2": float(base),
             "ratio": round(ratio, 6), "limit": limit, "exceeds": exceeds,
             "covers": sorted({u["county_code"] for u in self.udb})},
            where=False))

    def _situations_farm_areas(self) -> None:
        """Each forest farm area's mapped area against its nominal one."""
        add = self.situations.append
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
                "category": v.category, "category_source": v.category_source,
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
        self.facts["township_reserves"] = []
        rule = load_profile("dawukou").quota["township_reserve"]  # 001:1142-1144
        for code, (planned, share, _approved) in sorted(TOWNSHIP_PLANS.items()):
            t = self.townships[code]
            reserved = round(planned * share, 2)
            self.facts["township_reserves"].append({
                "township_code": code, "township_name": t["name"], "county_code": t["county"],
                "planned_construction_m2": planned, "reserved_indicator_m2": reserved,
                "share": round(reserved / planned, 6)})
            if t["county"] == "640202" and not rule.complies(exact_share(reserved, planned)):
                add(self._situation(
                    "TOWNSHIP-RESERVE-LOW-01", "township_reserve_share", t["geom"],
                    f"{t['name']}乡级规划预留建设用地指标{share:.1%}，不足{rule.threshold:.0%}",
                    f"{t['name']}: the township plan reserves {share:.1%} of construction "
                    f"land, below Dawukou's 'no less than {rule.threshold:.0%}'",
                    {"township_plans": [{"township_code": code}]},
                    {"planned_construction_m2": planned, "reserved_indicator_m2": reserved,
                     "share": round(reserved / planned, 6)}, place=t["name"], where=False))
        for code in sorted({d["village_code"] for d in self.ledger}):
            rec = self.villages[code]
            drawn = sum(d["area_m2"] for d in self.ledger if d["village_code"] == code)
            over = total([d["area_m2"] for d in self.ledger if d["village_code"] == code]
                         ) > exact_area(rec["flexible"])
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
