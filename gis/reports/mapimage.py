"""The report map: the footprint over the control lines and division outlines around it,
with legend, scale bar, north arrow, CGCS2000 graticule labels and a locator inset.

Colours are the catalogue's (``catalogue.yaml``, ``style``), exactly as the portal draws
them: an overlap piece takes ``colour_for({"zone": zone})`` as the siting page does
(``OneMap.colorFor(layer, {zone: zone})``), a surrounding feature its style field's class
colour as the viewer does; the footprint is the siting page's blue dashed outline. The
legend is in the report's language (the catalogue's layer and class names), drawn with the
CJK font passed to each text (``FontProperties``), never through matplotlib's global
settings, which a report rendered in one of the API's worker threads must not change behind
the others' backs. ``context`` is what :func:`gis.layers.surroundings.map_context` read; a
map without it shows the run alone.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pyproj
import shapely
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from shapely.geometry import box, shape

from gis.layers.catalogue import get_layer
from gis.layers.surroundings import MapContext, map_frame
from gis.messages import Lang, text
from gis.reports.fonts import CJK_FONT

#: Fill opacity of overlap pieces and of the control lines around them.
PIECE_ALPHA = 0.6
CONTEXT_ALPHA = 0.22
#: The siting page's footprint outline.
FOOTPRINT_COLOUR = "#1f78b4"
GEOD = pyproj.Geod(ellps="GRS80")


def _font() -> FontProperties | None:
    return FontProperties(fname=str(CJK_FONT)) if CJK_FONT.exists() else None


def layer_label(layer_id: str, value: str | None, lang: Lang, by_zone: bool = False) -> str:
    """A legend label: the layer's name, with its class's where the layer is classified."""
    layer = get_layer(layer_id)
    style = layer.style
    found = None
    if style.field and (not by_zone or style.field == "zone"):
        found = style.matching_class(value)
    title = layer.en if lang == "en" else layer.zh
    if not found:
        return title
    return f"{title}: {found.en}" if lang == "en" else f"{title}：{found.zh}"


def overlap_style(layer_id: str, zone: str | None, lang: Lang = "en") -> tuple[str, str]:
    """(colour, legend label) of an overlap piece of ``layer_id`` in ``zone``."""
    style = get_layer(layer_id).style
    return style.colour_for({"zone": zone}), layer_label(layer_id, zone, lang, by_zone=True)


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.geom_type == "Polygon" and not part.is_empty:
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out += _polygons(part)
    return out


def _fill(ax: Any, geom: shapely.Geometry, **style: Any) -> None:
    for polygon in _polygons(geom):
        xs, ys = polygon.exterior.xy
        ax.fill(xs, ys, **style)


def _outline(ax: Any, geom: shapely.Geometry, **style: Any) -> None:
    for polygon in _polygons(geom):
        for ring in (polygon.exterior, *polygon.interiors):
            xs, ys = ring.xy
            ax.plot(xs, ys, **style)


def _dms(value: float, positive: str, negative: str) -> str:
    sign = positive if value >= 0 else negative
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    whole = round(minutes)
    if abs(minutes - whole) < 0.05:
        degrees, whole = (degrees + 1, 0) if whole == 60 else (degrees, whole)
        return f"{degrees}°{whole:02d}′{sign}"
    return f"{degrees}°{minutes:04.1f}′{sign}"


def _nice(length: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above ``length``."""
    power = 10 ** math.floor(math.log10(length))
    return max(s * power for s in (1, 2, 5) if s * power <= length)


def frame_axes(ax: Any, frame: tuple[float, float, float, float], lang: Lang,
               font: FontProperties | None, ticks: int = 4) -> None:
    """The map frame every printed map shares (review report, map print): the extent at
    the right aspect for its latitude, a CGCS2000 graticule labelled in degrees and minutes,
    a scale bar and a north arrow, in the report's language."""
    minx, miny, maxx, maxy = frame
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    # Degrees of longitude are shorter than degrees of latitude by cos(latitude).
    ax.set_aspect(1 / max(0.2, math.cos(math.radians((miny + maxy) / 2))))
    ax.xaxis.set_major_locator(MaxNLocator(ticks))
    ax.yaxis.set_major_locator(MaxNLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _dms(v, "E", "W")))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _dms(v, "N", "S")))
    ax.tick_params(labelsize=7, top=True, right=True)
    ax.grid(True, linewidth=0.3, color="#999999")
    ax.set_xlabel(text("report.map_graticule", lang), fontsize=7, fontproperties=font)
    _scale_bar(ax, frame, lang, font)
    _north_arrow(ax, lang, font)


def _scale_bar(ax: Any, frame: tuple[float, float, float, float], lang: Lang,
               font: FontProperties | None) -> None:
    minx, miny, maxx, maxy = frame
    lat = miny + (maxy - miny) * 0.06
    width_m = GEOD.inv(minx, lat, maxx, lat)[2]
    length = _nice(width_m / 4)
    x0 = minx + (maxx - minx) * 0.05
    deg = length / width_m * (maxx - minx)
    for i, colour in enumerate(("black", "white")):
        ax.plot([x0 + i * deg / 2, x0 + (i + 1) * deg / 2], [lat, lat], color=colour,
                linewidth=4, solid_capstyle="butt", zorder=30)
    ax.plot([x0, x0 + deg], [lat, lat], color="black", linewidth=5.6,
            solid_capstyle="butt", zorder=29)
    shown = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    label = text("report.map_scale", lang, length=shown)
    ax.text(x0 + deg / 2, lat + (maxy - miny) * 0.015, label, ha="center", va="bottom",
            fontsize=7, fontproperties=font, zorder=30,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1})


