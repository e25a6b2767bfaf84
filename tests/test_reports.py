"""The siting report: one HTML template shown as a page and printed to PDF (WeasyPrint), in
the reader's language, with the project's fields, Beijing time, numbered approval steps, the
cited rules with their documents' titles, the overlaps by Chinese zone names, a real map,
page numbers and a signature block. Checked as a reader sees it: the page's visible text, and
the PDF's text extracted with pypdf, page by page. No code (``general``,
``justification_required``, ``redline_opinions``, ``True``) reaches a reader."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pypdf
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from api.app import create_app
from gis.analysis.siting_models import AdvisoryModel, AreaOut, Overlap, RuleFinding, SitingResult
from gis.analysis.siting_runs import ProjectInfo, StoredRun
from gis.layers.catalogue import get_layer
from gis.layers.versions import bases as _bases
from gis.messages import _messages, label, label_groups
from gis.reports.siting import siting_html, siting_pdf
from gis.reports.tables import COLUMNS, COLUMNS_BY_ROW, headers
from gis.reports.words import zone_name
from gis.rules import load_profile
from gis.units import geodesic_area

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "gis" / "reports"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: (layer, zone, the zone's Chinese name in the layer catalogue)
PIECES = (("eco_redline", "core", "核心保护区"), ("eco_redline", "general", "一般控制区"),
          ("urban_boundary", "centralized_construction", "集中建设区"),
          ("cultivated_land", "paddy", "水田"), ("basic_farmland", None, "—"))
#: (rule, verdict): every verdict once
RULES = (("redline.core_zone", "prohibited"), ("redline.general_zone", "justification_required"),
         ("farmland.siting_preference", "permitted_with_conditions"),
         ("udb.centralized_construction", "no_conflict"))
PROJECT = ProjectInfo(project_code="2024-640202-48-01-000123", project_name="星海镇供水管网工程",
                      applicant="大武口区水务局", purpose="供水设施")
VERSIONS = [{"layer": "eco_redline", "version": 2, "basis": "approval",
             "document_no": "宁政发〔2023〕12号", "approved_by": "国务院",
             "effective_date": "2023-06-30"}]


def forbidden_codes(prose: bool = False) -> set[str]:
    """Codes a reader must never see: every enum value of the groups a report shows, every
    class and coded value of the layers a siting check overlays that is not a word, and the
    profiles' document keys. With ``prose`` (a real run's English rule summaries, where
    "core zone" is a word) only what cannot be a word: codes with an underscore or a digit,
    and Python's booleans."""
    codes = {v for g in ("verdict", "activity_category", "unit", "boolean")
             for v in label_groups()[g]}
    for layer_id in {layer for layer, _, _ in PIECES}:
        layer = get_layer(layer_id)
        codes |= {c.value for c in layer.style.classes}
        codes |= {v for f in layer.fields for v in (f.values or {})}
    codes |= set(load_profile("ningxia").documents) | set(_bases())
    words = {label(g, v, "en") for g, values in label_groups().items() for v in values}
    if prose:
        codes = {c for c in codes if re.search(r"[_0-9]", c)} | {"true", "false"}
    return {c for c in codes if c not in words or "_" in c} | {"True", "False", "None"}


def raw_codes(text: str, codes: set[str]) -> list[str]:
    """The codes standing alone in ``text``."""
    return sorted(c for c in codes
                  if re.search(rf"(?<![A-Za-z0-9_.]){re.escape(c)}(?![A-Za-z0-9_.])", text))


def synthetic_run(pieces: int = 1, versions: list | None = None) -> StoredRun:
    """A run overlapping every kind of zone (``pieces`` times each), with a finding of every
    verdict, a path and a warning: built without a database, so every label is exercised."""
    profile = load_profile("ningxia")
    foot = box(106.20, 39.00, 106.25, 39.03)
    overlaps = []
    for n in range(pieces):
        for i, (layer, zone, _) in enumerate(PIECES):
            piece = box(106.20 + i * 0.01, 39.0 + n * 0.0005, 106.208 + i * 0.01,
                        39.0005 + n * 0.0005)
            area = geodesic_area(piece)
            overlaps.append(Overlap(layer=layer, layer_zh=get_layer(layer).zh, zone=zone,
                                    **area.as_dict(), share=0.2, features=[],
                                    geometry=mapping(piece)))
    rules = [RuleFinding(rule_id=rule_id, verdict=verdict, text_zh=profile.rules[rule_id].text_zh,
                         summary_en="Rule summary.", citation=profile.rules[rule_id].citation,
                         conditions=profile.rules[rule_id].conditions)
             for rule_id, verdict in RULES]
    activity, category = profile.activity("NMP1")
    result = SitingResult(
        verdict="justification_required", profile="ningxia", profile_version=profile.version,
        activity="NMP1", activity_zh=activity.zh, category=category,
        new_construction_land=True, temporary=False,
        footprint_area=AreaOut.of(geodesic_area(foot)), footprint_crs="EPSG:4490",
        overlaps=overlaps, rules=rules,
        approval_path=profile.justification_path(category, True, False),
        warnings=[AdvisoryModel(code="good_land", message_zh="占用优质耕地。",
                                message_en="Good land is occupied.")],
        footprint_geojson=mapping(foot))
    return StoredRun(id="r-test", created_at=datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
                     inputs={}, result=result, requested_by="planner-a", project=PROJECT,
                     control_line_versions=versions)


