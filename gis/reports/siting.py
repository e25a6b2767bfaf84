"""Siting reports a planner can file: HTML (self-contained, map embedded) and PDF.

Chinese with English headings; every word is the catalogue's (``gis.reports.words``): no
verdict, zone or activity is printed as its code. A run judged again under later rules
(:mod:`gis.analysis.siting_reevaluate`) opens with a notice of the re-evaluation; the result
below it is the run's as it was given.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from gis.analysis.siting_models import ReevaluationNotice
from gis.analysis.siting_runs import StoredRun
from gis.reports.mapimage import footprint_map_png
from gis.reports.words import (
    Both,
    activity_name,
    document_title,
    label_both,
    layer_name,
    profile_title,
    unit,
    words,
    yes_no,
    zone_name,
)
from gis.rules import load_profile


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("gis.reports", "templates"),
                       autoescape=select_autoescape(["html"]))


def _map_png(run: StoredRun) -> bytes:
    r = run.result
    return footprint_map_png(r.footprint_geojson, [o.model_dump() for o in r.overlaps])


def siting_html(run: StoredRun, notice: ReevaluationNotice | None = None) -> str:
    """The report as one self-contained HTML page (the map embedded as a PNG), with the
    run's re-evaluation ``notice`` first when there is one."""
    r = run.result
    profile = load_profile(r.profile)
    return _environment().get_template("siting.html").render(
        run=run, r=r, w=words, verdict=label_both("verdict", r.verdict),
        verdict_of=lambda v: label_both("verdict", v), yes_no=yes_no, unit=unit,
        profile=profile_title(profile), activity=activity_name(profile, r.activity,
                                                               r.activity_zh),
        document=lambda key: document_title(profile, key), layer_name=layer_name,
        zone_name=zone_name, map_png=base64.b64encode(_map_png(run)).decode("ascii"),
        notice=notice,
    )


#: A CJK TrueType font embedded into PDFs (Debian package fonts-wqy-microhei, installed by
#: the set-up script). Without it, PDFs fall back to the non-embedded CID font STSong-Light,
#: which Acrobat substitutes but many viewers render as blanks.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT.exists():
        if "WenQuanYi" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("WenQuanYi", str(CJK_FONT), subfontIndex=0))
        return "WenQuanYi"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def siting_pdf_story(run: StoredRun, notice: ReevaluationNotice | None = None) -> list[Any]:
    """The PDF's flowables (paragraphs, tables, the map), in the order printed."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName=_pdf_font(), fontSize=9, leading=13)
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=16, spaceBefore=6)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22)
    r = run.result
    profile = load_profile(r.profile)

    def p(text: str | Both, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;"), style)

    def table(rows: list[list], widths: list[float]) -> Table:
        t = Table([[p(str(c)) for c in row] for row in rows], colWidths=[w * mm for w in widths])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
        return t

    def zh(key: str, **params: Any) -> str:
        return words(key, **params).zh

    area = r.footprint_area
    verdict = label_both("verdict", r.verdict)
    m2, mu, ha = unit("m2").en, unit("mu").zh, unit("ha").en
    story = [
        p(words("title"), title),
        *([p(words("reevaluation"), head), p(notice.message_zh), p(notice.message_en)]
          if notice else []),
        p(f"{zh('run')} {run.id}　{zh('time')} {run.created_at:%Y-%m-%d %H:%M} UTC　"
          f"{zh('profile')} {profile_title(profile).zh} {r.profile_version}"),
        p(f"{zh('activity')} {r.activity} {activity_name(profile, r.activity, r.activity_zh).zh}"
          f"；{zh('new_land')}：{yes_no(r.new_construction_land).zh}；"
          f"{zh('temporary')}：{yes_no(r.temporary).zh}"),
        p(f"{zh('footprint')} {area.area_m2:,.2f} {m2} / {area.area_mu:,.2f} {mu} / "
          f"{area.area_ha:,.4f} {ha}"),
        p(f"{words('verdict')}：{verdict.zh}（{verdict.en}）", head),
    ]
    if r.approval_path:
        a = r.approval_path
        story += [p(words("approval_path"), head), table([
            [zh("organizer"), a.organizer_zh or "—"], [zh("reviewer"), a.reviewer_zh or "—"],
            [zh("decider"), a.decider_zh or "—"], [zh("document"), a.document_zh]], [30, 140])]
    story += [p(words("map"), head),
              Image(io.BytesIO(_map_png(run)), width=110 * mm, height=110 * mm)]
    story.append(p(words("overlaps"), head))
    rows = [[zh("layer"), zh("zone"), m2, mu, ha, zh("share"), zh("features")]]
    for o in r.overlaps:
        rows.append([layer_name(o.layer, o.layer_zh).zh, zone_name(o.layer, o.zone).zh,
                     f"{o.area_m2:,.2f}", f"{o.area_mu:,.2f}", f"{o.area_ha:,.4f}",
                     f"{o.share:.1%}", "；".join(f.key or "" for f in o.features)])
    story.append(table(rows, [28, 26, 24, 20, 20, 16, 36]) if r.overlaps
                 else p(zh("no_overlap")))
    story.append(p(words("rules"), head))
    rows = [[zh("rule"), zh("verdict"), zh("rule_source")]]
    for f in r.rules:
        doc = document_title(profile, f.citation.document).zh
        rows.append([f.rule_id, label_both("verdict", f.verdict).zh,
                     f"{f.text_zh}（{doc} {f.citation.section}；{f.citation.label()}）"])
    story.append(table(rows, [40, 20, 110]))
    if r.warnings:
        story.append(p(words("warnings"), head))
        story += [p("· " + w.message_zh) for w in r.warnings]
    story += [Spacer(1, 6 * mm), p(words("areas_note"))]
    return story


def siting_pdf(run: StoredRun, notice: ReevaluationNotice | None = None) -> bytes:
    """PDF with reportlab, the CJK font embedded (see :data:`CJK_FONT`)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"{words('title').en} {run.id}",
                      leftMargin=18 * mm, rightMargin=18 * mm).build(siting_pdf_story(run, notice))
    return buffer.getvalue()
