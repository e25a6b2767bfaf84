"""The reconciliation work list people can trust (issue 20), over the API and the CLI on the
planted one-map of ``tests/test_forest_grass.py``:

- a change answers with the finding as it is now and its history, so the panel is never
  stale, and the same person can correct their decision at once;
- a refused change names who made the version the caller did not see (the event's actor);
- the exports take the list's filters and hold labels, the decision trail in Beijing time,
  frozen header, autofilter, widths and totals;
- the list says whether detection ever ran;
- field results come back in from a field-check package, all rows or none.
"""

from __future__ import annotations

import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from shapely.affinity import translate
from sqlalchemy import text

from api.app import create_app
from gis.analysis import forest_grass as fg
from gis.analysis.worklist import BEIJING, beijing_today
from gis.identity import Actor
from tests.test_cli_usage import run_gis
from tests.test_forest_grass import onemap  # noqa: F401 - the planted fixture

API = "/api/v1/reconciliation"


@pytest.fixture
def client(settings, role_keys):
    with TestClient(create_app(settings), headers=role_keys["forestry"]) as c:
        yield c


@pytest.fixture
def detected(onemap):  # noqa: F811
    fg.detect(onemap, "640202", actor=Actor("林草局 王工", "k-wang"))
    return onemap


def _items(client: TestClient, **params) -> list[dict]:
    return client.get(f"{API}/findings", params=params).json()["items"]


# -- defect 1: the decision loop -----------------------------------------------------------


def test_a_change_answers_with_the_finding_and_its_history(detected, client) -> None:
    finding = _items(client, kind="forest_grass_overlap")[0]
    url = f"{API}/findings/{finding['id']}"
    sent = client.post(f"{url}/status", json={"status": "field_check", "version": 1,
                                               "reason": "派外业"}).json()
    assert (sent["status"], sent["version"]) == ("field_check", 2)
    assert [e["action"] for e in sent["history"]] == ["detected", "status"]
    first = client.post(f"{url}/decision", json={"decision": "keep_forest", "reason": "乔木林",
                                                 "version": sent["version"]})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["decision"], body["version"]) == ("decided", "keep_forest", 3)
    assert [(e["action"], e["version"]) for e in body["history"]] == [
        ("detected", 1), ("status", 2), ("decided", 3)]
    assert body["decided_by"] == "test-forestry" and body["decision_reason"] == "乔木林"
    assert body["geometry"]["type"] == "MultiPolygon"  # the panel keeps its highlight
    # the same person corrects the decision with the version the answer gave: no conflict
    again = client.post(f"{url}/decision", json={"decision": "keep_grass", "reason": "复核为草地",
                                                  "version": body["version"]})
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 4 and again.json()["decision_reason"] == "复核为草地"
    assert [e["action"] for e in again.json()["history"]][-2:] == ["decided", "decided"]
    # the list carries the same decision trail
    listed = next(i for i in _items(client, status="decided") if i["id"] == finding["id"])
    assert (listed["decided_by"], listed["decision"], listed["version"]) == (
        "test-forestry", "keep_grass", 4)


def test_a_conflict_names_who_changed_it(detected, client) -> None:
    finding = _items(client, kind="ownership_overlap")[0]
    fg.decide(detected, finding["id"], "reassign_owner", Actor("林草局 李科长", "k-li",
                                                                "局长 王某"), "村委会确认", 1)
    url = f"{API}/findings/{finding['id']}/decision"
    stale = client.post(url, json={"decision": "no_change", "reason": "x", "version": 1})
    assert stale.status_code == 409
    body = stale.json()
    assert "林草局 李科长 (代 局长 王某)" in body["detail"] and "已由" in body["detail"]
    assert "作出决定" in body["detail"] and "第 2 版" in body["detail"]
    assert body["details"]["changed_by"] == "林草局 李科长"
    assert body["details"]["changed_on_behalf_of"] == "局长 王某"
    assert (body["details"]["current_version"], body["details"]["change"]) == (2, "decided")
    english = client.post(url, json={"decision": "no_change", "reason": "x", "version": 1},
                          headers={"Accept-Language": "en"}).json()["detail"]
    assert english.startswith(
        f"finding {finding['id']} was changed by 林草局 李科长 (for 局长 王某) at ")
    assert "(UTC+8, decided; now version 2, you had 1)" in english


