"""A small static map of a footprint and its overlaps, for reports (PNG, no tiles needed)."""

from __future__ import annotations

import io
import math
from typing import Any

import shapely
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from shapely.geometry import shape

#: Colours per layer: the conventional ones of Chinese planning maps where there is one.
LAYER_COLOURS = {
    "eco_redline": "#d7191c",
    "basic_farmland": "#fdae61",
    "cultivated_land": "#ffffbf",
    "urban_boundary": "#2c7bb6",
}
LAYER_LABELS = {
    "eco_redline": "Ecological red line",
    "basic_farmland": "Permanent basic farmland",
    "cultivated_land": "Cultivated land",
    "urban_boundary": "Urban development boundary",
}


def _draw(ax: Any, geom: shapely.Geometry, **style: Any) -> None:
    for polygon in getattr(geom, "geoms", [geom]):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        xs, ys = polygon.exterior.xy
        ax.fill(xs, ys, **style)


def footprint_map_png(footprint: dict[str, Any], overlaps: list[dict[str, Any]],
                      size_px: int = 640) -> bytes:
    """PNG of the footprint (outline) over the overlap pieces coloured by layer."""
    # Figure without pyplot: no global state, safe in the API's worker threads.
    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    ax = fig.subplots()
    seen = set()
    for overlap in overlaps:
        layer = overlap["layer"]
        colour = LAYER_COLOURS.get(layer, "#999999")
        label = LAYER_LABELS.get(layer, layer) if layer not in seen else None
        seen.add(layer)
        hatch = "//" if overlap.get("zone") == "core" else None
        _draw(ax, shape(overlap["geometry"]), facecolor=colour, edgecolor=colour, alpha=0.6,
              hatch=hatch, label=label)
    fp = shape(footprint)
    for polygon in getattr(fp, "geoms", [fp]):
        xs, ys = polygon.exterior.xy
        ax.plot(xs, ys, color="black", linewidth=1.5)
    # Degrees of longitude are shorter than degrees of latitude by cos(latitude).
    ax.set_aspect(1 / max(0.2, math.cos(math.radians(fp.centroid.y))))
    ax.set_xlabel("Longitude (CGCS2000)")
    ax.set_ylabel("Latitude")
    ax.ticklabel_format(useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    if seen:
        ax.legend(loc="best", fontsize=8)
    ax.grid(True, linewidth=0.3)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
