"""`gis check siting`: one footprint (table and JSON) and a batch GeoPackage to xlsx/csv."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from gis.cli import app
from gis.units import geodesic_area

CORE_FP = box(106.205, 39.005, 106.21, 39.01)
FREE_FP = box(106.50, 39.05, 106.51, 39.06)


def test_single_footprint_json_and_table(layers, tmp_path) -> None:
    path = tmp_path / "fp.geojson"
    path.write_text(json.dumps(mapping(CORE_FP)))
    result = CliRunner().invoke(app, ["check", "siting", str(path), "--activity", "LA1",
                                      "--new-land", "--profile", "dawukou", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["verdict"] == "prohibited" and body["id"]
    assert body["overlaps"][0]["area_mu"] > 0
    table = CliRunner().invoke(app, ["check", "siting", str(path), "--activity", "LA1",
                                     "--no-new-land", "--profile", "dawukou", "--no-store"])
    assert table.exit_code == 0 and "prohibited" in table.stdout and "亩" in table.stdout


def test_batch_to_xlsx_and_csv(layers, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIS_LANG", "en")  # the rows' errors in English
    frame = gpd.GeoDataFrame({"XMMC": ["核心区项目", "空地项目", "坏项目"]},
                             geometry=[CORE_FP, FREE_FP, box(120, 45, 120.1, 45.1)],
                             crs="EPSG:4490")
    source = tmp_path / "projects.gpkg"
    frame.to_file(source, driver="GPKG")
    for suffix in ("xlsx", "csv"):
        output = tmp_path / f"out.{suffix}"
        result = CliRunner().invoke(app, [
            "check", "siting", str(source), "--activity", "DEV", "--new-land", "--profile",
            "dawukou", "--id-field", "XMMC", "-o", str(output)])
        assert result.exit_code == 0, result.output
        table = pd.read_excel(output) if suffix == "xlsx" else pd.read_csv(output)
        rows = table.set_index("id")
        assert rows.loc["核心区项目", "verdict"] == "prohibited"
        assert rows.loc["核心区项目", "红线核心区_m2"] == pytest.approx(
            geodesic_area(CORE_FP).m2, rel=1e-3)
        assert rows.loc["空地项目", "verdict"] == "no_conflict"
        assert rows.loc["坏项目", "verdict"] == "error"
        assert "outside" in rows.loc["坏项目", "error"]


def test_no_construction_and_linear_flags(layers, tmp_path) -> None:
    """``--no-construction``: 003:243 prescribes no justification for a limited activity with
    neither new construction land nor construction activity; ``--linear`` declares a linear
    project whatever its shape (a compact flood-control facility is not, by shape)."""
    path = tmp_path / "patrol.geojson"
    path.write_text(json.dumps(mapping(box(106.235, 39.006, 106.2356, 39.0065))))
    result = CliRunner().invoke(app, ["check", "siting", str(path), "--activity", "LA1",
                                      "--no-new-land", "--no-construction", "--profile",
                                      "dawukou", "--json", "--no-store"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["verdict"] == "permitted_with_conditions" and body["construction"] is False
    assert body["approval_path"]["id"] == "limited_without_land_or_construction"
    flood = ["check", "siting", str(path), "--activity", "LA6", "--new-land", "--profile",
             "dawukou", "--json", "--no-store"]
    compact = json.loads(CliRunner().invoke(app, flood).stdout)
    declared = json.loads(CliRunner().invoke(app, [*flood, "--linear"]).stdout)
    assert not compact["linear"] and declared["linear"] and declared["linear_declared"]
    assert "linear_crossing_redline" in {w["code"] for w in declared["warnings"]}
    assert "linear_crossing_redline" not in {w["code"] for w in compact["warnings"]}
    table = CliRunner().invoke(app, ["check", "siting", str(path), "--activity", "LA2",
                                     "--new-land", "--profile", "dawukou", "--no-store"],
                               env={"GIS_LANG": "zh"})
    assert table.exit_code == 0 and "prohibited" in table.stdout and "不满足" in table.stdout


def test_batch_takes_the_construction_flag(layers, tmp_path) -> None:
    frame = gpd.GeoDataFrame({"XMMC": ["巡护"]}, geometry=[box(106.23, 39.005, 106.24, 39.01)],
                             crs="EPSG:4490")
    source = tmp_path / "patrols.gpkg"
    frame.to_file(source, driver="GPKG")
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [
        "check", "siting", str(source), "--activity", "LA1", "--no-new-land",
        "--no-construction", "--profile", "dawukou", "--id-field", "XMMC", "-o", str(output)])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(output).set_index("id").loc["巡护"]
    assert row["verdict"] == "permitted_with_conditions"
    assert row["approval_path"] == "limited_without_land_or_construction"
