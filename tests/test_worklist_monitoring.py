"""The red-line monitoring work list (issue 20): legacy activities get their exit plan
(003:235) with the rule cited, overdue plans are listed (API, CLI, the map's popup fields),
completing a plan is a change of its patch, and the list has an export with its filters."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text

from api.app import create_app
from gis.analysis import monitoring as mon
from gis.analysis.worklist import beijing_today
from gis.errors import InputError
from gis.identity import Actor
from portal.viewer import monitoring_popup
from tests.test_cli_usage import run_gis
from tests.test_monitoring import LC_2020, LC_2023, db, zones_db  # noqa: F401 - fixtures

API = "/api/v1/monitoring"
DEADLINE = (beijing_today() + timedelta(days=365)).isoformat()
PLAN = {"measures": "拆除违建并复垦", "deadline": DEADLINE, "responsible_unit": "大武口区人民政府",
        "compensation": "按评估价补偿，安置至星海镇", "restoration": "恢复为天然草地"}


@pytest.fixture
def patches(db):  # noqa: F811
    mon.run(db, LC_2020, LC_2023, "dawukou", actor=Actor("遥感组"))
    return db


@pytest.fixture
def client(settings, role_keys):
    with TestClient(create_app(settings), headers=role_keys["planner"]) as c:
        yield c


def _patch(client: TestClient, **params) -> dict:
    return client.get(f"{API}/patches", params=params).json()["items"][0]


def test_a_legacy_decision_requires_its_exit_plan(patches, client) -> None:
    patch = _patch(client, layer="eco_redline", zone="general")
    url = f"{API}/patches/{patch['id']}/decision"
    decide = {"decision": "legacy", "reason": "2019年已建的养殖场", "version": patch["version"]}
    missing = client.post(url, json=decide)
    assert missing.status_code == 422 and "退出计划" in missing.json()["detail"]
    assert "003:235" in missing.json()["detail"]
    for field, value in (("measures", "  "), ("deadline", "2020-01-01")):
        bad = client.post(url, json={**decide, "exit_plan": {**PLAN, field: value}})
        assert bad.status_code == 422, (field, bad.text)
    wrong = client.post(url, json={**decide, "decision": "violation", "exit_plan": PLAN})
    assert wrong.status_code == 422 and "历史遗留" in wrong.json()["detail"]
    with pytest.raises(InputError, match="needs its exit plan"):
        mon.decide(patches, patch["id"], "legacy", Actor("x"), "y", patch["version"])

    ok = client.post(url, json={**decide, "exit_plan": PLAN, "on_behalf_of": "执法科 李科长"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["decision"], body["exit_deadline"], body["exit_overdue"]) == (
        "legacy", DEADLINE, False)
    plan = body["exit_plan"]
    assert {k: plan[k] for k in PLAN} == PLAN and plan["status"] == "active"
    assert plan["rule"]["rule_id"] == "redline.legacy_exit"
    assert plan["rule"]["citation"]["lines"] == "235" and "制定退出计划" in plan["rule"]["text_zh"]
    assert (plan["actor"], plan["on_behalf_of"]) == ("test-planner", "执法科 李科长")
    event = body["history"][-1]
    assert event["details"]["exit_plan"]["deadline"] == DEADLINE
    assert event["details"]["exit_plan"]["rule"] == "redline.legacy_exit"
    detail = client.get(f"{API}/patches/{patch['id']}").json()
    assert detail["exit_plan"]["id"] == plan["id"] and detail["patch"]["exit_deadline"] == DEADLINE
    # the map layer's features carry the deadline (the viewer's popup shows it)
    features = client.get(f"{API}/patches", params={"format": "geojson"}).json()["features"]
    props = next(f["properties"] for f in features if f["id"] == patch["id"])
    assert props["exit_deadline"] == DEADLINE and props["exit_overdue"] is False
    others = [f["properties"] for f in features if f["id"] != patch["id"]]
    assert all(p["exit_overdue"] is None for p in others)  # no plan: not shown in the popup
    popup = monitoring_popup("zh")
    titles = {f["name"]: f["title"] for f in popup["fields"]}
    assert (titles["exit_deadline"], titles["exit_overdue"]) == ("退出时限", "逾期未退出")
    assert popup["coded"]["exit_overdue"]["true"] == "是"

    # another decision supersedes the plan
    changed = client.post(url, json={"decision": "violation", "reason": "复核：无合法手续",
                                     "version": body["version"]}).json()
    assert changed["exit_plan"]["status"] == "superseded" and changed["exit_deadline"] is None


def test_overdue_plans_are_listed_and_completed(patches, client) -> None:
    patch = _patch(client, layer="basic_farmland")
    decided = mon.decide_patch(patches, patch["id"], "legacy", Actor("执法科"), "历史遗留",
                               patch["version"], PLAN).item
    assert client.get(f"{API}/exit-plans/overdue").json()["total"] == 0
    later = (date.fromisoformat(DEADLINE) + timedelta(days=10)).isoformat()
    page = client.get(f"{API}/exit-plans/overdue", params={"on": later}).json()
    assert page["total"] == 1 and page["on"] == later
    item = page["items"][0]
    assert (item["patch_id"], item["days_overdue"], item["feature_key"]) == (
        patch["id"], 10, patch["feature_key"])
    assert item["responsible_unit"] == "大武口区人民政府" and item["overdue"] is True
    with patches.begin() as conn:  # the deadline passes
        conn.execute(text("UPDATE monitor_exit_plans SET deadline = :d"),
                     {"d": beijing_today() - timedelta(days=3)})
    now = client.get(f"{API}/exit-plans/overdue").json()
    assert now["total"] == 1 and now["items"][0]["days_overdue"] == 3
    assert _patch(client, layer="basic_farmland")["exit_overdue"] is True
    listed = cli(*["monitor", "overdue"])
    assert listed.returncode == 0 and "逾期未退出的历史遗留活动" in listed.stdout
    as_json = json.loads(cli(*["monitor", "overdue", "--json"]).stdout)
    assert as_json["total"] == 1 and as_json["items"][0]["responsible_unit"] == "大武口区人民政府"
    # completing the exit is a change of the patch, versioned, in its history
    url = f"{API}/patches/{patch['id']}/exit-plan/completion"
    stale = client.post(url, json={"reason": "已拆除", "version": patch["version"]})
    assert stale.status_code == 409
    done = client.post(url, json={"reason": "已拆除并复垦，现场核实", "version": decided.version})
    assert done.status_code == 200, done.text
    assert done.json()["exit_plan"]["status"] == "completed"
    assert done.json()["history"][-1]["action"] == "exit_completed"
    assert client.get(f"{API}/exit-plans/overdue").json()["total"] == 0
    again = client.post(url, json={"reason": "x", "version": done.json()["version"]})
    assert again.status_code == 422 and "没有执行中的退出计划" in again.json()["detail"]


def test_the_cli_records_a_legacy_decision(patches) -> None:
    patch = mon.list_patches(patches, layer="eco_redline", zone="core")[1][0]
    refused = cli(*["monitor", "decide", str(patch.id), "legacy", "--reason",
                                  "历史遗留", "--version", str(patch.version)])
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    decided = cli(*[
        "monitor", "decide", str(patch.id), "legacy", "--reason", "2018年建成的采石场",
        "--version", str(patch.version), "--exit-measures", "关停并拆除",
        "--exit-deadline", DEADLINE, "--exit-unit", "大武口区人民政府",
        "--exit-compensation", "依法补偿", "--exit-restoration", "矿山生态修复"])
    assert decided.returncode == 0, decided.stderr
    assert "历史遗留" in decided.stdout
    shown = cli(*["monitor", "show", str(patch.id)])
    assert shown.returncode == 0, shown.stderr
    assert "退出计划（执行中）" in shown.stdout and DEADLINE in shown.stdout
    assert "redline.legacy_exit（003:235）" in shown.stdout
    done = cli(*["monitor", "exit-done", str(patch.id), "--reason", "已关停",
                               "--version", str(patch.version + 1), "--json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["history"][-1]["action"] == "exit_completed"


def test_the_monitoring_export_takes_the_filters(patches, client, tmp_path) -> None:
    response = client.get(f"{API}/export.xlsx", params={"layer": "eco_redline"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert len(body) == 3 and totals[0] == "合计（3 条）"
    assert {"监测对象", "管控分区", "认定结果", "认定人", "认定时间（北京时间 UTC+8）",
            "退出时限"} <= set(header)
    assert {r[header.index("监测对象")] for r in body} == {"生态保护红线"}
    assert {r[header.index("管控分区")] for r in body} == {"核心保护区", "一般控制区"}
    assert sheet.freeze_panes == "A2"
    out = tmp_path / "监测.gpkg"
    result = cli(*["monitor", "export", str(out), "--layer", "basic_farmland"])
    assert result.returncode == 0, result.stderr
    import geopandas as gpd

    frame = gpd.read_file(out)
    assert list(frame["监测对象"]) == ["永久基本农田"]


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real ``gis`` executable on the test database, in Chinese (the bureaus' language)."""
    return run_gis(*args, env={"GIS_LANG": "zh"})