def visible_text(html: str) -> str:
    """What a reader of the page sees: text only, no tags, attributes or styles."""
    doc = lxml.html.fromstring(html)
    for element in doc.xpath("//style|//script"):
        element.drop_tree()
    return " ".join(doc.itertext())


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF, as pypdf extracts it."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_html_report_shows_labels_not_codes() -> None:
    run = synthetic_run(versions=VERSIONS)
    html = siting_html(run)
    seen = visible_text(html)
    assert raw_codes(seen, forbidden_codes()) == []
    doc = lxml.html.fromstring(html)
    rows = doc.xpath("//table[@id='overlaps']//tbody/tr")
    zones = [row.xpath("td")[1].text_content() for row in rows]
    assert zones == [zh for _, _, zh in PIECES]
    assert [li.xpath("b")[0].text_content() for li in doc.xpath("//ol[@id='rules']/li")] == \
        [label("verdict", v, "zh") for _, v in RULES]
    assert doc.xpath("//*[@id='verdict']")[0].text_content() == "需专题论证"
    for value in (PROJECT.project_name, PROJECT.project_code, PROJECT.applicant, PROJECT.purpose,
                  "2024-05-01 16:30（北京时间）", "planner-a", "宁政发〔2023〕12号"):
        assert value in seen
    title = load_profile("ningxia").documents["redline_opinions"].title_zh
    assert f"《{title}》" in seen and "redline_opinions" not in seen
    steps = [li.text_content() for li in doc.xpath("//ol[@id='approval-steps']/li")]
    path = load_profile("ningxia").justification_path("national_major", True, False)
    assert steps[-1] == f"报批材料：{path.document_zh}" and len(steps) >= 2
    assert "审查意见" in seen and "审核人" in seen
    assert load_profile("ningxia").activity("NMP1")[0].zh in seen


def test_english_report_is_english() -> None:
    run = synthetic_run()
    seen = visible_text(siting_html(run, lang="en"))
    activity = load_profile("ningxia").activity("NMP1")[0]
    assert activity.en in seen and activity.zh not in seen
    assert "justification required" in seen and "需专题论证" not in seen
    assert "2024-05-01 16:30 (Beijing time, UTC+8)" in seen
    assert "Ecological protection red line" in seen and "core" in seen
    assert "Review opinion" in seen
    # Chinese stays only in the project's own fields, quotes of the rules and bodies' names
    assert raw_codes(seen, forbidden_codes(prose=True)) == []


def test_pdf_is_the_page_printed() -> None:
    """Text extracted from the PDF: project fields, Beijing time, "第 N 页 共 M 页" on every
    page, Chinese zone names, the overlaps table's header repeated on each page it spans."""
    run = synthetic_run(pieces=14, versions=VERSIONS)
    data = siting_pdf(run)
    assert data.startswith(b"%PDF")
    pages = pdf_pages(data)
    assert len(pages) >= 3
    text = "\n".join(pages)
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 共 {len(pages)} 页" in page
    flat = re.sub(r"\s+", "", text)  # lines wrap inside table cells
    for value in (PROJECT.project_name, PROJECT.project_code, PROJECT.applicant,
                  "2024-05-01 16:30（北京时间）", "需专题论证", "审查意见", "宁政发〔2023〕12号"):
        assert value.replace(" ", "") in flat
    for _, _, zh in PIECES[:-1]:
        assert zh in text
    assert raw_codes(text, forbidden_codes()) == []
    table_pages = [p for p in pages if "一般控制区" in p]
    assert len(table_pages) >= 2
    assert all("涉及要素" in p for p in table_pages)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "siting-report.pdf").write_bytes(data)


