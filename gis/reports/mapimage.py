"""A small static map of a footprint and its overlaps, for reports (PNG, no tiles needed).

Overlap pieces take the catalogue's colours (``catalogue.yaml``, ``style``) exactly as the
siting page colours them (``OneMap.colorFor(layer, {zone: zone})``): the class colour of the
piece's zone where the layer is classified by zone, else the layer's colour. A report and the
page it was run from therefore show the same colours, and neither keeps a table of its own.
"""

from __future__ import annotations

import io
import math
from typing import Any

import shapely
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from shapely.geometry import shape

from gis.layers.catalogue import get_layer
from gis.messages import text

#: Fill opacity of overlap pieces: the footprint's outline and the grid stay readable.
PIECE_ALPHA = 0.6


def overlap_style(layer_id: str, zone: str | None) -> tuple[str, str]:
    """(colour, English legend label) of an overlap piece of ``layer_id`` in ``zone``; the
    label is the layer catalogue's layer and class names.

    English labels, as the figure's axes (``report.map_*`` in the catalogue): drawing Chinese
    needs matplotlib's global font settings changed (``gis.reports.charts.use_cjk_font``),
    which a report rendered in one of the API's worker threads should not do behind the
    others' backs."""
    style = get_layer(layer_id).style
    found = style.matching_class(zone) if style.field == "zone" else None
    label = f"{get_layer(layer_id).en}: {found.en}" if found else get_layer(layer_id).en
    return style.colour_for({"zone": zone}), label


def _draw(ax: Any, geom: shapely.Geometry, **style: Any) -> None:
    for polygon in getattr(geom, "geoms", [geom]):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        xs, ys = polygon.exterior.xy
        ax.fill(xs, ys, **style)


def footprint_map_figure(footprint: dict[str, Any], overlaps: list[dict[str, Any]],
                         size_px: int = 640) -> Figure:
    """The footprint (outline) over the overlap pieces in their catalogue colours; one legend
    entry per colour (a red line's core and general zones are two)."""
    # Figure without pyplot: no global state, safe in the API's worker threads.
    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
    ax = fig.subplots()
    seen: set[str] = set()
    for overlap in overlaps:
        colour, label = overlap_style(overlap["layer"], overlap.get("zone"))
        hatch = "//" if overlap.get("zone") == "core" else None
        _draw(ax, shape(overlap["geometry"]), facecolor=colour, edgecolor=colour,
              alpha=PIECE_ALPHA, hatch=hatch, label=None if label in seen else label)
        seen.add(label)
    fp = shape(footprint)
    for polygon in getattr(fp, "geoms", [fp]):
        xs, ys = polygon.exterior.xy
        ax.plot(xs, ys, color="black", linewidth=1.5)
    # Degrees of longitude are shorter than degrees of latitude by cos(latitude).
    ax.set_aspect(1 / max(0.2, math.cos(math.radians(fp.centroid.y))))
    ax.set_xlabel(text("report.map_longitude", "en"))
    ax.set_ylabel(text("report.map_latitude", "en"))
    ax.ticklabel_format(useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    if seen:
        ax.legend(loc="best", fontsize=8)
    ax.grid(True, linewidth=0.3)
    fig.tight_layout()
    return fig


def footprint_map_png(footprint: dict[str, Any], overlaps: list[dict[str, Any]],
                      size_px: int = 640) -> bytes:
    """PNG of :func:`footprint_map_figure`."""
    buffer = io.BytesIO()
    footprint_map_figure(footprint, overlaps, size_px).savefig(buffer, format="png")
    return buffer.getvalue()
