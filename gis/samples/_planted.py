"""The forest and grassland situations planted on purpose for the reconciliation to find.

Forest-grass overlaps and slivers (a parcel grown across its shared edge into a neighbour),
an ownership overlap, class mismatches (a survey cell split and given another class) and
ownership and certificate defects. What is planted here is measured later (``_truth_forest``).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gis.samples import _geo as geo
from gis.samples._forest_attrs import SURNAMES
from gis.samples._model import Cell, Parcel


class PlantingSteps:
    """The planting steps of the sample builder (a mixin of ``Builder``): change parcels and
    survey cells in place and record each planted situation in ``plants``."""

    def plant_forest_situations(self) -> None:
        self.used: set[int] = set()
        self.plants: list[dict] = []
        plan = [
            ("FG-01", "沟口生态林区", "forest_grass_overlap", {"radius": 75.0, "reach": 48.0}),
            ("FG-02", "沟口生态林区", "forest_grass_overlap", {"radius": 60.0, "reach": 38.0}),
            ("FG-03", "贺兰山生态修复项目绿化区", "forest_grass_overlap",
             {"radius": 85.0, "reach": 55.0}),
            ("FG-04", "yueyahu", "forest_grass_overlap", {"radius": 70.0, "reach": 45.0}),
            ("FG-S1", "沟口生态林区", "forest_grass_sliver", {"length": 180.0, "reach": 3.6}),
            ("FG-S2", "北武当林区", "forest_grass_sliver", {"length": 160.0, "reach": 4.0}),
            ("FG-S3", "yueyahu", "forest_grass_sliver", {"length": 140.0, "reach": 4.2}),
        ]
        for sid, mosaic, kind, params in plan:
            need = (2 * params["radius"] + 60.0 if "radius" in params
                    else params["length"] + 80.0)
            a, b, edge = self._pick_pair(mosaic, "forest", "grass", need)
            self._grow_into(a, b, edge, params)
            self.plants.append({"id": sid, "kind": kind, "parcels": [a, b], "mosaic": mosaic})
        # 权属叠加: two collective-forest parcels with different right holders overlap.
        a, b, edge = self._pick_pair("woodland", "forest", "forest", 200.0)
        self._grow_into(a, b, edge, {"radius": 65.0, "reach": 42.0})
        self._set_owner(a, individual=False)
        self._set_owner(b, individual=True)
        self.plants.append({"id": "OWN-OVERLAP-01", "kind": "ownership_overlap",
                            "parcels": [a, b], "mosaic": "woodland"})
        # Survey classes that disagree with the forestry / grassland class of a parcel: the
        # land survey maps finer, so one parcel covers two survey patches, one of another class.
        mismatches = [
            ("CM-01", "贺兰山生态修复项目绿化区", "forest", "0404"),
            ("CM-02", "woodland", "forest", "0103"),
            ("CM-03", "woodland", "forest", "0702"),
            ("CM-04", "沟口生态林区", "grass", "0305"),
        ]
        for sid, mosaic, kind, code in mismatches:
            parcel = self._pick_parcel(mosaic, kind, min_m2=3.0e4)
            cell = self._split_cell(parcel, code)
            self.plants.append({"id": sid, "kind": "class_mismatch", "parcels": [parcel],
                                "cell": cell, "mosaic": mosaic})
        # Ownership and certificate defects (attributes only).
        p = self._pick_parcel("woodland", "forest", min_m2=1.0e4)
        p.attrs.update(owner=None, certificate_no=None, certificate_status=None,
                       certificate_area_mu=None, acquired_date=None)
        self.plants.append({"id": "OWN-UNCLEAR-01", "kind": "unclear_ownership",
                            "parcels": [p], "mosaic": "woodland"})
        p = self._pick_parcel("woodland", "forest", min_m2=1.0e4)
        self._set_owner(p, individual=True)
        p.attrs.update(certificate_no=None, certificate_status="none", certificate_area_mu=None)
        self.plants.append({"id": "CERT-NONE-01", "kind": "no_certificate", "parcels": [p],
                            "mosaic": "woodland"})

    def _pick_pair(self, mosaic: str, kind_a: str, kind_b: str,
                   min_edge: float) -> tuple[Parcel, Parcel, shapely.LineString]:
        parcels = self.mosaics[mosaic]["parcels"]
        candidates = []
        for i, a in enumerate(parcels):
            if a.kind != kind_a or id(a) in self.used or a.terr_m.area < 2e4:
                continue
            for j, b in enumerate(parcels):
                if (j == i or b.kind != kind_b or id(b) in self.used or b.terr_m.area < 2e4
                        or not a.terr_m.buffer(1.0).intersects(b.terr_m)):
                    continue
                edge = _shared_edge(a.terr_m, b.terr_m)
                if edge is not None and edge.length >= min_edge:
                    candidates.append((i, j, edge))
        if not candidates:
            raise RuntimeError(f"no adjacent {kind_a}/{kind_b} parcels in {mosaic}")
        i, j, edge = candidates[int(self.rng.integers(len(candidates)))]
        a, b = parcels[i], parcels[j]
        self.used.update({id(a), id(b)})
        return a, b, edge

    def _pick_parcel(self, mosaic: str, kind: str, min_m2: float) -> Parcel:
        options = [p for p in self.mosaics[mosaic]["parcels"]
                   if p.kind == kind and id(p) not in self.used and p.terr_m.area >= min_m2]
        parcel = options[int(self.rng.integers(len(options)))]
        self.used.add(id(parcel))
        return parcel

    def _grow_into(self, a: Parcel, b: Parcel, edge: shapely.LineString, params: dict) -> None:
        """Extend parcel ``a`` across its shared edge into ``b``: a round lobe (``radius``) or
        a thin band along ``length`` metres of the edge; ``reach`` is measured from ``a``."""
        mid = edge.length / 2
        if "radius" in params:
            window = edge.interpolate(mid).buffer(params["radius"])
        else:
            half = params["length"] / 2
            window = substring(edge, mid - half, mid + half).buffer(
                params["reach"] + 3.0, cap_style="flat")
        grow = a.geom_m.buffer(params["reach"], join_style="mitre", mitre_limit=2.0)
        lobe = grow.intersection(window).intersection(a.terr_m.union(b.terr_m))
        a.geom_m = geo.largest_part(geo.union([a.geom_m, lobe]).buffer(0))

    def _set_owner(self, p: Parcel, individual: bool) -> None:
        village = p.attrs["village"]
        if individual:
            name = f"{SURNAMES[int(self.rng.integers(len(SURNAMES)))]}某某(个人)"
            p.attrs.update(owner=name, forest_type="用材林", forest_category="commercial",
                           public_welfare_level=None)
        else:
            p.attrs.update(owner=f"星海镇{village}村民委员会", forest_type="防护林",
                           forest_category="public_welfare", public_welfare_level="local")

    def _split_cell(self, parcel: Parcel, code: str) -> Cell:
        """Split the parcel's largest survey cell across its long axis; the half on one side
        becomes a survey patch of ``code``. Returns that patch."""
        cell = max(parcel.cells, key=lambda c: c.geom_m.area)
        g = cell.geom_m
        rect = g.minimum_rotated_rectangle
        xy = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
        axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        angle = float(np.arctan2(axis[1], axis[0]))
        c = g.centroid
        # A half-plane beyond the perpendicular through the centroid, along the long axis.
        half = geo.rect(c.x + 5000 * np.cos(angle), c.y + 5000 * np.sin(angle), 10000, 10000,
                        angle)
        new = geo.largest_part(g.intersection(half))
        keep = geo.polygonal(g.difference(half))
        cell.geom_m = keep
        other = Cell(new, code, cell.county, cell.owner)
        parcel.cells.append(other)
        self.cells.append(other)
        return other


def _shared_edge(a: BaseGeometry, b: BaseGeometry) -> shapely.LineString | None:
    """The longest stretch of boundary two touching territories share."""
    common = a.boundary.intersection(b.buffer(0.5))
    lines = [g for g in shapely.get_parts(common) if g.geom_type == "LineString"]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    parts = [g for g in shapely.get_parts(merged) if g.geom_type == "LineString"]
    return max(parts, key=lambda g: g.length)