def test_pdf_in_english_has_page_numbers() -> None:
    pages = pdf_pages(siting_pdf(synthetic_run(), lang="en"))
    for n, page in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in page
    text = re.sub(r"\s+", " ", "\n".join(pages))
    assert "justification required" in text and "需专题论证" not in text
    assert "2024-05-01 16:30 (Beijing time, UTC+8)" in text and "Review opinion" in text


def test_control_lines_without_versions_show_a_dash() -> None:
    doc = lxml.html.fromstring(siting_html(synthetic_run()))
    cells = {th.text_content(): th.getnext().text_content()
             for th in doc.xpath("//table[@id='title-block']//th") if th.getnext() is not None}
    assert cells["管控线版本"] == "—"
    with_versions = lxml.html.fromstring(siting_html(synthetic_run(versions=VERSIONS)))
    cells = {th.text_content(): th.getnext().text_content()
             for th in with_versions.xpath("//table[@id='title-block']//th")
             if th.getnext() is not None}
    shown = cells["管控线版本"]
    assert shown.startswith("生态保护红线：2 版") and "approval" not in shown
    assert "依据：" + _basis_zh("approval") in shown
    assert "国务院" in shown and "2023-06-30" in shown


def _basis_zh(key: str) -> str:
    return _bases()[key].zh


def test_every_report_word_is_in_the_catalogue() -> None:
    template = (REPORTS / "templates" / "siting.html").read_text(encoding="utf-8")
    template = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    used = set(re.findall(r"\bt\('([a-z_.]+)'", template))
    source = (REPORTS / "siting_view.py").read_text(encoding="utf-8")
    used |= set(re.findall(r"_t\(lang, [\"']([a-z_.]+)[\"']", source))
    assert len(used) > 30, "no report words found: the patterns above are out of date"
    messages = _messages()
    assert sorted(key for key in used if f"report.{key}" not in messages) == []


def test_zone_names_come_from_the_layer_catalogue() -> None:
    for layer, zone, zh in PIECES:
        assert zone_name(layer, zone).zh == zh
    assert zone_name("urban_boundary", "special_use").en == "special use"
    assert zone_name("no_such_layer", "x").zh == "x"


def test_xlsx_headers_come_from_the_catalogue() -> None:
    zh, en = headers("zh"), headers("en")
    assert set(zh) == set(en) == set(COLUMNS)
    assert zh["share"] == "机动指标占比" and zh["compliant"] == "是否符合"
    assert headers("zh", "TownshipReserve")["share"] == "预留指标占比"
    assert all(CJK.search(h) for h in zh.values())
    assert not any(CJK.search(h) for h in en.values())
    for row_type, fields in COLUMNS_BY_ROW.items():
        assert set(fields) <= set(COLUMNS), row_type


def test_report_of_a_real_run(settings, layers, role_keys) -> None:
    """Through the API on the test layers: a justification-required run in Dawukou, its map
    drawn over the district and the red line around it; the PDF in the caller's language."""
    body = {"geometry": mapping(box(106.23, 39.005, 106.24, 39.01)), "crs": "CRS84",
            "activity": "NMP3", "new_construction_land": True, "profile": "dawukou",
            "project_name": "沟口道路工程", "project_code": "2024-640202-48-01-000777",
            "applicant": "大武口区交通运输局", "purpose": "乡村道路"}
    with TestClient(create_app(settings), headers=role_keys["planner"]) as client:
        run = client.post("/api/v1/analysis/siting", json=body)
        assert run.status_code == 201, run.text
        assert run.json()["verdict"] == "justification_required"
        base = f"/api/v1/analysis/siting/{run.json()['id']}"
        html = client.get(f"{base}/report.html")
        pdf = client.get(f"{base}/report.pdf")
        english = client.get(f"{base}/report.pdf", headers={"Accept-Language": "en"})
        forced = client.get(f"{base}/report.html?lang=en")
        forestry = client.get(f"{base}/report.pdf", headers=role_keys["forestry"])
    seen = visible_text(html.text)
    assert "需专题论证" in seen and "沟口道路工程" in seen
    assert raw_codes(seen, forbidden_codes(prose=True)) == []
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = pdf_pages(pdf.content)
    assert "沟口道路工程" in re.sub(r"\s+", "", pages[0])
    assert f"第 1 页 共 {len(pages)} 页" in pages[0]
    assert "Page 1 of" in pdf_pages(english.content)[0]
    assert "justification required" in visible_text(forced.text)
    assert forestry.status_code == 403


@pytest.mark.parametrize("key", ["title", "verdict", "no_overlap", "generated", "page_of"])
def test_report_words_have_both_languages(key: str) -> None:
    texts = _messages()[f"report.{key}"]
    assert CJK.search(texts["zh"]) and not CJK.search(texts["en"])
