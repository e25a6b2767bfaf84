"""The siting report and the spreadsheets read their words from the catalogue: headings from
report.yaml in both languages, verdicts, units and yes/no from labels.yaml, activities and
documents from the rule profile, layers and zones from the layer catalogue, and no code
(``general``, ``justification_required``, ``True``) reaches a reader, in HTML or PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from api.app import create_app
from gis.analysis.siting_models import AdvisoryModel, AreaOut, Overlap, RuleFinding, SitingResult
from gis.analysis.siting_runs import StoredRun
from gis.layers.catalogue import get_layer
from gis.messages import _messages, label, label_groups
from gis.reports.siting import siting_html, siting_pdf, siting_pdf_story
from gis.reports.tables import COLUMNS, COLUMNS_BY_ROW, headers
from gis.reports.words import zone_name
from gis.rules import load_profile
from gis.units import geodesic_area

REPORTS = Path(__file__).resolve().parent.parent / "gis" / "reports"
CJK = re.compile(r"[\u4e00-\u9fff]")
#: (layer, zone, the zone's Chinese name in the layer catalogue)
PIECES = (("eco_redline", "core", "核心保护区"), ("eco_redline", "general", "一般控制区"),
          ("urban_boundary", "centralized_construction", "集中建设区"),
          ("cultivated_land", "paddy", "水田"), ("basic_farmland", None, "—"))
#: (rule, verdict): every verdict once
RULES = (("redline.core_zone", "prohibited"), ("redline.general_zone", "justification_required"),
         ("farmland.siting_preference", "permitted_with_conditions"),
         ("udb.centralized_construction", "no_conflict"))


def forbidden_codes(prose: bool = False) -> set[str]:
    """Codes a reader must never see: every enum value of the groups a report shows, and every
    class and coded value of the layers a siting check overlays, that is not a word. With
    ``prose`` (a real run's English rule summaries, where "core zone" or "limited human
    activities" are words) only what cannot be a word: codes with an underscore or a digit,
    and Python's booleans."""
    codes = {v for g in ("verdict", "activity_category", "unit", "boolean")
             for v in label_groups()[g]}
    for layer_id in {layer for layer, _, _ in PIECES}:
        layer = get_layer(layer_id)
        codes |= {c.value for c in layer.style.classes}
        codes |= {v for f in layer.fields for v in (f.values or {})}
    # What reads the same as its English label (a verdict "prohibited", a unit "mu") may stand
    # in English text; a code with an underscore or a Python boolean never may.
    words = {label(g, v, "en") for g, values in label_groups().items() for v in values}
    if prose:
        codes = {c for c in codes if re.search(r"[_0-9]", c)} | {"true", "false"}
    return {c for c in codes if c not in words or "_" in c} | {"True", "False", "None"}


def raw_codes(text: str, codes: set[str]) -> list[str]:
    """The codes standing alone in ``text`` (in 核心区core too, not inside a rule id such as
    ``redline.core_zone``, which is the profile's name of a rule, cited as such)."""
    return sorted(c for c in codes
                  if re.search(rf"(?<![A-Za-z0-9_.]){re.escape(c)}(?![A-Za-z0-9_.])", text))


def synthetic_run() -> StoredRun:
    """A run overlapping every kind of zone, with a finding of every verdict, a path, a
    warning: built without a database, so every label is exercised."""
    profile = load_profile("ningxia")
    foot = box(106.20, 39.00, 106.25, 39.03)
    overlaps = []
    for i, (layer, zone, _) in enumerate(PIECES):
        piece = box(106.20 + i * 0.01, 39.0, 106.208 + i * 0.01, 39.03)
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
                     inputs={}, result=result)


def visible_text(html: str) -> str:
    """What a reader of the page sees: text only, no tags, attributes or styles."""
    doc = lxml.html.fromstring(html)
    for element in doc.xpath("//style|//script"):
        element.drop_tree()
    return " ".join(doc.itertext())