# -- defect 2: the exports are the screen ----------------------------------------------------


def _sheet(content: bytes):
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return sheet, rows[0], rows[1:-1], rows[-1]


def test_the_export_takes_the_lists_filters_and_shows_labels(detected, client,
                                                            tmp_path: Path) -> None:
    finding = _items(client, kind="forest_grass_overlap")[0]
    client.post(f"{API}/findings/{finding['id']}/decision", json={
        "decision": "keep_forest", "reason": "外业核实为乔木林地", "version": 1,
        "on_behalf_of": "林草局 局长"})
    params = {"division": "640202", "kind": "forest_grass_overlap", "status": "decided"}
    page = client.get(f"{API}/findings", params=params).json()
    assert page["total"] == 1
    everything = client.get(f"{API}/findings", params={"division": "640202"}).json()["total"]
    assert everything > 3
    response = client.get(f"{API}/export.xlsx", params=params)
    assert response.status_code == 200
    sheet, header, body, totals = _sheet(response.content)
    assert len(body) == page["total"]  # what is on the screen, not the whole division
    assert header == [
        "编号", "问题类型", "状态", "处理决定", "理由", "决定人", "委托人（代为记录）",
        "决定时间（北京时间 UTC+8）", "版本", "行政区划代码", "乡镇(街道)", "村", "涉及图斑",
        "面积(平方米)", "面积(亩)", "面积(公顷)"]
    row = dict(zip(header, body[0], strict=True))
    assert (row["编号"], row["问题类型"], row["状态"], row["处理决定"]) == (
        finding["id"], "林草重叠", "已决定", "保留林地")
    assert (row["理由"], row["决定人"], row["委托人（代为记录）"], row["版本"]) == (
        "外业核实为乔木林地", "test-forestry", "林草局 局长", 2)
    decided = client.get(f"{API}/findings/{finding['id']}").json()["finding"]["decided_at"]
    from datetime import datetime
    at = datetime.fromisoformat(decided).astimezone(BEIJING).replace(tzinfo=None, microsecond=0)
    assert row["决定时间（北京时间 UTC+8）"].replace(microsecond=0) == at
    parcels = row["涉及图斑"]
    assert parcels.startswith("林地小班 640202/001/00") and "草地图斑 CD-1" in parcels
    assert row["面积(亩)"] == finding["area_mu"] and row["面积(公顷)"] == finding["area_ha"]
    assert totals[0] == "合计（1 条）" and totals[header.index("面积(亩)")] == finding["area_mu"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:P2"
    assert sheet.column_dimensions["H"].width >= 20  # the time fits
    # English on request, the same rows
    en = client.get(f"{API}/export.xlsx", params=params, headers={"Accept-Language": "en"})
    _, header_en, body_en, totals_en = _sheet(en.content)
    assert header_en[:4] == ["No.", "Kind", "Status", "Decision"]
    assert "Decided at (Beijing time, UTC+8)" in header_en
    assert body_en[0][1:4] == ["forest-grass overlap", "decided", "keep forest"]
    assert totals_en[0] == "Total (1)"
    # the GeoPackage: the same filters, the same values
    gpkg = tmp_path / "sliver.gpkg"
    gpkg.write_bytes(client.get(f"{API}/export.gpkg", params={"division": "640202",
                                                               "kind": "sliver"}).content)
    frame = gpd.read_file(gpkg)
    assert len(frame) == client.get(f"{API}/findings", params={
        "division": "640202", "kind": "sliver"}).json()["total"]
    assert set(frame["问题类型"]) == {"细碎重叠(制图误差)"} and set(frame["状态"]) == {"待处理"}
    assert frame.crs.to_epsg() == 4490
    assert client.get(f"{API}/export.xlsx", params={"kind": "nope"}).status_code == 422


def test_the_cli_export_takes_the_filters(detected, tmp_path: Path) -> None:
    out = tmp_path / "台账.xlsx"
    result = cli(*["reconcile", "export", str(out), "--division", "640202",
                                      "--kind", "missing_owner"])
    assert result.returncode == 0, result.stderr
    _, _header, body, totals = _sheet(out.read_bytes())
    assert [r[1] for r in body] == ["权属不清"] and totals[0] == "合计（1 条）"
    gpkg = tmp_path / "台账.gpkg"
    assert cli(*["reconcile", "export", str(gpkg), "--status", "open"]
                              ).returncode == 0
    assert len(gpd.read_file(gpkg)) == fg.list_findings(detected, status="open")[0]


# -- defect 3: a first visit knows detection has not run ------------------------------------


def test_the_list_says_whether_detection_ran(onemap, client) -> None:  # noqa: F811
    before = client.get(f"{API}/findings", params={"division": "640202"}).json()
    assert before["total"] == 0 and before["last_detection"] is None
    run = client.post(f"{API}/runs", json={"division": "640202"}).json()
    after = client.get(f"{API}/findings", params={"division": "640202"}).json()
    assert after["last_detection"]["run_id"] == run["run_id"] and after["total"] == run["new"]
    other = client.get(f"{API}/findings", params={"division": "640104"}).json()
    assert other["last_detection"] is None  # per division


# -- field results back in -------------------------------------------------------------------


def _package(client: TestClient, tmp_path: Path, **params) -> Path:
    response = client.get(f"{API}/field-package.gpkg", params=params)
    assert response.status_code == 200, response.text
    path = tmp_path / "package.gpkg"
    path.write_bytes(response.content)
    return path


def _fill(path: Path, layer: str, rows: dict[int, dict], out: Path) -> Path:
    frame = gpd.read_file(path, layer=layer)
    for i, record in frame.iterrows():
        for column, value in rows.get(int(record["编号"]), {}).items():
            if column == "geometry":
                frame.loc[i, "geometry"] = value
            else:
                frame.loc[i, column] = value
    frame.to_file(out, layer=layer, driver="GPKG")
    return out


def test_field_results_round_trip(detected, client, tmp_path: Path) -> None:
    findings = _items(client, division="640202", kind="forest_grass_overlap")
    for f in findings:
        client.post(f"{API}/findings/{f['id']}/status", json={"status": "field_check",
                                                              "version": f["version"]})
    assert client.get(f"{API}/field-package.gpkg", params={"kind": "sliver"}).status_code == 422
    package = _package(client, tmp_path, division="640202")
    import pyogrio

    layers = dict(pyogrio.list_layers(package))
    assert "星海镇" in layers and layers["核查结果可选值"] is None
    frame = gpd.read_file(package, layer="星海镇")
    assert {"核查结果", "核查人", "核查日期", "备注", "编号", "版本"} <= set(frame.columns)
    assert sorted(frame["编号"]) == sorted(f["id"] for f in findings)
    first, second = sorted(frame["编号"])
    moved = translate(frame.loc[frame["编号"] == second, "geometry"].iloc[0], xoff=0.0001)
    today = beijing_today().isoformat()
    filled = _fill(package, "星海镇", {
        first: {"核查结果": "保留林地", "核查人": "护林员 张三", "核查日期": today,
                "备注": "现场为乔木林"},
        second: {"核查结果": "keep_grass", "核查人": "护林员 李四", "核查日期": "2024年5月1日",
                 "geometry": moved},
    }, tmp_path / "filled.gpkg")

    # one bad row refuses the whole file: nothing imported
    tomorrow = (beijing_today() + timedelta(days=1)).isoformat()
    bad = _fill(filled, "星海镇", {second: {"核查日期": tomorrow, "核查结果": "烧掉"}},
                tmp_path / "bad.gpkg")
    refused = client.post(f"{API}/field-results", params={"filename": "bad.gpkg"},
                          content=bad.read_bytes())
    assert refused.status_code == 422
    body = refused.json()
    assert body["details"]["rows"] == [{"layer": "星海镇", "row": 2, "id": second,
                                        "problems": ["result", "survey_date"]}]
    assert "整个文件一行也未导入" in body["detail"] and "核查日期缺失" in body["detail"]
    with detected.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM recon_field_results")).scalar_one() == 0

    imported = client.post(f"{API}/field-results", content=filled.read_bytes(),
                           params={"filename": "星海镇外业.gpkg", "on_behalf_of": "外业组"})
    assert imported.status_code == 200, imported.text
    summary = imported.json()
    assert (summary["imported"], summary["boundaries"], summary["source"]) == (
        2, 1, "星海镇外业.gpkg")
    detail = client.get(f"{API}/findings/{second}").json()
    event = detail["history"][-1]
    assert event["action"] == "field_result" and event["actor"] == "test-forestry"
    assert event["on_behalf_of"] == "外业组" and event["details"]["result"] == "keep_grass"
    assert event["details"]["survey_date"] == "2024-05-01" and event["details"]["boundary"]
    assert detail["finding"]["status"] == "field_check" and detail["finding"]["version"] == 3
    with detected.connect() as conn:
        stored = conn.execute(text(
            "SELECT finding_id, result, surveyor, remarks, geom IS NOT NULL FROM "
            "recon_field_results ORDER BY finding_id")).all()
    assert [tuple(r) for r in stored] == [
        (first, "keep_forest", "护林员 张三", "现场为乔木林", False),
        (second, "keep_grass", "护林员 李四", None, True)]
    # the same file again: the findings changed since the package was made
    again = client.post(f"{API}/field-results", params={"filename": "星海镇外业.gpkg"},
                        content=filled.read_bytes())
    assert again.status_code == 422
    assert {p for r in again.json()["details"]["rows"] for p in r["problems"]} == {"stale"}


def test_field_results_refuse_a_boundary_drawn_elsewhere(detected, tmp_path: Path) -> None:
    finding = fg.list_findings(detected, kind="missing_owner")[1][0]
    fg.set_status(detected, finding.id, "field_check", Actor("王工"), finding.version)
    package = tmp_path / "package.gpkg"
    made = cli(*["reconcile", "field-package", str(package), "--kind",
                               "missing_owner", "--json"])
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["items"] == 1
    far = translate(gpd.read_file(package, layer="星海镇").geometry.iloc[0], xoff=0.01)
    filled = _fill(package, "星海镇", {finding.id: {
        "核查结果": "重新确权", "核查人": "张三", "核查日期": "2024-05-01", "geometry": far}},
        tmp_path / "far.gpkg")
    refused = cli(*["reconcile", "field-import", str(filled)])
    # refused as one line on stderr, exit 2, no traceback
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "修正边界离该记录超过100米" in refused.stderr
    near = _fill(package, "星海镇", {finding.id: {
        "核查结果": "重新确权", "核查人": "张三", "核查日期": "2024-05-01"}}, tmp_path / "ok.gpkg")
    ok = cli(*["reconcile", "field-import", str(near), "--json"])
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["imported"] == 1 and json.loads(ok.stdout)["boundaries"] == 0
    shown = cli(*["reconcile", "show", str(finding.id)])
    assert shown.returncode == 0 and "外业核查结果 重新确权" in shown.stdout


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real ``gis`` executable on the test database, in Chinese (the bureaus' language)."""
    return run_gis(*args, env={"GIS_LANG": "zh"})
