"""Geometry helpers for the sample generator: a metric frame, shapes, partitions, exact areas.

Shapes are drawn in metres in CGCS2000 / 3-degree Gauss-Kruger CM 105E (EPSG:4544) and moved to
EPSG:4490 for storage; every area that ends up in ``planted.yaml`` is measured afterwards on the
stored lon/lat geometry with :func:`gis.units.geodesic_area`, never in the drawing plane.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pyproj
import shapely
import shapely.affinity
from shapely.geometry.base import BaseGeometry

from gis.units import geodesic_area

METRIC_EPSG = 4544  # CGCS2000 / 3-degree Gauss-Kruger CM 105E (4543 is CM 102E)
STORAGE_EPSG = 4490

_TO_M = pyproj.Transformer.from_crs(STORAGE_EPSG, METRIC_EPSG, always_xy=True)
_TO_DEG = pyproj.Transformer.from_crs(METRIC_EPSG, STORAGE_EPSG, always_xy=True)

#: Pieces smaller than this (m²) left by clipping are dropped rather than kept as crumbs.
MIN_PART_M2 = 50.0


def _apply(transformer: pyproj.Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return fn


_FN_M = _apply(_TO_M)
_FN_DEG = _apply(_TO_DEG)


def to_m(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4490 lon/lat -> metres (EPSG:4544)."""
    return shapely.transform(geom, _FN_M)


def to_deg(geom: BaseGeometry) -> BaseGeometry:
    """Metres (EPSG:4544) -> EPSG:4490 lon/lat."""
    return shapely.transform(geom, _FN_DEG)


def xy_m(lon: float, lat: float) -> tuple[float, float]:
    x, y = _TO_M.transform(lon, lat)
    return float(x), float(y)


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_DEG.transform(x, y)
    return float(lon), float(lat)


def line_m(points_deg: Sequence[tuple[float, float]]) -> shapely.LineString:
    return shapely.LineString([xy_m(*p) for p in points_deg])


def poly_m(points_deg: Sequence[tuple[float, float]]) -> shapely.Polygon:
    return shapely.Polygon([xy_m(*p) for p in points_deg])


def area_m2(geom_deg: BaseGeometry) -> float:
    """Ellipsoidal area of a lon/lat geometry, m²."""
    return geodesic_area(geom_deg).m2


def polygonal(geom: BaseGeometry, min_part_m2: float = MIN_PART_M2) -> BaseGeometry:
    """The polygon parts of ``geom`` (planar metres) larger than ``min_part_m2``."""
    parts = [p for p in shapely.get_parts(geom)
             if p.geom_type == "Polygon" and p.area >= min_part_m2]
    for p in shapely.get_parts(geom):
        if p.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(shapely.get_parts(polygonal(p, min_part_m2)))
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def largest_part(geom: BaseGeometry) -> shapely.Polygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not parts:
        return shapely.Polygon()
    return max(parts, key=lambda p: p.area)


def blob(rng: np.random.Generator, cx: float, cy: float, radius: float,
         vertices: int = 28, roughness: float = 0.18, stretch: float = 1.0,
         angle: float = 0.0) -> shapely.Polygon:
    """A smooth irregular closed shape (metres) around (cx, cy)."""
    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    # A few low harmonics keep it blob-like instead of star-like.
    r = np.ones_like(t)
    for k in (2, 3, 5):
        r += roughness / k * rng.normal() * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r = np.clip(r, 0.45, None) * radius
    x, y = r * np.cos(t) * stretch, r * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    pts = np.column_stack([cx + ca * x - sa * y, cy + sa * x + ca * y])
    return shapely.make_valid(shapely.Polygon(pts)).buffer(0)


def rect(cx: float, cy: float, width: float, height: float, angle: float = 0.0) -> shapely.Polygon:
    """A rectangle (metres) centred on (cx, cy), rotated by ``angle`` radians."""
    hw, hh = width / 2, height / 2
    pts = np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
    ca, sa = np.cos(angle), np.sin(angle)
    return shapely.Polygon(np.column_stack([cx + ca * pts[:, 0] - sa * pts[:, 1],
                                            cy + sa * pts[:, 0] + ca * pts[:, 1]]))


def strip(a: tuple[float, float], b: tuple[float, float], width: float) -> shapely.Polygon:
    """A rectangle of ``width`` along the segment a-b (metres), flat ends."""
    return shapely.LineString([a, b]).buffer(width / 2, cap_style="flat", join_style="mitre")


def random_points(rng: np.random.Generator, region: BaseGeometry, n: int,
                  min_spacing: float = 0.0) -> np.ndarray:
    """``n`` points inside ``region`` (rejection sampling, optional minimum spacing)."""
    minx, miny, maxx, maxy = region.bounds
    shape = shapely.from_wkb(shapely.to_wkb(region))  # a private copy to prepare
    shapely.prepare(shape)
    pts: list[tuple[float, float]] = []
    tries = 0
    while len(pts) < n and tries < n * 400:
        tries += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(shape, x, y):
            continue
        if min_spacing and pts:
            arr = np.asarray(pts)
            if np.min(np.hypot(arr[:, 0] - x, arr[:, 1] - y)) < min_spacing:
                continue
        pts.append((x, y))
    return np.asarray(pts)


