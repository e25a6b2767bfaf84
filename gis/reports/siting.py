"""The siting report a planner files: one HTML template (``templates/siting.html``) shown as
a page and printed to PDF by WeasyPrint, so the two cannot drift apart.

The report is in one language (Chinese by default, English on request): its words are the
catalogue's, its values prepared by :mod:`gis.reports.siting_view`. The PDF has the CJK font
embedded (Debian ``fonts-wqy-microhei``, found by fontconfig through Pango), page numbers
"第 N 页 共 M 页" from the page's CSS, and table headers repeated on every page. A run
judged again under later rules (:mod:`gis.analysis.siting_reevaluate`) opens with a notice
of the re-evaluation; the result below it is the run's as it was given. The map is drawn by
:mod:`gis.reports.mapimage` from what :func:`gis.layers.surroundings.map_context` read; the
report itself reads no database.
"""

from __future__ import annotations

import base64
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from gis.analysis.siting_models import ReevaluationNotice
from gis.analysis.siting_runs import StoredRun
from gis.layers.surroundings import MapContext
from gis.messages import DEFAULT_LANG, Lang
from gis.reports.fonts import CJK_FONT
from gis.reports.mapimage import footprint_map_png
from gis.reports.siting_view import view
from gis.reports.words import words

__all__ = ["CJK_FONT", "siting_html", "siting_pdf"]

#: Print resolution of the map (dots per inch of its 165 mm width).
MAP_DPI = 200


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("gis.reports", "templates"),
                       autoescape=select_autoescape(["html"]))


def _map_png(run: StoredRun, context: MapContext | None, lang: Lang) -> bytes:
    r = run.result
    return footprint_map_png(r.footprint_geojson, [o.model_dump() for o in r.overlaps],
                             context=context, lang=lang, dpi=MAP_DPI)


def siting_html(run: StoredRun, notice: ReevaluationNotice | None = None,
                lang: Lang = DEFAULT_LANG, context: MapContext | None = None) -> str:
    """The report as one self-contained HTML page in ``lang`` (the map embedded as a PNG),
    with the run's re-evaluation ``notice`` first when there is one."""
    values = view(run, notice, lang)
    png = base64.b64encode(_map_png(run, context, lang)).decode("ascii")
    return _environment().get_template("siting.html").render(
        **values, map_png=png, t=lambda key, **params: words(key, **params).of(lang))


def siting_pdf(run: StoredRun, notice: ReevaluationNotice | None = None,
               lang: Lang = DEFAULT_LANG, context: MapContext | None = None) -> bytes:
    """The same page printed to PDF (A4) by WeasyPrint."""
    from weasyprint import HTML

    html = siting_html(run, notice, lang, context)
    return HTML(string=html).write_pdf()
