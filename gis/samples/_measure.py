"""Measuring helpers of the sample builder's truth steps: overlaps, rounding, situation records.

Every figure is measured on the stored EPSG:4490 geometry with ellipsoidal areas
(:func:`gis.units.geodesic_area`); see ``_truth``.
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

from gis.samples import _geo as geo
from gis.samples._model import NOISE_M2, RESERVE_NAME, YYH_FARM


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


class SituationSteps:
    """How a measured situation is recorded (``planted.yaml``) and how a feature it names is
    keyed; the base of the truth mixins of ``Builder``."""

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