def _north_arrow(ax: Any, lang: Lang, font: FontProperties | None) -> None:
    ax.annotate("", xy=(0.94, 0.95), xytext=(0.94, 0.85), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 10}, zorder=30)
    ax.text(0.94, 0.955, text("report.map_north", lang), transform=ax.transAxes,
            ha="center", va="bottom", fontsize=9, fontweight="bold", fontproperties=font,
            zorder=30)


def _locator(ax: Any, context: MapContext, frame: tuple[float, float, float, float],
             lang: Lang, font: FontProperties | None) -> None:
    inset = ax.inset_axes((0.012, 0.70, 0.28, 0.28))
    inset.set_facecolor("white")
    shapes = [shape(f.geometry) for f in context.locator]
    for geom in shapes:
        _fill(inset, geom, facecolor="#eeeeee", edgecolor="#666666", linewidth=0.4)
    area = box(*frame)
    whole = shapely.union_all([*shapes, area]).bounds
    pad = max(whole[2] - whole[0], whole[3] - whole[1]) * 0.08
    inset.set_xlim(whole[0] - pad, whole[2] + pad)
    inset.set_ylim(whole[1] - pad, whole[3] + pad)
    xs, ys = area.exterior.xy
    inset.plot(xs, ys, color="#d7191c", linewidth=1.2)
    inset.plot([area.centroid.x], [area.centroid.y], marker="s", color="#d7191c", markersize=3)
    inset.set_aspect(1 / max(0.2, math.cos(math.radians(area.centroid.y))))
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_title(text("report.map_locator", lang), fontsize=6, fontproperties=font, pad=2)


def footprint_map_figure(footprint: dict[str, Any], overlaps: list[dict[str, Any]],
                         size_px: int = 640, context: MapContext | None = None,
                         lang: Lang = "zh") -> Figure:
    """The report map as a matplotlib figure (no pyplot: no global state)."""
    font = _font()
    fig = Figure(figsize=(size_px / 100, size_px / 100 * 1.12), dpi=100)
    ax = fig.add_axes((0.1, 0.2, 0.86, 0.76))
    frame = context.frame if context else map_frame(footprint)
    legend: dict[str, Any] = {}
    for f in (context.features if context else []):
        if f.layer == "admin_divisions":
            continue
        style = get_layer(f.layer).style
        colour = style.colour_for({style.field: f.value} if style.field else None)
        _fill(ax, shape(f.geometry), facecolor=colour, edgecolor=colour, linewidth=0.4,
              alpha=CONTEXT_ALPHA)
        label = layer_label(f.layer, f.value, lang)
        legend.setdefault(label, Patch(facecolor=colour, edgecolor=colour,
                                       alpha=CONTEXT_ALPHA + 0.2))
    for overlap in overlaps:
        colour, label = overlap_style(overlap["layer"], overlap.get("zone"), lang)
        hatch = "//" if overlap.get("zone") == "core" else None
        _fill(ax, shape(overlap["geometry"]), facecolor=colour, edgecolor=colour,
              alpha=PIECE_ALPHA, hatch=hatch)
        legend.setdefault(label, Patch(facecolor=colour, edgecolor=colour, alpha=PIECE_ALPHA,
                                       hatch=hatch))
    divisions = get_layer("admin_divisions").style
    inside = box(*frame)
    for f in (context.features if context else []):
        geom = shape(f.geometry)
        if f.layer != "admin_divisions" or not geom.boundary.intersects(inside):
            continue  # an outline outside the frame is neither drawn nor in the legend
        district = f.value == "district"
        colour = divisions.colour_for({"level": f.value})
        _outline(ax, geom, color=colour, linewidth=1.4 if district else 0.8,
                 linestyle=(0, (6, 3)) if district else (0, (4, 2, 1, 2)), zorder=20)
        legend.setdefault(layer_label("admin_divisions", f.value, lang), Line2D(
            [], [], color=colour, linewidth=1.4 if district else 0.8,
            linestyle=(0, (6, 3)) if district else (0, (4, 2, 1, 2))))
        if f.name and not district and geom.area > 0:
            point = geom.representative_point()
            ax.text(point.x, point.y, f.name, fontsize=7, color="#444444", ha="center",
                    fontproperties=font, zorder=21, clip_on=True)
    _outline(ax, shape(footprint), color=FOOTPRINT_COLOUR, linewidth=2, linestyle=(0, (4, 3)),
             zorder=25)
    footprint_label = text("report.map_footprint", lang)
    handles = {footprint_label: Line2D([], [], color=FOOTPRINT_COLOUR, linewidth=2,
                                       linestyle=(0, (4, 3))), **legend}
    frame_axes(ax, frame, lang, font)
    if context and context.locator:
        _locator(ax, context, frame, lang, font)
    ax.legend(list(handles.values()), list(handles), loc="upper center",
              bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False,
              prop=FontProperties(fname=str(CJK_FONT), size=7) if font else {"size": 7})
    return fig


def footprint_map_png(footprint: dict[str, Any], overlaps: list[dict[str, Any]],
                      size_px: int = 640, context: MapContext | None = None,
                      lang: Lang = "zh", dpi: int = 100) -> bytes:
    """PNG of :func:`footprint_map_figure` (``dpi`` 200 for print)."""
    buffer = io.BytesIO()
    footprint_map_figure(footprint, overlaps, size_px, context, lang).savefig(
        buffer, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()
