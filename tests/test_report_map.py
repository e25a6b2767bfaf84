"""The report map on the sample one-map: a footprint where a township boundary crosses the
red line is drawn among them (the outlines and the control lines around it, read by
``gis.layers.surroundings.map_context``), with the legend in the report's language, and the
report printed from it. With ``REPORT_IMAGE_TO_DOCS=1`` its first two pages are refreshed in
``docs/screenshots`` (Debian poppler-utils' pdftoppm)."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pypdf
from shapely.geometry import box, mapping, shape
from sqlalchemy import text

from gis.analysis.run_history import report_inputs
from gis.analysis.siting_runs import ProjectInfo, check_and_store
from gis.identity import Actor
from gis.layers.surroundings import map_frame
from gis.reports.mapimage import footprint_map_figure
from gis.reports.siting import siting_pdf

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS_IMAGES = ROOT / "docs" / "screenshots" / "siting-report"


def _crossing(engine) -> tuple[float, float]:
    """A point where a township boundary of Dawukou crosses the red line."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(ST_Intersection("
            "ST_Boundary(t.geom), r.geom)) AS p FROM admin_divisions t JOIN eco_redline r "
            "ON ST_Intersects(ST_Boundary(t.geom), r.geom) WHERE t.level = 'township' "
            "AND t.code LIKE '640202%' ORDER BY t.code, r.id LIMIT 1) AS x")).one()
    return float(row[0]), float(row[1])


def test_the_map_shows_what_lies_around(sample_db, tmp_path: Path) -> None:
    lon, lat = _crossing(sample_db)
    foot = box(lon - 0.002, lat - 0.0015, lon + 0.002, lat + 0.0015)
    run = check_and_store(sample_db, mapping(foot), "NMP3", True, profile="dawukou",
                          actor=Actor.local(), project=ProjectInfo(
                              project_code="2025-640202-48-01-000321",
                              project_name="沟口至石炭井输水管线", applicant="大武口区水务局",
                              purpose="输水管线"))
    stored, notice, context = report_inputs(sample_db, run.id)
    frame = box(*context.frame)
    assert frame.contains(foot) and context.frame == map_frame(mapping(foot))
    layers = {f.layer for f in context.features}
    assert {"admin_divisions", "eco_redline"} <= layers
    townships = [f for f in context.features
                 if f.layer == "admin_divisions" and f.value == "township"]
    assert townships and all(f.name for f in townships)
    # clipped to the frame (grown by the clipping margin), simplified, never empty
    for f in context.features:
        geom = shape(f.geometry)
        assert not geom.is_empty and frame.buffer(frame.bounds[2] - frame.bounds[0]).contains(geom)
    assert context.locator and all(f.value == "district" for f in context.locator)
    fig = footprint_map_figure(stored.result.footprint_geojson,
                               [o.model_dump() for o in stored.result.overlaps],
                               context=context, lang="zh")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0] == "项目用地范围" and "行政区划：乡镇" in legend
    assert any(label.startswith("生态保护红线：") for label in legend)
    assert len(legend) == len(set(legend))  # each entry once
    english = footprint_map_figure(stored.result.footprint_geojson, [], context=context,
                                   lang="en")
    assert "Administrative divisions: township" in [
        t.get_text() for t in english.axes[0].get_legend().get_texts()]
    pdf = siting_pdf(stored, notice, "zh", context)
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert "沟口至石炭井输水管线" in "".join(pages[0].extract_text().split())
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / "siting-samples.pdf"
    source.write_bytes(pdf)
    if os.environ.get("REPORT_IMAGE_TO_DOCS"):
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(source),
                        str(DOCS_IMAGES)], check=True)
