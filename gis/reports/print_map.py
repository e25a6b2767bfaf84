"""Print the viewer's map (issue 23, the workbench's 打印 tool): the visible catalogue layers
in a bbox, with title, legend, scale bar, north arrow and CGCS2000 graticule, on an A4 or A3
page, as PDF or PNG.

It is drawn through the same path as the siting report, so a printed map and a report map
cannot disagree: the colours, legend labels (in the request's language), scale bar, north
arrow and graticule are :mod:`gis.reports.mapimage`'s, the PDF is an HTML page printed by
WeasyPrint (``templates/print_map.html``, the CJK font embedded). The PDF's legend is HTML
text beside the map picture (so it can be searched and copied); the PNG carries the legend
in the picture. Each control line is read in its version in force today
(:func:`gis.layers.versions.version_condition`), never two versions of one line. Who may
print which layer is decided by the caller's role here too (:func:`gis.auth.can_read`), not
only by the API in front of it.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import shapely
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from shapely.geometry import shape
from sqlalchemy import Engine, func, literal, select

from gis.auth import can_read, layer_sensitivity
from gis.errors import Forbidden, InvalidParameter
from gis.layers.catalogue import Layer, get_layer
from gis.layers.schema import table_for
from gis.layers.versions import version_condition
from gis.messages import DEFAULT_LANG, Lang, msg, text
from gis.reports.fonts import CJK_FONT
from gis.reports.mapimage import (
    CONTEXT_ALPHA,
    _fill,
    _font,
    _outline,
    _polygons,
    frame_axes,
    layer_label,
)

Paper = Literal["A4", "A3"]
Orientation = Literal["portrait", "landscape"]
Format = Literal["pdf", "png"]
#: ISO 216 sheets, millimetres (portrait: width, height).
PAPERS: dict[str, tuple[int, int]] = {"A4": (210, 297), "A3": (297, 420)}
#: Page margin (mm) and the share of the printable height the map takes in the PDF.
MARGIN_MM = 12
MAP_SHARE = 0.78
#: PNG and embedded-map resolution.
DPI = 150
#: Most features read per layer: a print of a dense layer at a wide view is capped, not slow.
MAX_FEATURES = 5000
#: Simplification: the bbox's width over this (under a printed pixel at A3 and 150 dpi).
DETAIL = 3000.0
#: Fill opacity of printed layers (the viewer's default fill is light too).
FILL_ALPHA = 0.45
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: its label in the print's language, colour, and whether the
    layer is drawn as outlines (administrative divisions) or fills."""

    label: str
    colour: str
    outline: bool


