"""Siting reports a planner can file: HTML (self-contained, map embedded) and PDF."""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from gis.analysis.siting_runs import StoredRun
from gis.reports.mapimage import footprint_map_png
from gis.rules import load_profile

VERDICT_ZH = {
    "prohibited": "禁止",
    "justification_required": "需论证",
    "permitted_with_conditions": "有条件允许",
    "no_conflict": "无冲突",
}


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("gis.reports", "templates"),
                       autoescape=select_autoescape(["html"]))


def _map_png(run: StoredRun) -> bytes:
    r = run.result
    return footprint_map_png(r.footprint_geojson, [o.model_dump() for o in r.overlaps])


def siting_html(run: StoredRun) -> str:
    profile = load_profile(run.result.profile)
    documents = {key: doc.title_zh for key, doc in profile.documents.items()}
    return _environment().get_template("siting.html").render(
        run=run, r=run.result, verdict_zh=VERDICT_ZH, documents=documents,
        map_png=base64.b64encode(_map_png(run)).decode("ascii"),
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


def siting_pdf(run: StoredRun) -> bytes:
    """PDF with reportlab, the CJK font embedded (see :data:`CJK_FONT`)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName=_pdf_font(), fontSize=9, leading=13)
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=16, spaceBefore=6)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22)
    r = run.result
    profile = load_profile(r.profile)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), style)

    def table(rows: list[list], widths: list[float]) -> Table:
        t = Table([[p(str(c)) for c in row] for row in rows], colWidths=[w * mm for w in widths])
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
        return t

    story = [
        p("建设项目选址合规审查报告 Project siting compliance report", title),
        p(f"审查编号 {run.id}　时间 {run.created_at:%Y-%m-%d %H:%M} UTC　规则 {r.profile} "
          f"{r.profile_version}"),
        p(f"活动类别 {r.activity} {r.activity_zh}；新增建设用地："
          f"{'是' if r.new_construction_land else '否'}；"
          f"临时用地：{'是' if r.temporary else '否'}"),
        p(f"项目面积 {r.footprint_area.area_m2:,.2f} m² / {r.footprint_area.area_mu:,.2f} 亩 / "
          f"{r.footprint_area.area_ha:,.4f} ha"),
        p(f"结论 Verdict：{VERDICT_ZH[r.verdict]}（{r.verdict}）", head),
    ]
    if r.approval_path:
        a = r.approval_path
        story += [p("论证与审批路径 Approval path", head), table([
            ["组织", a.organizer_zh or "—"], ["审核", a.reviewer_zh or "—"],
            ["认定/审批", a.decider_zh or "—"], ["附件", a.document_zh]], [30, 140])]
    story += [p("地图 Map", head),
              Image(io.BytesIO(_map_png(run)), width=110 * mm, height=110 * mm)]
    story.append(p("叠加分析 Overlaps", head))
    rows = [["图层", "分区", "m²", "亩", "ha", "占比", "要素"]]
    for o in r.overlaps:
        rows.append([o.layer_zh, o.zone or "—", f"{o.area_m2:,.2f}", f"{o.area_mu:,.2f}",
                     f"{o.area_ha:,.4f}", f"{o.share:.1%}",
                     "；".join(f.key or "" for f in o.features)])
    story.append(table(rows, [28, 26, 24, 20, 20, 16, 36]) if r.overlaps
                 else p("未与管控图层重叠。"))
    story.append(p("适用规则 Rules", head))
    rows = [["规则", "结论", "条文与出处"]]
    for f in r.rules:
        doc = profile.documents[f.citation.document].title_zh
        rows.append([f.rule_id, VERDICT_ZH[f.verdict],
                     f"{f.text_zh}（{doc} {f.citation.section}；{f.citation.label()}）"])
    story.append(table(rows, [40, 20, 110]))
    if r.warnings:
        story.append(p("提示 Warnings", head))
        story += [p("· " + w.message_zh) for w in r.warnings]
    story += [Spacer(1, 6 * mm), p("面积为 CGCS2000 椭球面积。Areas are ellipsoidal (CGCS2000).")]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"Siting report {run.id}",
                      leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    return buffer.getvalue()
