"""The flexible quota's purposes are an open list: "为重点产业发展、重大工程项目、生态保护修复等
预留弹性空间" (000:856-858, 001:1146-1148) names three and closes with 等. A draw for another
purpose is ``other`` with the purpose stated (``purpose_note``), through every entry point:
the API over HTTP (a uvicorn process), the ``gis`` executable, the /quota page in Debian's
chromium, the ledger import, the database itself, and the migration that brought the column.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from gis.analysis.quota_purposes import PURPOSES, allowed_purposes
from gis.analysis.reserve import import_ledger
from gis.db.migrate import current_revision, head_revision, upgrade
from gis.errors import InputError
from gis.rules import load_profile
from gis.rules.models import QuotaPurposes
from tests.server_fixtures import uvicorn_process
from tests.test_cli_usage import assert_one_line_error, run_gis
from tests.test_portal import CHROMIUM, DESKTOP

#: A sample village (星光村, Dawukou) with a 6,000 m² quota and no draws in the samples.
VILLAGE = "640202100201"
NOTE = "村级综合服务设施（卫生室）"


@pytest.fixture(scope="module")
def live_server(settings, sample_db: Engine) -> Iterator[str]:
    """The API and portal over HTTP on the samples, offline basemap (no tile requests)."""
    with uvicorn_process({"GIS_BASEMAP": "offline"}) as (_, url):
        yield url


def _ledger_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM quota_draws")).scalar_one()


def _names_field(body: dict, field: str) -> bool:
    """A 422 problem names ``field``: a request-validation error's ``loc`` or the library's
    ``details.field``."""
    locs = [e["loc"][-1] for e in body.get("errors", [])]
    return field in locs or (body.get("details") or {}).get("field") == field


def test_the_profiles_name_three_purposes_and_open_the_list() -> None:
    for profile_id, label in (("xingqing", "000:856-858"), ("dawukou", "001:1146-1148")):
        purposes = load_profile(profile_id).quota["village_flexible"].purposes
        assert purposes is not None and purposes.open_list, profile_id
        assert purposes.named == ["key_industry", "major_project", "ecological_restoration"]
        assert purposes.citation.label() == label
        assert purposes.citation.quote.endswith("生态保护修复等预留弹性空间")
    assert allowed_purposes(VILLAGE) == PURPOSES == (
        "key_industry", "major_project", "ecological_restoration", "other")
    closed = QuotaPurposes(named=["key_industry"], open_list=False,
                           citation=purposes.citation)
    assert closed.allowed == ("key_industry",)  # a closed list would admit no "other"


# ------------------------------------------------------------------ the API over HTTP
def test_api_other_with_a_note_is_recorded_and_listed(live_server, sample_db,
                                                       role_keys) -> None:
    base = f"{live_server}/api/v1/reserve/villages/{VILLAGE}"
    made = httpx.post(f"{base}/draws", headers=role_keys["planner"], json={
        "project_code": "2026-GG-01", "area_m2": 300, "purpose": "other",
        "purpose_note": f"  {NOTE} "})
    assert made.status_code == 201, made.text
    assert (made.json()["purpose"], made.json()["purpose_note"]) == ("other", NOTE)
    named = httpx.post(f"{base}/draws", headers=role_keys["planner"], json={
        "project_code": "2026-GG-02", "area_m2": 200, "purpose": "key_industry"})
    assert named.status_code == 201 and named.json()["purpose_note"] is None
    rows = {r["project_code"]: r for r in httpx.get(f"{base}/ledger").json()}
    assert (rows["2026-GG-01"]["purpose"], rows["2026-GG-01"]["purpose_note"]) == (
        "other", NOTE)
    assert rows["2026-GG-02"]["purpose_note"] is None


@pytest.mark.parametrize(("extra", "field"), [
    ({"purpose": "other"}, "purpose_note"),
    ({"purpose": "other", "purpose_note": None}, "purpose_note"),
    ({"purpose": "other", "purpose_note": "   "}, "purpose_note"),
    ({"purpose": "other", "purpose_note": "设" * 201}, "purpose_note"),
    ({"purpose": "key_industry", "purpose_note": "x" * 201}, "purpose_note"),
    ({"purpose": "public_service", "purpose_note": NOTE}, "purpose"),
    ({"purpose": "其他", "purpose_note": NOTE}, "purpose"),
])
def test_api_refusals_name_the_field_and_change_nothing(live_server, sample_db, role_keys,
                                                        extra: dict, field: str) -> None:
    before = _ledger_count(sample_db)
    answer = httpx.post(f"{live_server}/api/v1/reserve/villages/{VILLAGE}/draws",
                        headers=role_keys["planner"],
                        json={"project_code": "2026-BAD", "area_m2": 10, **extra})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert _names_field(answer.json(), field), answer.text
    assert _ledger_count(sample_db) == before


def test_api_refusal_says_what_is_missing_in_chinese(live_server, sample_db,
                                                     role_keys) -> None:
    answer = httpx.post(f"{live_server}/api/v1/reserve/villages/{VILLAGE}/draws",
                        headers={**role_keys["planner"], "Accept-Language": "zh"},
                        json={"project_code": "2026-BAD", "area_m2": 10, "purpose": "other"})
    assert answer.status_code == 422
    assert "用途为“其他”时须说明具体用途" in answer.json()["detail"], answer.text


def test_reversal_keeps_the_purpose_and_its_note(live_server, sample_db, role_keys) -> None:
    base = f"{live_server}/api/v1/reserve/villages/{VILLAGE}"
    wrong = httpx.post(f"{base}/draws", headers=role_keys["planner"], json={
        "project_code": "2026-GG-TYPO", "area_m2": 100, "purpose": "other",
        "purpose_note": "村民活动广场"}).json()
    undo = httpx.post(f"{base}/draws/{wrong['id']}/reversal", headers=role_keys["planner"],
                      json={"reason": "项目代码录错"})
    assert undo.status_code == 201, undo.text
    assert (undo.json()["purpose"], undo.json()["purpose_note"]) == ("other", "村民活动广场")
    with sample_db.connect() as conn:
        stored = conn.execute(text(
            "SELECT entry, purpose, purpose_note FROM quota_draws WHERE id IN (:a, :b) "
            "ORDER BY id"), {"a": wrong["id"], "b": undo.json()["id"]}).all()
    assert [tuple(r) for r in stored] == [("draw", "other", "村民活动广场"),
                                          ("reversal", "other", "村民活动广场")]


# ------------------------------------------------------------------ the gis executable
def test_cli_draws_for_other_with_a_note(sample_db) -> None:
    drawn = run_gis("reserve", "draw", VILLAGE, "--project", "2026-CLI-GG", "--area-m2", "50",
                    "--purpose", "other", "--purpose-note", "污水处理设施", "--json")
    assert drawn.returncode == 0, drawn.stderr
    row = json.loads(drawn.stdout)
    assert (row["purpose"], row["purpose_note"]) == ("other", "污水处理设施")
    table = run_gis("reserve", "ledger", VILLAGE, env={"GIS_LANG": "zh", "COLUMNS": "320"})
    assert table.returncode == 0, table.stderr
    assert "其他：污水处理设施" in table.stdout, table.stdout
    listed = json.loads(run_gis("reserve", "ledger", VILLAGE, "--json").stdout)
    assert {(r["purpose"], r["purpose_note"]) for r in listed
            if r["project_code"] == "2026-CLI-GG"} == {("other", "污水处理设施")}


@pytest.mark.parametrize("note", [None, "  ", "设" * 201])
def test_cli_other_without_a_stated_purpose_is_one_line(sample_db, note: str | None) -> None:
    before = _ledger_count(sample_db)
    args = ["reserve", "draw", VILLAGE, "--project", "2026-CLI-BAD", "--area-m2", "5",
            "--purpose", "other"]
    proc = run_gis(*args, *(["--purpose-note", note] if note is not None else []))
    assert_one_line_error(proc, "purpose_note")
    assert _ledger_count(sample_db) == before


def test_cli_unknown_purpose_lists_the_allowed_ones(sample_db) -> None:
    proc = run_gis("reserve", "draw", VILLAGE, "--project", "P", "--area-m2", "5",
                   "--purpose", "public_service")
    assert_one_line_error(proc, "other", "public_service")


# ------------------------------------------------------------------ the /quota page
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def test_portal_ledger_shows_what_other_was(browser: Browser, live_server, sample_db,
                                            role_keys) -> None:
    base = f"{live_server}/api/v1/reserve/villages/{VILLAGE}"
    made = httpx.post(f"{base}/draws", headers=role_keys["planner"], json={
        "project_code": "2026-WEB-01", "area_m2": 20, "purpose": "other",
        "purpose_note": "公共厕所"})
    noted = httpx.post(f"{base}/draws", headers=role_keys["planner"], json={
        "project_code": "2026-WEB-02", "area_m2": 20, "purpose": "major_project",
        "purpose_note": "供水管网"})
    assert made.status_code == noted.status_code == 201, (made.text, noted.text)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", bypass_csp=True)
    key = role_keys["planner"]["X-API-Key"]
    context.add_init_script(f"localStorage.setItem('onemap.apiKey', {key!r})")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server}/quota")
        page.locator(f'#quota-table tbody tr[data-village="{VILLAGE}"]').click()
        page.locator("#quota-ledger tbody tr", has_text="2026-WEB-02").wait_for()
        cells = dict(page.eval_on_selector_all(
            "#quota-ledger tbody tr",
            "trs => trs.map(tr => [tr.dataset.entry, tr.children[2].innerText])"))
        assert cells[str(made.json()["id"])] == "其他：公共厕所"
        assert cells[str(noted.json()["id"])] == "重大项目（说明：供水管网）"
        assert "重点产业" in cells.values()  # a named purpose without a note: its label
        assert errors == []
    finally:
        context.close()


# ------------------------------------------------------------------ the database itself
@pytest.mark.parametrize("note", ["NULL", "''", "'   '", "repeat('设', 201)"])
def test_database_refuses_other_without_a_stated_purpose(sample_db, note: str) -> None:
    with pytest.raises(IntegrityError), sample_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose, "
            f"purpose_note) VALUES ('{VILLAGE}', 'SQL', 1, current_date, 'other', {note})"))
    with sample_db.begin() as conn:  # the same row with a note is a ledger row like any
        conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose, "
            f"purpose_note) VALUES ('{VILLAGE}', 'SQL', 1, current_date, 'other', '公厕')"))
        conn.execute(text("DELETE FROM quota_draws WHERE project_code = 'SQL'"))


# ------------------------------------------------------------------ the ledger import
def _csv(path: Path, rows: list[str], header: str) -> str:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_import_refuses_a_whole_file_with_an_unstated_other(sample_db, tmp_path) -> None:
    header = "village_code,project_code,project_name,area_m2,draw_date,purpose,purpose_note"
    rows = [f"{VILLAGE},IMP-1,冷库,100,2023-04-01,key_industry,",
            f"{VILLAGE},IMP-2,文化广场,80,2023-05-01,other,",
            f"{VILLAGE},IMP-3,卫生室,60,2023-06-01,other,村卫生室"]
    before = _ledger_count(sample_db)
    with pytest.raises(InputError, match=r"\[2\].*purpose_note") as refused:
        import_ledger(sample_db, _csv(tmp_path / "quota_ledger.csv", rows, header))
    assert refused.value.details["rows"] == [2]
    (tmp_path / "old").mkdir()  # a ledger kept before the column existed
    no_column = _csv(tmp_path / "old" / "quota_ledger.csv", [rows[1].rsplit(",", 1)[0]],
                     header.rsplit(",", 1)[0])
    with pytest.raises(InputError, match="purpose_note"):
        import_ledger(sample_db, no_column)
    assert _ledger_count(sample_db) == before  # nothing imported, not even row 1

    rows[1] = f"{VILLAGE},IMP-2,文化广场,80,2023-05-01,other,  村文化广场 "
    assert import_ledger(sample_db, _csv(tmp_path / "quota_ledger.csv", rows, header)) == 3
    with sample_db.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT project_code, purpose_note FROM quota_draws WHERE project_code LIKE 'IMP-%'"
        )).all())
    assert stored == {"IMP-1": None, "IMP-2": "村文化广场", "IMP-3": "村卫生室"}


# ------------------------------------------------------------------ migration 0016
@pytest.fixture(scope="module")
def db_at_0015(engine: Engine) -> Iterator[Engine]:
    name = f"onemap_mig16_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    db = create_engine(make_url(engine.url).set(database=name))
    try:
        with db.begin() as conn:
            conn.execute(text("CREATE EXTENSION postgis"))
        upgrade(db, "0015")
        with db.begin() as conn:
            conn.execute(text(
                "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, "
                "purpose) VALUES ('640202100201', 'OLD-1', 1000, '2025-01-01', 'major_project')"))
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def _downgrade_to_0015(db: Engine) -> None:
    from alembic import command

    from gis.db.migrate import _config

    cfg = _config()
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0015")


def _insert_other(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose, "
            "purpose_note) VALUES ('640202100201', 'NEW-1', 10, '2026-12-01', 'other', '公厕')"))


def test_migration_up_keeps_rows_and_down_refuses_while_other_rows_exist(
        db_at_0015: Engine) -> None:
    db = db_at_0015
    upgrade(db)
    assert current_revision(db) == head_revision()
    with db.connect() as conn:
        assert conn.execute(text(
            "SELECT purpose, purpose_note FROM quota_draws")).one() == ("major_project", None)
    _insert_other(db)
    with pytest.raises(RuntimeError, match=r"1 row.*purpose 'other'"):
        _downgrade_to_0015(db)
    assert current_revision(db) == head_revision()  # nothing was undone
    with db.begin() as conn:
        conn.execute(text("DELETE FROM quota_draws WHERE purpose = 'other'"))
    _downgrade_to_0015(db)
    assert current_revision(db) == "0015"
    with db.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'quota_draws' "
            "AND column_name = 'purpose_note'")).scalar_one() == 0
    with pytest.raises(IntegrityError), db.begin() as conn:  # the three-purpose CHECK again
        conn.execute(text(
            "INSERT INTO quota_draws (village_code, project_code, area_m2, draw_date, purpose) "
            "VALUES ('640202100201', 'NEW-2', 10, '2026-12-01', 'other')"))
    upgrade(db)  # and up again
    _insert_other(db)
