"""The workbench's print tool (issue 23): POST /api/v1/print renders the visible layers of a
view as an A4/A3 PDF or PNG through the report map's path (gis/reports/print_map.py), and
the portal's 打印 button downloads it. Checked over HTTP against the sample one-map: the
PDF's text (pypdf) has the title and the legend's layer names in the request's language, its
page is the paper asked for; the PNG decodes at the sheet's proportions; bad requests and
restricted layers without the right key are refused."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import text

from api.app import create_app
from gis.layers.catalogue import get_layer
from gis.reports.print_map import DPI, MARGIN_MM, PAPERS
from tests.test_portal import (  # noqa: F401 - the fixtures, one set for this module
    Server,
    browser,
    portal_db,
    server,
    visit,
)

PT_PER_MM = 72 / 25.4
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PUBLIC = ["admin_divisions", "urban_boundary", "cultivated_land"]


@pytest.fixture(scope="module")
def client(settings, portal_db):  # noqa: F811
    app = create_app(settings.with_changes(api={"rate_limit_per_minute": 100_000}))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def keys(portal_db) -> dict[str, dict[str, str]]:  # noqa: F811
    return {role: {"X-API-Key": key} for role, key in portal_db[1].items()}


@pytest.fixture(scope="module")
def view(portal_db) -> list[float]:  # noqa: F811
    """A view around the sample red line's core zone (the layers have features there)."""
    with portal_db[0].connect() as conn:
        row = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Expand(ST_Extent(geom)::geometry, 0.02) AS e FROM eco_redline) s")).one()
    return [float(v) for v in row]


def pdf_text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages), reader


@pytest.mark.parametrize(("lang", "paper", "orientation"),
                         [("zh", "A4", "portrait"), ("en", "A3", "landscape")])
def test_pdf_has_title_legend_and_paper(client, keys, view, lang, paper, orientation) -> None:
    layers = ["eco_redline", *PUBLIC]
    title = "银川市兴庆区 管控底线 2026" if lang == "zh" else "Xingqing control lines 2026"
    started = time.monotonic()
    r = client.post("/api/v1/print", json={
        "bbox": view, "layers": layers, "title": title, "paper": paper,
        "orientation": orientation, "format": "pdf"},
        headers={**keys["planner"], "Accept-Language": lang})
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert f"{paper.lower()}-{orientation}.pdf" in r.headers["content-disposition"]
    body, reader = pdf_text(r.content)
    assert len(reader.pages) == 1
    squashed = body.replace(" ", "").replace("\n", "")
    assert title.replace(" ", "") in squashed
    for layer_id in layers:
        layer = get_layer(layer_id)
        name = layer.en if lang == "en" else layer.zh
        assert name.replace(" ", "") in squashed, (name, body)
    other = get_layer("cultivated_land").zh if lang == "en" else "Cultivated land"
    assert other.replace(" ", "") not in squashed  # the legend is in one language
    w, h = PAPERS[paper]
    if orientation == "landscape":
        w, h = h, w
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(w * PT_PER_MM, abs=1)
    assert float(box.height) == pytest.approx(h * PT_PER_MM, abs=1)
    print(f"print {paper} {lang}: {elapsed:.2f} s, {len(r.content):,} bytes")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"print-{paper}-{lang}.pdf").write_bytes(r.content)


def test_png_decodes_at_the_sheet_size(client, view) -> None:
    r = client.post("/api/v1/print", json={"bbox": view, "layers": PUBLIC, "title": "PNG",
                                            "paper": "A4", "format": "png"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    image.load()
    w, h = PAPERS["A4"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "print-A4.png").write_bytes(r.content)
    assert image.size == (round((w - 2 * MARGIN_MM) / 25.4 * DPI),
                          round((h - 2 * MARGIN_MM) / 25.4 * DPI))
    # the layers are drawn: far more than the white page and black lines
    assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50


@pytest.mark.parametrize("change", [
    {"bbox": [106.5, 38.0, 106.4, 38.1]},          # min above max
    {"bbox": [106.0, 38.0, 190.0, 38.1]},          # out of range
    {"bbox": [106.0, 38.0, 106.1]},                # three numbers
    {"layers": ["no_such_layer"]},
    {"layers": []},
    {"title": "图" * 201},
    {"paper": "A5"},
    {"format": "svg"},
])
def test_bad_requests_are_422(client, view, change) -> None:
    body = {"bbox": view, "layers": PUBLIC, "title": "t", **change}
    r = client.post("/api/v1/print", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_restricted_layers_need_the_right_key(client, keys, view) -> None:
    body = {"bbox": view, "layers": ["cultivated_land", "eco_redline"], "title": "t"}
    r = client.post("/api/v1/print", json=body)
    assert r.status_code == 401, r.text
    assert "eco_redline" in r.json()["detail"]
    assert client.post("/api/v1/print", json=body, headers=keys["forestry"]).status_code == 403
    forest = {**body, "layers": ["forest_parcels"], "format": "png"}
    assert client.post("/api/v1/print", json=forest, headers=keys["planner"]).status_code == 403
    assert client.post("/api/v1/print", json=forest, headers=keys["forestry"]).status_code == 200


def test_portal_print_button_downloads_the_pdf(visit) -> None:  # noqa: F811
    v = visit("/", "planner")
    page = v.page
    page.click('.om-wb-tool[data-tool="print"]')
    page.fill("#om-print-title", "门户打印测试")
    page.select_option("#om-print-paper", "A3")
    page.select_option("#om-print-orientation", "landscape")
    started = time.monotonic()
    with page.expect_download(timeout=60_000) as info:
        page.click("#om-print-form button[type=submit]")
    download = info.value
    assert download.suggested_filename == "onemap-a3-landscape.pdf"
    data = Path(download.path()).read_bytes()
    page.wait_for_function("document.body.dataset.print === 'done'")
    print(f"portal print: {time.monotonic() - started:.2f} s")
    body, reader = pdf_text(data)
    assert "门户打印测试" in body.replace(" ", "")
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(420 * PT_PER_MM, abs=1)
    assert float(box.height) == pytest.approx(297 * PT_PER_MM, abs=1)
    assert v.errors == [], v.errors
    assert v.external() == [], v.external()


@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.414])
def test_the_view_is_fitted_to_the_frame_not_cut(ratio) -> None:
    """The printed extent holds the whole requested view and has the frame's shape on the
    ground (width measured along the centre latitude on the GRS80 ellipsoid)."""
    import pyproj

    from gis.reports.print_map import fit_bbox

    view = (106.2, 38.4, 106.3, 38.9)
    minx, miny, maxx, maxy = fit_bbox(view, ratio)
    assert minx <= view[0] and miny <= view[1] and maxx >= view[2] and maxy >= view[3]
    geod = pyproj.Geod(ellps="GRS80")
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width = geod.inv(minx, cy, maxx, cy)[2]
    height = geod.inv(cx, miny, cx, maxy)[2]
    assert height / width == pytest.approx(ratio, rel=0.01)
