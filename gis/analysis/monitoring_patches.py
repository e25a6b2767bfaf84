"""Building patches from changed pixels: merging across windows, EPSG:4490, clipping to zones.

Changed pixels are polygonized in pixel coordinates (integers), so fragments of one patch cut
by window edges share exact edges and merge (4-connectivity); only then are patches moved to
EPSG:4490 and clipped to the zone polygons, so a pixel half in the red line counts with the
half inside. Areas are ellipsoidal (:func:`gis.units.ellipsoidal_areas`) of the clipped
pieces; pieces below the profile's minimum are dropped. Part of
:mod:`gis.analysis.monitoring_detect`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from gis.analysis.monitoring_grid import Grid
from gis.crs import STORAGE_CRS, transformer
from gis.layers.validation import polygonal_part
from gis.messages import msg
from gis.progress import Progress
from gis.units import ellipsoidal_areas

__all__ = ["Piece", "ZoneFeature", "build_pieces"]


@dataclass(frozen=True)
class ZoneFeature:
    """A polygon changes are reported in: a red-line zone or a permanent basic farmland
    parcel (``layer``), in EPSG:4490."""

    layer: str
    key: str
    geometry: shapely.Geometry
    zone: str | None = None
    name: str | None = None
    feature_id: int | None = None
    county_code: str | None = None


@dataclass
class Piece:
    """A suspected change patch inside one zone feature."""

    layer: str
    feature: ZoneFeature
    kind: str
    to_class: str
    geometry: shapely.MultiPolygon
    area_m2: float
    #: Changed pixels of the patch that touch the zone (before clipping to it).
    patch_pixels: int
    #: ``"grassland->construction": pixels`` over the same pixels.
    transitions: dict[str, int]


def _pixels_to_storage(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Pixel-coordinate polygons -> raster CRS (affine) -> EPSG:4490."""
    t = grid.transform
    # Collinear vertices (left where window edges cut a patch) removed first, so a patch has
    # the same vertices however it was read; then long straight runs get vertices every 16
    # pixels, since they bend once reprojected.
    dense = shapely.segmentize(shapely.normalize(shapely.simplify(geoms, 0)), 16.0)
    in_grid = shapely.transform(dense, lambda xy: np.column_stack(
        (t.a * xy[:, 0] + t.b * xy[:, 1] + t.c, t.d * xy[:, 0] + t.e * xy[:, 1] + t.f)))
    source = pyproj.CRS.from_wkt(grid.crs.to_wkt())
    if source.equals(STORAGE_CRS, ignore_axis_order=True):
        return in_grid
    to_4490 = transformer(source, STORAGE_CRS)
    return shapely.transform(
        in_grid, lambda xy: np.column_stack(to_4490.transform(xy[:, 0], xy[:, 1])))


def _components(geoms: np.ndarray) -> list[np.ndarray]:
    """Groups of polygons connected through a shared edge (4-connectivity: a shared corner
    alone does not connect), by union-find over the touching pairs."""
    n = len(geoms)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n > 1:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        if len(left):
            shared = shapely.length(shapely.intersection(geoms[left], geoms[right])) > 0
            for i, j in zip(left[shared], right[shared], strict=True):
                ri, rj = find(int(i)), find(int(j))
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(n)])
    order = np.argsort(roots, kind="stable")
    splits = np.flatnonzero(np.diff(roots[order])) + 1
    return np.split(order, splits)


def build_pieces(frags: np.ndarray, frag_codes: np.ndarray, codes: list[str], grid: Grid,
                 zones: list[ZoneFeature], min_area: float, progress: Progress
                 ) -> list[Piece]:
    """Pixel-coordinate fragments (``frag_codes``: before * n + after + 1) -> merged
    patches -> pieces clipped to each zone they meet, sorted by layer, feature and place."""
    n = len(codes)
    from_idx, to_idx = (frag_codes - 1) // n, (frag_codes - 1) % n
    pixels = np.rint(shapely.area(frags)).astype(np.int64)  # pixel units: exact
    patches, patch_to, patch_pixels, patch_transitions = [], [], [], []
    progress.stage(msg("monitor.stage.merging"))
    for to in np.unique(to_idx):
        members = np.flatnonzero(to_idx == to)
        for group in _components(frags[members]):
            idx = members[group]
            geom = frags[idx[0]] if len(idx) == 1 else shapely.union_all(frags[idx])
            transitions: dict[str, int] = {}
            for f, p in zip(from_idx[idx], pixels[idx], strict=True):
                key = f"{codes[f]}->{codes[to]}"
                transitions[key] = transitions.get(key, 0) + int(p)
            patches.append(geom)
            patch_to.append(int(to))
            patch_pixels.append(int(pixels[idx].sum()))
            patch_transitions.append(transitions)
    storage = _pixels_to_storage(np.array(patches, dtype=object), grid)
    zone_geoms = np.array([z.geometry for z in zones], dtype=object)
    shapely.prepare(zone_geoms)
    p_idx, z_idx = shapely.STRtree(zone_geoms).query(storage, predicate="intersects")
    progress.stage(msg("monitor.stage.clipping"), len(p_idx))
    clipped = []
    for p, z in zip(p_idx, z_idx, strict=True):
        if shapely.contains_properly(zone_geoms[z], storage[p]):
            clipped.append(storage[p])
        else:
            clipped.append(polygonal_part(shapely.intersection(storage[p], zone_geoms[z])))
        progress.advance()
    if not clipped:
        return []
    areas = ellipsoidal_areas(np.array(clipped, dtype=object))
    out = []
    for p, z, geom, area in zip(p_idx, z_idx, clipped, areas, strict=True):
        if not area >= min_area:
            continue
        multi = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
        to_class = codes[patch_to[p]]
        out.append(Piece(layer=zones[z].layer, feature=zones[z], kind=f"new_{to_class}",
                         to_class=to_class, geometry=shapely.normalize(multi),
                         area_m2=float(area), patch_pixels=patch_pixels[p],
                         transitions=patch_transitions[p]))
    out.sort(key=lambda q: (q.layer, q.feature.key, q.kind, -q.geometry.centroid.y,
                            q.geometry.centroid.x))
    return out