def story_text(story: list) -> str:
    """The text of the PDF's flowables (reportlab's input: a subset CJK font makes the PDF's
    own text unreadable without a PDF library)."""
    from reportlab.platypus import Paragraph, Table

    parts = []
    for flowable in story:
        if isinstance(flowable, Paragraph):
            parts.append(flowable.text)
        elif isinstance(flowable, Table):
            parts += [cell.text for row in flowable._cellvalues for cell in row]
    return "\n".join(parts)


def test_html_report_shows_labels_not_codes() -> None:
    run = synthetic_run()
    html = siting_html(run)
    seen = visible_text(html)
    assert raw_codes(seen, forbidden_codes()) == []
    doc = lxml.html.fromstring(html)
    overlaps = doc.xpath("//h2[contains(., 'Overlaps')]/following-sibling::table[1]//tr")
    assert [row.xpath("td")[1].text_content() for row in overlaps[1:]] == \
        [zh for _, _, zh in PIECES]
    rules = doc.xpath("//h2[contains(., 'Rules')]/following-sibling::table[1]//tr")
    assert [row.xpath("td")[1].text_content() for row in rules[1:]] == \
        [label("verdict", v, "zh") for _, v in RULES]
    # Chinese with English headings, both from the catalogue
    for key in ("title", "verdict", "overlaps", "rules", "approval_path", "warnings"):
        assert _messages()[f"report.{key}"]["zh"] in seen
        assert _messages()[f"report.{key}"]["en"] in seen
    assert "需专题论证 — justification required" in seen
    assert "宁夏回族自治区" in seen and "Ningxia Hui Autonomous Region" in seen  # profile title
    assert load_profile("ningxia").activity("NMP1")[0].zh in seen
    assert "是 yes" in seen and "否 no" in seen


def test_pdf_report_shows_labels_not_codes() -> None:
    run = synthetic_run()
    text = story_text(siting_pdf_story(run))
    assert raw_codes(text, forbidden_codes()) == []
    for _, _, zh in PIECES:
        assert zh in text
    assert "结论 Verdict：需专题论证（justification required）" in text
    assert "新增建设用地：是" in text and "临时用地：否" in text
    assert "宁夏回族自治区" in text
    assert siting_pdf(run).startswith(b"%PDF")


def test_every_report_word_is_in_the_catalogue() -> None:
    used = set()
    template = (REPORTS / "templates" / "siting.html").read_text(encoding="utf-8")
    template = re.sub(r"\{#.*?#\}", "", template, flags=re.S)  # not its comment
    used |= set(re.findall(r"\bw\('([a-z_]+)'", template))
    source = (REPORTS / "siting.py").read_text(encoding="utf-8")
    used |= set(re.findall(r"\b(?:words|zh)\([\"']([a-z_]+)[\"']", source))
    assert used, "no report words found: the patterns above are out of date"
    messages = _messages()
    missing = sorted(key for key in used if f"report.{key}" not in messages)
    assert missing == []
    for key in used:
        assert {"zh", "en"} <= set(messages[f"report.{key}"])


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


def test_report_of_a_real_run_has_no_raw_code(settings, layers, role_keys) -> None:
    """Through the API on the test layers: a justification-required run in Dawukou."""
    body = {"geometry": mapping(box(106.23, 39.005, 106.24, 39.01)), "crs": "CRS84",
            "activity": "NMP3", "new_construction_land": True, "profile": "dawukou"}
    with TestClient(create_app(settings), headers=role_keys["planner"]) as client:
        run = client.post("/api/v1/analysis/siting", json=body)
        assert run.status_code == 201, run.text
        assert run.json()["verdict"] == "justification_required"
        html = client.get(f"/api/v1/analysis/siting/{run.json()['id']}/report.html")
        pdf = client.get(f"/api/v1/analysis/siting/{run.json()['id']}/report.pdf")
    seen = visible_text(html.text)
    assert "需专题论证" in seen and "justification_required" not in seen
    assert raw_codes(seen, forbidden_codes(prose=True)) == []
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("key", ["title", "verdict", "no_overlap", "generated"])
def test_report_words_have_both_languages(key: str) -> None:
    texts = _messages()[f"report.{key}"]
    assert CJK.search(texts["zh"]) and not CJK.search(texts["en"])
