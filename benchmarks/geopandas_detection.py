"""The reconciliation's detection written in plain geopandas, as an analyst without One-Map
would: the yardstick for what ``gis.analysis.forest_grass.detect`` does beyond the single
forest x grass overlay the issue compares it with.

Same kinds and rules as ``sql/forest_grass_detect.sql`` (the Ningxia profile's classes,
tolerances and sliver test): forest x grassland overlaps, forest and grassland against the
survey classes, ownership overlaps inside each layer, missing owners and certificates,
certificate areas off the map. Pieces get ellipsoidal areas
(``gis.units.ellipsoidal_areas``); the sliver width uses ellipsoidal perimeters
(``ellipsoidal_perimeters``, the measure the SQL uses; a Gauss-Kruger perimeter disagreed on
one piece in 1,000,000 parcels). Pairs that only touch are dropped with ``shapely.touches``
before intersecting, as the SQL does, so both sides get the same trick. Nothing is written
anywhere: this is the scan only, without the work list, attributes or township lookups.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.rules import load_profile
from gis.units import GEOD, M2_PER_MU, ellipsoidal_areas


def _pieces(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame, same_layer: bool,
            owner_differs: bool) -> np.ndarray:
    """Polygonal intersections of the pairs whose interiors meet."""
    li, ri = right.sindex.query(left.geometry.values, predicate="intersects")
    if same_layer:
        keep = li < ri
        li, ri = li[keep], ri[keep]
    if owner_differs:
        lo = left["owner"].fillna("").to_numpy()[li]
        ro = right["owner"].fillna("").to_numpy()[ri]
        li, ri = li[lo != ro], ri[lo != ro]
    a, b = left.geometry.values[li], right.geometry.values[ri]
    inner = ~shapely.touches(a, b)
    pieces = shapely.intersection(a[inner], b[inner])
    types = shapely.get_type_id(pieces)
    polygons = np.isin(types, (3, 6))
    # Collections (polygon plus a shared edge) keep their polygon parts, like
    # ST_CollectionExtract(..., 3).
    mixed = np.flatnonzero(types == 7)
    for k in mixed:
        parts = [g for g in shapely.get_parts(pieces[k]) if shapely.get_type_id(g) in (3, 6)]
        if parts:
            pieces[k] = shapely.multipolygons(parts)
            polygons[k] = True
    pieces = pieces[polygons]
    return pieces[~shapely.is_empty(pieces)]


def ellipsoidal_perimeters(pieces: np.ndarray) -> np.ndarray:
    """Perimeters (m) on the CGCS2000/GRS80 ellipsoid, as PostGIS's
    ``ST_Perimeter(geography, true)`` measures them: every ring's segments as geodesics,
    vectorised (pyproj's ``Geod.inv`` on arrays). A Gauss-Kruger planar perimeter (zone 35,
    EPSG:4544) was used first and put one 1,000,000-parcel piece on the other side of the
    sliver width from the detection's measure."""
    lines, owner = shapely.get_parts(shapely.boundary(pieces), return_index=True)
    coords, line = shapely.get_coordinates(lines, return_index=True)
    same = line[1:] == line[:-1]
    _, _, dist = GEOD.inv(coords[:-1, 0][same], coords[:-1, 1][same],
                          coords[1:, 0][same], coords[1:, 1][same])
    per_line = np.bincount(line[1:][same], weights=dist, minlength=len(lines))
    return np.bincount(owner, weights=per_line, minlength=len(pieces))


def detect_with_geopandas(path: Path) -> dict[str, int]:
    """Findings per kind for the layers in the GeoPackage at ``path``."""
    profile = load_profile("ningxia").reconciliation
    classes = profile.land_use_classes
    survey = gpd.read_file(path, layer="survey_patches", engine="pyogrio")
    forest = gpd.read_file(path, layer="forest_parcels", engine="pyogrio")
    grass = gpd.read_file(path, layer="grassland_parcels", engine="pyogrio")
    first_level = survey["land_use_code"].str[:2]
    not_forest = survey[first_level.isin(
        classes["grassland"] + classes["cultivated"] + classes["construction"])]
    not_grass = survey[first_level.isin(
        classes["forest"] + classes["cultivated"] + classes["construction"])]
    overlaps = {
        "forest_grass_overlap": _pieces(forest, grass, False, False),
        "class_mismatch": np.concatenate([_pieces(forest, not_forest, False, False),
                                          _pieces(grass, not_grass, False, False)]),
        "ownership_overlap": np.concatenate([_pieces(forest, forest, True, True),
                                             _pieces(grass, grass, True, True)]),
    }
    counts: dict[str, int] = {"sliver": 0}
    for kind, pieces in overlaps.items():
        area = ellipsoidal_areas(pieces)
        perimeter = ellipsoidal_perimeters(pieces)
        sliver = (area < profile.min_mapping_m2) | (perimeter <= 0) | (
            2 * area / np.where(perimeter > 0, perimeter, 1) < profile.sliver_max_width_m)
        counts[kind] = int((~sliver).sum())
        counts["sliver"] += int(sliver.sum())
    for layer in (forest, grass):
        owner = layer["owner"].fillna("").str.strip()
        certificate = layer["certificate_no"].fillna("").str.strip()
        mapped = layer["area_m2"] if "area_m2" in layer else pd.Series(
            ellipsoidal_areas(layer.geometry.values), index=layer.index)
        off = (layer["certificate_area_mu"].notna() & (
            (layer["certificate_area_mu"] * M2_PER_MU - mapped).abs()
            > profile.certificate_tolerance * mapped))
        for kind, flags in (("missing_owner", owner == ""),
                            ("missing_certificate", certificate == ""),
                            ("certificate_mismatch", off)):
            counts[kind] = counts.get(kind, 0) + int(flags.sum())
    return {kind: n for kind, n in sorted(counts.items()) if n}
