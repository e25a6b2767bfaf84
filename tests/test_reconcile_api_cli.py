"""Reconciliation over the API and the CLI: run, list, decide (409 on a stale version),
apply, summary, exports."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from gis.cli import app
from tests.test_forest_grass import onemap  # noqa: F401 - the planted fixture


@pytest.fixture
def client(settings, role_keys):
    with TestClient(create_app(settings), headers=role_keys["forestry"]) as c:
        yield c


def test_api_flow(onemap, client: TestClient) -> None:  # noqa: F811
    run = client.post("/api/v1/reconciliation/runs", json={"division": "640202",
                                                           "actor": "王工"})
    assert run.status_code == 201 and run.json()["new"] >= 8
    page = client.get("/api/v1/reconciliation/findings",
                      params={"division": "640202", "kind": "forest_grass_overlap"}).json()
    assert page["total"] == 2
    finding = page["items"][0]
    url = f"/api/v1/reconciliation/findings/{finding['id']}"
    ok = client.post(f"{url}/decision", json={"decision": "keep_forest", "actor": "李科长",
                                              "reason": "乔木林", "version": finding["version"]})
    assert ok.status_code == 200 and ok.json()["status"] == "decided"
    stale = client.post(f"{url}/decision", json={"decision": "keep_grass", "actor": "赵工",
                                                 "reason": "草地", "version": finding["version"]})
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    detail = client.get(url).json()
    assert [e["action"] for e in detail["history"]] == ["detected", "decided"]
    # the key's holder acted; the typed names are only "on behalf of"
    assert [(e["actor"], e["on_behalf_of"], e["actor_verified"]) for e in detail["history"]] \
        == [("test-forestry", "王工", True), ("test-forestry", "李科长", True)]
    summary = client.get("/api/v1/reconciliation/summary", params={"division": "640202"})
    assert any(r["status"] == "decided" for r in summary.json())
    applied = client.post("/api/v1/reconciliation/apply", json={"division": "640202",
                                                                "actor": "李科长"})
    assert applied.status_code == 201 and applied.json()["applied"] == 1
    xlsx = client.get("/api/v1/reconciliation/export.xlsx", params={"division": "640202"})
    sheet = pd.read_excel(io.BytesIO(xlsx.content), skipfooter=1)  # the totals row
    assert "面积(亩)" in sheet.columns and len(sheet) == run.json()["new"]
    gpkg = client.get("/api/v1/reconciliation/export.gpkg", params={"division": "640202"})
    assert gpkg.status_code == 200 and gpkg.content[:15] == b"SQLite format 3"
    assert client.get("/api/v1/reconciliation/export.csv").status_code == 422
    assert client.get("/api/v1/reconciliation/findings/999999").status_code == 404
    assert client.get("/api/v1/reconciliation/findings",
                      params={"kind": "nope"}).status_code == 422


def test_cli_flow(onemap, tmp_path) -> None:  # noqa: F811
    runner = CliRunner()
    detected = runner.invoke(app, ["reconcile", "detect", "640202", "--json"])
    assert detected.exit_code == 0, detected.output
    listed = json.loads(runner.invoke(app, ["reconcile", "list", "--kind", "missing_owner",
                                            "--json"]).stdout)
    item = listed["items"][0]
    decided = runner.invoke(app, ["reconcile", "decide", str(item["id"]), "reassign_owner",
                                  "--reason", "村委会确认", "--version", str(item["version"]),
                                  "--on-behalf-of", "李科长"])
    assert decided.exit_code == 0, decided.output
    table = runner.invoke(app, ["reconcile", "list", "--division", "640202"])
    assert table.exit_code == 0 and "核查台账" in table.stdout
    english = runner.invoke(app, ["reconcile", "list", "--division", "640202"],
                            env={"GIS_LANG": "en"})
    assert english.exit_code == 0 and "Work list" in english.stdout
    summary = runner.invoke(app, ["reconcile", "summary", "--division", "640202"])
    assert summary.exit_code == 0 and "已决定" in summary.stdout
    out = tmp_path / "worklist.gpkg"
    assert runner.invoke(app, ["reconcile", "export", str(out)]).exit_code == 0
    assert len(gpd.read_file(out)) == json.loads(detected.stdout)["new"]
    applied = runner.invoke(app, ["reconcile", "apply", "640202", "--on-behalf-of", "李科长"],
                            env={"GIS_LANG": "en"})
    assert applied.exit_code == 0 and "1 decisions applied" in applied.stdout