def balanced_seeds(rng: np.random.Generator, region: BaseGeometry, n: int) -> np.ndarray:
    """``n`` seeds whose Voronoi cells split ``region`` into parts of similar size (k-means on
    random sample points, a few Lloyd iterations)."""
    pts = random_points(rng, region, 60 * n)
    order = np.lexsort((pts[:, 0], pts[:, 1]))
    centres = pts[order[np.linspace(0, len(pts) - 1, n).astype(int)]].copy()
    for _ in range(25):
        d = np.hypot(pts[:, None, 0] - centres[None, :, 0], pts[:, None, 1] - centres[None, :, 1])
        nearest = np.argmin(d, axis=1)
        for k in range(n):
            members = pts[nearest == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    return centres


def spatial_order(geoms: Sequence[BaseGeometry], band: float = 1500.0) -> list[int]:
    """Indices ordered north to south in bands of ``band`` metres, west to east inside a band:
    the usual numbering order of compartments and survey patches."""
    pts = [g.representative_point() for g in geoms]
    return sorted(range(len(geoms)), key=lambda i: (-np.floor(pts[i].y / band), pts[i].x))


def voronoi_cells(region: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` clipped to ``region``, in seed order (empty cells dropped)."""
    if len(seeds) == 0:
        return []
    points = shapely.MultiPoint(seeds)
    diagram = shapely.voronoi_polygons(points, extend_to=region.buffer(1000))
    cells = list(shapely.get_parts(diagram))
    # voronoi_polygons does not keep seed order: match each cell to the seed it contains.
    by_seed: list[BaseGeometry | None] = [None] * len(seeds)
    tree = shapely.STRtree(cells)
    for i, (x, y) in enumerate(seeds):
        for j in tree.query(shapely.Point(x, y), predicate="intersects"):
            by_seed[i] = cells[j]
            break
    out = []
    for cell in by_seed:
        if cell is None:
            continue
        clipped = polygonal(cell.intersection(region))
        if not clipped.is_empty:
            out.append(clipped)
    return out


def partition(region: BaseGeometry, rng: np.random.Generator, mean_cell_m2: float,
              min_spacing_frac: float = 0.45) -> list[BaseGeometry]:
    """Split ``region`` into Voronoi cells of about ``mean_cell_m2`` each."""
    n = max(1, round(region.area / mean_cell_m2))
    spacing = min_spacing_frac * np.sqrt(mean_cell_m2)
    seeds = random_points(rng, region, n, spacing)
    return voronoi_cells(region, seeds)


def inset(geom: BaseGeometry, distance: float) -> BaseGeometry:
    """Shrink by ``distance`` metres keeping corners sharp; crumbs dropped."""
    return polygonal(geom.buffer(-distance, join_style="mitre", mitre_limit=3.0))


def scale_about(geom: BaseGeometry, factor: float,
                origin: tuple[float, float] | None = None) -> BaseGeometry:
    c = origin or (geom.centroid.x, geom.centroid.y)
    return shapely.affinity.scale(geom, factor, factor, origin=c)


def fit_area(geom_m: BaseGeometry, target_m2: float, rel_tol: float = 1e-9,
             origin: tuple[float, float] | None = None) -> BaseGeometry:
    """Scale a metric shape about ``origin`` until its stored (EPSG:4490) ellipsoidal area is
    ``target_m2`` within ``rel_tol``. Returns the metric shape."""
    origin = origin or (geom_m.centroid.x, geom_m.centroid.y)
    current = geom_m
    for _ in range(12):
        area = area_m2(to_deg(current))
        if abs(area - target_m2) <= rel_tol * target_m2:
            break
        current = scale_about(current, float(np.sqrt(target_m2 / area)), origin)
    return current


def fit_clipped_area(make: Callable[[float], BaseGeometry], target_m2: float,
                     lo: float, hi: float, rel_tol: float = 1e-6) -> tuple[BaseGeometry, float]:
    """Bisect a size parameter so that ``area(make(p))`` (EPSG:4490 area of a metric shape)
    hits ``target_m2``; for shapes that are clipped, where plain scaling is not exact."""
    geom = make(hi)
    for _ in range(80):
        mid = (lo + hi) / 2
        geom = make(mid)
        area = area_m2(to_deg(geom))
        if abs(area - target_m2) <= rel_tol * target_m2:
            return geom, mid
        if area < target_m2:
            lo = mid
        else:
            hi = mid
    return geom, (lo + hi) / 2


def as_multi(geom: BaseGeometry) -> shapely.MultiPolygon:
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    return shapely.MultiPolygon(list(shapely.get_parts(polygonal(geom, 0.0))))


def union(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    items = [g for g in geoms if g is not None and not g.is_empty]
    if not items:
        return shapely.Polygon()
    return shapely.union_all(items)


def segment_distance(x: np.ndarray, y: np.ndarray, line: shapely.LineString) -> np.ndarray:
    """Distance (metres) from each point to a polyline, vectorised in numpy."""
    coords = np.asarray(line.coords)
    best = np.full(x.shape, np.inf)
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        best = np.minimum(best, np.hypot(x - (x0 + t * dx), y - (y0 + t * dy)))
    return best


def checked(geom: BaseGeometry, what: str) -> BaseGeometry:
    """``geom`` itself, or an error naming ``what`` when it is empty or invalid: a generated
    feature the loader would repair or refuse must stop the build instead."""
    if geom.is_empty or not geom.is_valid:
        raise RuntimeError(f"generated {what} is invalid: {shapely.is_valid_reason(geom)}")
    return geom