def check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``bbox`` (CRS84 min lon, min lat, max lon, max lat) if finite, in range and not empty."""
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox):
        raise InvalidParameter(msg("print.bad_bbox"), parameter="bbox")
    minx, miny, maxx, maxy = bbox
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise InvalidParameter(msg("print.bad_bbox"), parameter="bbox")
    return (float(minx), float(miny), float(maxx), float(maxy))


def readable(layer_ids: list[str], role: str,
             overrides: dict[str, str] | None = None) -> list[Layer]:
    """The layers, in the order given, if ``role`` may read every one (unknown ids raise
    :class:`gis.errors.UnknownLayer`)."""
    layers = [get_layer(i) for i in dict.fromkeys(layer_ids)]
    for layer in layers:
        if not can_read(role, layer_sensitivity(layer, overrides)):
            raise Forbidden(msg("print.layer_forbidden", layer=layer.id))
    return layers


def _read(engine: Engine, layers: list[Layer], bbox: tuple[float, float, float, float]
          ) -> dict[str, list[tuple[str | None, Any]]]:
    """Layer id -> [(style value, shapely geometry)] inside ``bbox``, clipped to it."""
    minx, miny, maxx, maxy = bbox
    clip = func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4490)
    tolerance = (maxx - minx) / DETAIL
    out: dict[str, list[tuple[str | None, Any]]] = {}
    with engine.connect() as conn:
        for layer in layers:
            table = table_for(layer)
            field = layer.style.field
            value = table.c[field] if field else literal(None)
            geom = func.ST_AsGeoJSON(func.ST_Intersection(
                func.ST_SimplifyPreserveTopology(table.c.geom, tolerance), clip), 7)
            query = (select(value.label("value"), geom.label("geometry"))
                     .where(func.ST_Intersects(table.c.geom, clip), version_condition(layer))
                     .limit(MAX_FEATURES))
            rows = conn.execute(query).all()
            out[layer.id] = [(None if r.value is None else str(r.value),
                              shape(json.loads(r.geometry))) for r in rows]
    return out


def _draw(ax: Any, layers: list[Layer], read: dict[str, list[tuple[str | None, Any]]],
          lang: Lang) -> list[LegendEntry]:
    """Draw the layers bottom to top (the request lists them top first, as the layer panel
    does) and return the legend, top layer first."""
    per_layer: dict[str, dict[str, LegendEntry]] = {}
    for z, layer in enumerate(reversed(layers)):
        style = layer.style
        outline = layer.id == "admin_divisions"
        legend = per_layer.setdefault(layer.id, {})
        for value, geom in read[layer.id]:
            colour = style.colour_for({style.field: value} if style.field else None)
            if shapely.is_empty(geom) or not _polygons(geom):
                continue
            if outline:
                _outline(ax, geom, color=colour, linewidth=0.9, zorder=20 + z)
            else:
                _fill(ax, geom, facecolor=colour, edgecolor=colour, linewidth=0.4,
                      alpha=FILL_ALPHA, zorder=2 + z)
            label = layer_label(layer.id, value, lang)
            legend.setdefault(label, LegendEntry(label, colour, outline))
        if not legend:  # a visible layer with nothing in view is still named in the legend
            label = layer_label(layer.id, None, lang)
            legend[label] = LegendEntry(label, style.colour_for(None), outline)
    return [e for layer in layers for e in per_layer[layer.id].values()]


def _frame(ax: Any, bbox: tuple[float, float, float, float], lang: Lang,
           font: FontProperties | None) -> None:
    frame_axes(ax, bbox, lang, font, ticks=5)


def fit_bbox(bbox: tuple[float, float, float, float], ratio: float
             ) -> tuple[float, float, float, float]:
    """``bbox`` grown about its centre to the map frame's height/width ``ratio`` on the
    ground, so the whole view is printed and the frame is filled (as a GIS print layout does)
    rather than the sheet left half empty when the screen and the paper differ in shape."""
    minx, miny, maxx, maxy = bbox
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    squeeze = max(0.2, math.cos(math.radians(cy)))  # ground width of a degree of longitude
    dx, dy = maxx - minx, maxy - miny
    if dy / (dx * squeeze) < ratio:
        dy = ratio * dx * squeeze
    else:
        dx = dy / (ratio * squeeze)
    return (max(-180.0, cx - dx / 2), max(-90.0, cy - dy / 2),
            min(180.0, cx + dx / 2), min(90.0, cy + dy / 2))


def page_mm(paper: Paper, orientation: Orientation) -> tuple[int, int]:
    """(width, height) of the sheet in millimetres."""
    w, h = PAPERS[paper]
    return (h, w) if orientation == "landscape" else (w, h)


def map_figure(engine: Engine, bbox: tuple[float, float, float, float], layers: list[Layer],
               title: str, paper: Paper, orientation: Orientation, lang: Lang,
               with_legend: bool
               ) -> tuple[Figure, list[LegendEntry], tuple[float, float, float, float]]:
    """The map as a figure: the whole sheet for PNG (title and legend drawn in), the map's
    share of the printable area for the PDF (title and legend are the page's text); with the
    legend and the extent printed (``bbox`` fitted to the frame)."""
    font = _font()
    w_mm, h_mm = page_mm(paper, orientation)
    w_mm, h_mm = w_mm - 2 * MARGIN_MM, h_mm - 2 * MARGIN_MM
    if not with_legend:
        h_mm = h_mm * MAP_SHARE
    fig = Figure(figsize=(w_mm / MM_PER_INCH, h_mm / MM_PER_INCH), dpi=DPI)
    rect = (0.08, 0.2, 0.88, 0.72) if with_legend else (0.07, 0.07, 0.9, 0.9)
    ax = fig.add_axes(rect)
    bbox = fit_bbox(check_bbox(bbox), (h_mm * rect[3]) / (w_mm * rect[2]))
    legend = _draw(ax, layers, _read(engine, layers, bbox), lang)
    _frame(ax, bbox, lang, font)
    if with_legend:
        fig.suptitle(title, fontsize=16, fontproperties=font, y=0.97)
        handles = [Line2D([], [], color=e.colour, linewidth=1.2) if e.outline else
                   Patch(facecolor=e.colour, edgecolor=e.colour, alpha=CONTEXT_ALPHA + 0.3)
                   for e in legend]
        ax.legend(handles, [e.label for e in legend], loc="upper center",
                  bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=True,
                  title=text("print.legend", lang),
                  title_fontproperties=FontProperties(fname=str(CJK_FONT), size=8)
                  if font else None,
                  prop=FontProperties(fname=str(CJK_FONT), size=7) if font else {"size": 7})
    return fig, legend, bbox


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("gis.reports", "templates"),
                       autoescape=select_autoescape(["html"]))


def print_map(engine: Engine, bbox: tuple[float, float, float, float], layer_ids: list[str],
              title: str, paper: Paper = "A4", orientation: Orientation = "portrait",
              lang: Lang = DEFAULT_LANG, fmt: Format = "pdf", role: str = "public",
              overrides: dict[str, str] | None = None) -> bytes:
    """The printed map as PDF or PNG bytes; ``role`` must be allowed to read every layer."""
    bbox = check_bbox(bbox)
    if paper not in PAPERS:
        raise InvalidParameter(msg("print.bad_paper", paper=paper), parameter="paper")
    layers = readable(layer_ids, role, overrides)
    fig, legend, printed = map_figure(engine, bbox, layers, title, paper, orientation, lang,
                             with_legend=fmt == "png")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    if fmt == "png":
        return buffer.getvalue()
    from weasyprint import HTML

    h_mm = page_mm(paper, orientation)[1]
    html = _environment().get_template("print_map.html").render(
        lang=lang, title=title, legend=legend, paper=paper, orientation=orientation,
        margin=MARGIN_MM, map_height=round((h_mm - 2 * MARGIN_MM) * MAP_SHARE, 1),
        map_png=base64.b64encode(buffer.getvalue()).decode("ascii"),
        legend_title=text("print.legend", lang),
        note=text("print.note", lang, bbox=", ".join(f"{v:.6f}" for v in printed)))
    return HTML(string=html).write_pdf()
