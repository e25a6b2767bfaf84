"""Stored siting runs judged again under changed rules (issue 17, item 15): the runs whose
verdict or approval path changes are listed and marked, the originals stay as they were, the
planner sees a notice on reopening a run, and only admins may re-evaluate.

The rules are changed in a copy of the loaded profile handed to the re-evaluation (the
shipped profiles are not touched): the red line's general zone no longer admits limited
human activities, or a justification path is renamed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator

import pypdf
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from api.app import create_app
from gis.analysis import siting_reevaluate
from gis.analysis.siting_reevaluate import (
    get_run_with_notice,
    latest_notice,
    list_reevaluations,
    reevaluate_runs,
)
from gis.analysis.siting_runs import StoredRun, check_and_store
from gis.cli import app
from gis.db.records import siting_runs
from gis.identity import Actor
from gis.reports.siting import siting_html, siting_pdf
from gis.rules import load_profile
from gis.rules.models import Profile

GENERAL_FP = box(106.23, 39.005, 106.24, 39.01)  # in the red line's general zone
CORE_FP = box(106.205, 39.005, 106.21, 39.01)
FREE_FP = box(106.50, 39.05, 106.51, 39.06)
TEST_VERSION = "2021.1-reevaluation-test"
PLANNER = Actor("审批科 张工", "key-planner")
ADMIN = Actor("test-admin-lib", "key-admin")


def _limited_not_admitted(profile_id: str) -> Profile:
    """The shipped profile, except that the general zone no longer admits limited activities
    (their verdict becomes the zone's outcome for the rest: prohibited)."""
    profile = load_profile(profile_id)
    rule = profile.rules["redline.general_zone"]
    changed = rule.model_copy(update={"admits": [c for c in rule.admits if c != "limited"]})
    return profile.model_copy(update={"version": TEST_VERSION,
                                      "rules": {**profile.rules, "redline.general_zone": changed}})


def _paths_renamed(profile_id: str) -> Profile:
    profile = load_profile(profile_id)
    paths = [p.model_copy(update={"id": f"{p.id}_v2"}) for p in profile.justification_paths]
    return profile.model_copy(update={"version": TEST_VERSION, "justification_paths": paths})


def _limited_activity_gone(profile_id: str) -> Profile:
    profile = load_profile(profile_id)
    return profile.model_copy(update={"limited_activities": [
        a for a in profile.limited_activities if a.code != "LA1"]})


def _unknown(profile_id: str) -> Profile:
    """As if the run's profile had been removed."""
    return load_profile(f"{profile_id}_removed")


@pytest.fixture
def runs(layers: Engine) -> tuple[StoredRun, ...]:
    """Four stored runs, and no others: a limited activity in the general zone (needs a
    justification), one in the core zone (prohibited), one touching no control line, and a
    national major project in the general zone."""
    with layers.begin() as conn:
        conn.execute(text("TRUNCATE siting_reevaluations, siting_runs"))
    stored = tuple(check_and_store(layers, mapping(fp), activity, True, profile="dawukou",
                                   actor=PLANNER)
                   for fp, activity in ((GENERAL_FP, "LA1"), (CORE_FP, "LA1"),
                                        (FREE_FP, "LA1"), (GENERAL_FP, "NMP3")))
    assert [r.result.verdict for r in stored] == [
        "justification_required", "prohibited", "no_conflict", "justification_required"]
    assert [r.result.approval_path and r.result.approval_path.id for r in stored] == [
        "limited_with_new_land", None, None, "national_major_with_new_land"]
    return stored


def _stored(engine: Engine) -> list[tuple]:
    """Every stored run as it is in the table (verdict and the whole result)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(siting_runs.c.id, siting_runs.c.verdict, siting_runs.c.profile_version,
                   siting_runs.c.result).order_by(siting_runs.c.id))]


def test_changed_verdicts_are_listed_and_marked_originals_kept(runs, layers) -> None:
    general, core, free, major = runs
    before = _stored(layers)
    report = reevaluate_runs(layers, ADMIN, profiles=_limited_not_admitted)
    assert (report.examined, report.unchanged, report.failed) == (4, 3, [])
    assert report.profiles == {"dawukou": TEST_VERSION}
    [change] = report.changed
    assert change.run_id == general.id and change.batch == report.batch
    assert (change.previous_verdict, change.verdict) == ("justification_required", "prohibited")
    assert (change.previous_path, change.approval_path) == ("limited_with_new_land", None)
    assert change.profile_version == TEST_VERSION and change.actor == ADMIN.name
    assert _stored(layers) == before  # nothing overwritten
    run, notice = get_run_with_notice(layers, general.id)
    assert run.result.model_dump(mode="json") == general.result.model_dump(mode="json")
    assert run.result.verdict == "justification_required"
    assert notice is not None and notice.verdict == "prohibited"
    assert notice.approval_path is None and notice.profile_version == TEST_VERSION
    assert notice.evaluated_at == report.evaluated_at
    assert any(f.rule_id == "redline.general_zone" and f.verdict == "prohibited"
               for f in notice.rules)
    date = f"{report.evaluated_at:%Y-%m-%d}"
    assert date in notice.message_zh and TEST_VERSION in notice.message_zh
    assert "“禁止”" in notice.message_zh and "“需专题论证”" in notice.message_zh
    assert "prohibited" in notice.message_en and "unchanged" in notice.message_en
    assert all(latest_notice(layers, r.id) is None for r in (core, free, major))

    # the same rules again: nothing new to say
    again = reevaluate_runs(layers, ADMIN, profiles=_limited_not_admitted)
    assert again.changed == [] and again.unchanged == 4
    # the shipped rules: the run changes back, and that is the notice now
    back = reevaluate_runs(layers, Actor.cli())
    assert [(c.run_id, c.previous_verdict, c.verdict, c.approval_path) for c in back.changed
            ] == [(general.id, "prohibited", "justification_required", "limited_with_new_land")]
    notice = latest_notice(layers, general.id)
    assert notice.verdict == "justification_required" and notice.actor.startswith("cli:")
    assert notice.approval_path.id == "limited_with_new_land"
    history = list_reevaluations(layers, run_id=general.id)
    assert history.total == 2 and [i.batch for i in history.items] == [back.batch, report.batch]
    assert list_reevaluations(layers, batch=again.batch).total == 0
    assert _stored(layers) == before


def test_changed_approval_paths_are_listed(runs, layers) -> None:
    general, major = runs[0], runs[3]
    report = reevaluate_runs(layers, ADMIN, profiles=_paths_renamed)
    assert [(c.run_id, c.previous_verdict, c.verdict, c.previous_path, c.approval_path)
            for c in report.changed] == [
        (general.id, "justification_required", "justification_required",
         "limited_with_new_land", "limited_with_new_land_v2"),
        (major.id, "justification_required", "justification_required",
         "national_major_with_new_land", "national_major_with_new_land_v2")]
    assert len({c.id for c in report.changed}) == 2 and report.unchanged == 2
    assert latest_notice(layers, major.id).approval_path.id == "national_major_with_new_land_v2"


@pytest.mark.parametrize(("loader", "fragment", "failed"), [
    (_limited_activity_gone, "LA1", 3),  # the NMP3 run is judged (unchanged)
    (_unknown, "dawukou_removed", 4),
])
def test_runs_that_cannot_be_judged_are_reported_not_marked(runs, layers, loader: Callable,
                                                            fragment: str, failed: int) -> None:
    report = reevaluate_runs(layers, ADMIN, profiles=loader)
    assert report.changed == [] and len(report.failed) == failed
    assert report.unchanged == 4 - failed
    assert all(fragment in f.reason_en and f.reason_zh != f.reason_en for f in report.failed)
    assert list_reevaluations(layers).total == 0


def test_reports_show_the_notice_and_the_original(runs, layers) -> None:
    general = runs[0]
    reevaluate_runs(layers, ADMIN, profiles=_limited_not_admitted)
    run, notice = get_run_with_notice(layers, general.id)
    html = siting_html(run, notice)
    assert notice.message_zh in html and 'id="reevaluation"' in html
    assert '<p class="verdict justification_required" id="verdict">需专题论证</p>' in html
    plain = siting_html(run)
    assert 'id="reevaluation"' not in plain
    pages = pypdf.PdfReader(io.BytesIO(siting_pdf(run, notice))).pages
    printed = re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))
    assert re.sub(r"\s+", "", notice.message_zh) in printed  # the notice, then as given:
    assert "需专题论证" in printed


@pytest.fixture
def client(settings, layers, role_keys) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def test_api_admin_only(runs, client: TestClient, role_keys,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = "/api/v1/analysis/siting/reevaluations"
    assert client.post(url).status_code == 401
    assert client.get(url).status_code == 401
    for role in ("planner", "forestry"):
        assert client.post(url, headers=role_keys[role]).status_code == 403
        assert client.get(url, headers=role_keys[role]).status_code == 403
    assert client.get(url, headers=role_keys["admin"]).json()["total"] == 0

    monkeypatch.setattr(siting_reevaluate, "load_profile", _limited_not_admitted)
    response = client.post(url, headers=role_keys["admin"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["actor"] == "test-admin" and body["examined"] == 4
    [change] = body["changed"]
    assert change["run_id"] == runs[0].id and change["verdict"] == "prohibited"
    listed = client.get(response.headers["location"], headers=role_keys["admin"]).json()
    assert [i["run_id"] for i in listed["items"]] == [runs[0].id] and listed["total"] == 1

    # the planner reopens the run: the original result, and the notice
    shown = client.get(f"/api/v1/analysis/siting/{runs[0].id}",
                       headers=role_keys["planner"]).json()
    assert shown["verdict"] == "justification_required"
    assert shown["approval_path"]["id"] == "limited_with_new_land"
    notice = shown["reevaluation"]
    assert notice["verdict"] == "prohibited" and notice["profile_version"] == TEST_VERSION
    assert notice["evaluated_at"] and notice["actor"] == "test-admin"
    assert client.get(f"/api/v1/analysis/siting/{runs[1].id}",
                      headers=role_keys["planner"]).json()["reevaluation"] is None
    html = client.get(f"/api/v1/analysis/siting/{runs[0].id}/report.html",
                      headers=role_keys["planner"])
    assert notice["message_zh"] in html.text
    pdf = client.get(f"/api/v1/analysis/siting/{runs[0].id}/report.pdf",
                     headers=role_keys["planner"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(url, params={"batch": "not-hex"},
                      headers=role_keys["admin"]).status_code in (400, 422)


def test_cli_records_the_os_user(runs, layers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siting_reevaluate, "load_profile", _limited_not_admitted)
    result = CliRunner().invoke(app, ["check", "reevaluate", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["actor"].startswith("cli:") and body["examined"] == 4
    assert [c["run_id"] for c in body["changed"]] == [runs[0].id]
    monkeypatch.setenv("GIS_LANG", "en")
    monkeypatch.setattr(siting_reevaluate, "load_profile", load_profile)
    table = CliRunner().invoke(app, ["check", "reevaluate"])
    assert table.exit_code == 0, table.output
    assert "4 runs examined, 1 changed" in " ".join(table.stdout.split())
    assert runs[0].id in table.stdout
