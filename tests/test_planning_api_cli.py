"""API and CLI of the planning checks (quotas, ledger, control lines, indicators)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from gis.cli import app


@pytest.fixture
def client(settings, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def test_reserve_api(villages, client: TestClient) -> None:
    rows = client.get("/api/v1/reserve/villages", params={"division": "640202"}).json()
    assert {r["village_code"] for r in rows} >= {"640202100201", "640202100202"}
    xlsx = client.get("/api/v1/reserve/villages.xlsx", params={"division": "640202"})
    sheet = pd.read_excel(io.BytesIO(xlsx.content))
    assert "机动指标占比" in sheet.columns and "是否符合" in sheet.columns
    # values are labels, as on the screen: 是/否 and 约等于, not True or "approx"
    assert set(sheet["是否符合"]) <= {"是", "否"}
    assert set(sheet["比较方式"]) <= {"约等于", "不少于"}
    assert not {"True", "False", "approx", ">="} & {str(v) for v in sheet.to_numpy().ravel()}
    ok = client.post("/api/v1/reserve/villages/640202100203/draws", json={
        "project_code": "P-1", "area_m2": 1000, "purpose": "key_industry"})
    assert ok.status_code == 201 and ok.json()["area_mu"] == pytest.approx(1.5)
    too_much = client.post("/api/v1/reserve/villages/640202100203/draws", json={
        "project_code": "P-2", "area_m2": 1e9, "purpose": "key_industry"})
    assert too_much.status_code == 422
    assert too_much.headers["content-type"].startswith("application/problem+json")
    assert client.post("/api/v1/reserve/villages/999/draws", json={
        "project_code": "P", "area_m2": 1, "purpose": "key_industry"}).status_code == 404
    assert client.post("/api/v1/reserve/villages/640202100203/draws", json={
        "project_code": "P", "area_m2": -1, "purpose": "key_industry"}).status_code == 422
    ledger = client.get("/api/v1/reserve/villages/640202100203/ledger").json()
    assert [d["project_code"] for d in ledger] == ["P-1"]
    assert client.get("/api/v1/reserve/villages", params={"division": "x;"}).status_code == 422


def test_control_lines_and_indicators_api(lines, client: TestClient) -> None:
    conflicts = client.get("/api/v1/control-lines/conflicts",
                           params={"division": "640202"}).json()
    assert len(conflicts) == 2 and conflicts[0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    xlsx = client.get("/api/v1/control-lines/conflicts.xlsx", params={"division": "640202"})
    assert "冲突类型" in pd.read_excel(io.BytesIO(xlsx.content)).columns
    indicators = {i["id"]: i for i in client.get("/api/v1/indicators/640202").json()}
    assert indicators["forest_coverage"]["target"] == 0.075
    # 003:131-133: the 1.3x limit is region-wide; the district's own ratio is information.
    regional, own = indicators["udb_expansion_ratio"], indicators["udb_expansion_ratio:640202"]
    assert regional["meets_target"] is True and regional["covers"] == ["640202"]
    assert regional["division"] == "640000" and not regional["information_only"]
    assert own["information_only"] and own["meets_target"] is None
    assert "仅供参考" in own["note_zh"] and "for information only" in own["note_en"]
    sheet = pd.read_excel(io.BytesIO(client.get("/api/v1/indicators/640202.xlsx").content),
                          dtype={"所含区县": str})
    assert {"是否达标", "仅供参考", "所含区县", "说明"} <= set(sheet.columns)
    assert "说明（英文）" not in sheet.columns  # a Chinese sheet keeps the Chinese note
    rows = sheet.set_index("指标")
    assert rows.loc["城镇开发边界扩展倍数（大武口区）", "仅供参考"] == "是"
    assert rows.loc["城镇开发边界扩展倍数（全区）", "仅供参考"] == "否"
    assert rows.loc["城镇开发边界扩展倍数（全区）", "所含区县"] == "640202"
    assert client.get("/api/v1/indicators/64abc").status_code == 422


def test_planning_cli(villages, tmp_path) -> None:
    runner = CliRunner()
    report = runner.invoke(app, ["reserve", "report", "--division", "640104", "--json"])
    assert report.exit_code == 0, report.output
    assert {r["village_code"][:6] for r in json.loads(report.stdout)} == {"640104"}
    drawn = runner.invoke(app, ["reserve", "draw", "640104200201", "--project", "P-7",
                                "--purpose", "major_project", "--area-mu", "3", "--json"])
    assert drawn.exit_code == 0, drawn.output
    assert json.loads(drawn.stdout)["area_m2"] == pytest.approx(2000)
    ledger = runner.invoke(app, ["reserve", "ledger", "640104200201", "-o",
                                 str(tmp_path / "l.xlsx")])
    assert ledger.exit_code == 0 and (tmp_path / "l.xlsx").exists()


def test_control_lines_cli(lines, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "c.xlsx"
    result = runner.invoke(app, ["control-lines", "check", "--division", "640202", "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_excel(out)) == 2
    indicators = runner.invoke(app, ["indicators", "640202", "--json"])
    assert indicators.exit_code == 0
    rows = {i["id"]: i for i in json.loads(indicators.stdout)}
    assert "forest_coverage" in rows and rows["udb_expansion_ratio:640202"]["information_only"]
    table = runner.invoke(app, ["indicators", "640202"], env={"GIS_LANG": "en"})
    assert table.exit_code == 0, table.output
    flat = " ".join(table.output.split())
    assert "udb_expansion_ratio: the region's urban development boundary" in flat
    assert "udb_expansion_ratio:640202: 大武口区 (640202)'s own ratio, for information only" \
        in flat


def test_township_reserves_api_and_cli(sample_db, client: TestClient) -> None:
    rows = client.get("/api/v1/reserve/townships", params={"division": "640202"}).json()
    assert [(r["township_name"], r["compliant"]) for r in rows] == [("星海镇", False)]
    xlsx = client.get("/api/v1/reserve/townships.xlsx", params={"division": "64"})
    assert xlsx.status_code == 200 and len(pd.read_excel(io.BytesIO(xlsx.content))) == 1
    out = CliRunner().invoke(app, ["reserve", "townships", "--division", "640202", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["share"] == pytest.approx(0.092)
