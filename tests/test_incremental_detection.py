"""Incremental re-detection (issue 24) on the samples: after parcels are shrunk, moved into
overlap, deleted, inserted and re-attributed, a re-detection that looks only at the changed
parcels leaves exactly the work list (findings, areas, townships, statuses, decisions,
events) and summary a full re-detection from the same starting state leaves, with decisions
recorded and applied before; an unchanged re-run writes no finding and no event; the full
scan is chosen when there is nothing to compare with, when asked (``full=True``, ``gis
reconcile detect --full``), when the profile or the administrative divisions changed and
when many parcels changed; a tiled re-detection with few changes runs in PostGIS without
reaching the cluster."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from gis.analysis.forest_grass import TileOptions, decide, detect
from gis.analysis.forest_grass_apply import apply_decisions
from gis.analysis.forest_grass_changes import FULL_REASON_MESSAGES, FULL_REASONS
from gis.errors import ConfigurationError
from gis.identity import Actor
from gis.layers.schema import layer_tables, metadata
from gis.messages import text as message_text
from gis.samples import load_samples
from tests.server_fixtures import uvicorn_process
from tests.test_cli_usage import run_gis

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
DIVISION = "640202"
OTHER = "640104"
#: The tables the tests change and restore between scenarios (kept as keep_<table>).
KEPT = ("forest_parcels", "grassland_parcels", "survey_patches", "admin_divisions")
WHO = Actor("林草局 王工", "k0000001")


def _work_tables() -> list[str]:
    layers = {t for t in KEPT}
    return [t.name for t in metadata.sorted_tables
            if t.name not in layers and t.name != "api_keys"]


@pytest.fixture(scope="module")
def samples(settings, engine) -> Iterator[Engine]:
    """The samples loaded once; copies of the changed tables to start every scenario from
    the same state (dropped at the end: the schema comparison must not see them)."""
    layer_tables()
    everything = [t.name for t in metadata.sorted_tables if t.name != "api_keys"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(everything)} RESTART IDENTITY CASCADE"))
    load_samples(engine, settings.with_changes(data={"samples_dir": SAMPLES}))
    with engine.begin() as conn:
        for table in KEPT:
            conn.execute(text(f"CREATE TABLE keep_{table} AS SELECT * FROM {table}"))
    yield engine
    with engine.begin() as conn:
        for table in KEPT:
            conn.execute(text(f"DROP TABLE keep_{table}"))


def _reset(engine: Engine) -> None:
    """The samples as loaded, an empty work list, identities from 1 (so both runs of a
    comparison number their runs, findings and events alike)."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(_work_tables())} RESTART IDENTITY CASCADE"))
        conn.execute(text(f"TRUNCATE {', '.join(KEPT)} CASCADE"))
        for table in KEPT:
            conn.execute(text(f"INSERT INTO {table} SELECT * FROM keep_{table}"))
        conn.execute(text("ANALYZE"))


def _worklist(engine: Engine) -> dict[int, dict]:
    """Every finding (closed ones too) by id, with what a person sees of it."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, kind, status, decision, division, township, village, parcel_keys, "
            "parcels::text AS parcels, area_m2, version, first_run, last_run, "
            "ST_AsText(ST_Normalize(geom)) AS geom FROM recon_findings ORDER BY id")).all()
    return {r.id: dict(r._mapping) for r in rows}


def _events(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT id, finding_id, actor, action, details::text, reason, version "
            "FROM recon_events ORDER BY id")).all()]


def _parcel_ids(engine: Engine, kind: str, layer: str) -> list[int]:
    """Ids of ``layer`` parcels in open findings of ``kind`` in the division."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT DISTINCT (p->'attributes'->>'id')::bigint AS id FROM recon_findings, "
            "jsonb_array_elements(parcels) AS p WHERE division = :d AND kind = :k "
            "AND p->>'layer' = :l ORDER BY id"), {"d": DIVISION, "k": kind, "l": layer}).scalars())


def _change_parcels(engine: Engine) -> dict[str, int]:
    """Shrink a forest parcel of a forest/grassland overlap, move a grassland parcel onto
    another forest parcel, delete a forest parcel of a class mismatch, insert a forest
    parcel without owner over a grassland one, take the owner of a forest parcel and give a
    certificate to one without. ``updated_at`` is left alone on purpose: the change is known
    by the row version, not by a timestamp someone may forget."""
    overlap = _parcel_ids(engine, "forest_grass_overlap", "forest_parcels")
    mismatch = [i for i in _parcel_ids(engine, "class_mismatch", "forest_parcels")
                if i not in overlap]
    no_cert = [i for i in _parcel_ids(engine, "missing_certificate", "forest_parcels")
               if i not in overlap + mismatch[:1]]
    grass_busy = set(_parcel_ids(engine, "forest_grass_overlap", "grassland_parcels"))
    assert overlap and mismatch and no_cert, "the samples lack the situations to change"
    shrunk, deleted, certified = overlap[0], mismatch[0], no_cert[0]
    with engine.begin() as conn:
        target = conn.execute(text(
            "SELECT id FROM forest_parcels WHERE id <> ALL(:used) AND ST_Intersects(geom, "
            "(SELECT ST_Union(geom) FROM admin_divisions WHERE code = :d)) ORDER BY id "
            "LIMIT 1 OFFSET 5"), {"used": [shrunk, deleted, certified], "d": DIVISION}
        ).scalar_one()
        moved = conn.execute(text(
            "SELECT id FROM grassland_parcels WHERE id <> ALL(:busy) ORDER BY id LIMIT 1"),
            {"busy": sorted(grass_busy)}).scalar_one()
        unowned = conn.execute(text(
            "SELECT id FROM forest_parcels WHERE id <> ALL(:used) AND owner <> '' "
            "AND ST_Intersects(geom, (SELECT ST_Union(geom) FROM admin_divisions "
            "WHERE code = :d)) ORDER BY id DESC LIMIT 1"),
            {"used": [shrunk, deleted, certified, target], "d": DIVISION}).scalar_one()
        conn.execute(text(
            "UPDATE forest_parcels SET geom = ST_Multi(ST_Scale(geom, ST_MakePoint(0.9, 0.9), "
            "ST_Centroid(geom))) WHERE id = :i"), {"i": shrunk})
        conn.execute(text(
            "UPDATE grassland_parcels AS g SET geom = ST_Multi(ST_Translate(g.geom, "
            "ST_X(ST_Centroid(f.geom)) - ST_X(ST_Centroid(g.geom)), "
            "ST_Y(ST_Centroid(f.geom)) - ST_Y(ST_Centroid(g.geom)))) "
            "FROM forest_parcels AS f WHERE g.id = :g AND f.id = :f"),
            {"g": moved, "f": target})
        conn.execute(text("DELETE FROM forest_parcels WHERE id = :i"), {"i": deleted})
        conn.execute(text(
            "INSERT INTO forest_parcels (id, county_code, lin_ban, xiao_ban, land_class, "
            "owner, certificate_no, geom, area_m2, updated_at) SELECT 90001, '640202', '999', "
            "'001', '乔木林地', NULL, 'LQ-NEW', geom, area_m2, updated_at FROM grassland_parcels "
            "WHERE id = (SELECT min(id) FROM grassland_parcels WHERE id <> :g)"),
            {"g": moved})
        conn.execute(text("UPDATE forest_parcels SET owner = '' WHERE id = :i"), {"i": unowned})
        conn.execute(text("UPDATE forest_parcels SET certificate_no = 'LQ-9' WHERE id = :i"),
                     {"i": certified})
        for table in ("forest_parcels", "grassland_parcels"):
            conn.execute(text(f"UPDATE {table} SET area_m2 = ST_Area(geography(geom), true) "
                              "WHERE id IN (:a, :b)"), {"a": shrunk, "b": moved})
    return {"shrunk": shrunk, "moved": moved, "deleted": deleted, "inserted": 90001,
            "unowned": unowned, "certified": certified}


def _decide_some(engine: Engine, every: int = 3) -> dict[int, str]:
    """Decide every forest/grassland overlap and every ``every``-th other open finding of
    the division (not slivers)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, kind, version FROM recon_findings WHERE division = :d "
            "AND status = 'open' AND kind <> 'sliver' ORDER BY id"), {"d": DIVISION}).all()
    decided = {}
    for n, (fid, kind, version) in enumerate(rows):
        if n % every == 0 or kind == "forest_grass_overlap":
            decision = "keep_forest" if kind == "forest_grass_overlap" else "no_change"
            decide(engine, fid, decision, WHO, "核查确认", version)
            decided[fid] = decision
    return decided


def _start(engine: Engine, apply: bool) -> tuple[dict[int, str], set[tuple[str, int]]]:
    """The common starting state: both divisions detected, decisions recorded (and, with
    ``apply``, applied, then more recorded), then the parcels changed; the decisions and the
    changed parcels (layer, id)."""
    _reset(engine)
    for division in (DIVISION, OTHER):
        assert detect(engine, division, actor=WHO).mode == "full"
    decided = _decide_some(engine)
    if apply:
        assert apply_decisions(engine, DIVISION, WHO).applied == len(decided)
        decided = _decide_some(engine, every=4)
    changed = _change_parcels(engine)
    return decided, {("grassland_parcels" if name == "moved" else "forest_parcels", pid)
                     for name, pid in changed.items()}


def _outcome(engine: Engine, full: bool) -> tuple:
    summary = detect(engine, DIVISION, actor=WHO, full=full)
    other = detect(engine, OTHER, actor=WHO, full=full)
    counts = [(s.detected, s.new, s.kept, s.closed) for s in (summary, other)]
    return summary, other, counts, _worklist(engine), _events(engine)


@pytest.mark.parametrize("apply", [False, True], ids=["decided", "applied"])
def test_incremental_equals_full_from_the_same_state(samples, apply: bool) -> None:
    decided, changed = _start(samples, apply)
    before = _worklist(samples)
    summary, other, counts, worklist, events = _outcome(samples, full=False)
    assert (summary.mode, summary.full_reason) == ("incremental", None)
    assert summary.changed is not None and 6 <= summary.changed < 40
    assert other.mode == "incremental"
    assert summary.new > 0 and summary.closed > 0

    _start(samples, apply)
    full_summary, _, full_counts, full_worklist, full_events = _outcome(
        samples, full=True)
    assert (full_summary.mode, full_summary.full_reason) == ("full", "forced")
    assert full_summary.changed == summary.changed
    assert counts == full_counts
    assert worklist.keys() == full_worklist.keys()
    for fid, row in full_worklist.items():
        mine = worklist[fid]
        assert mine["area_m2"] == pytest.approx(row["area_m2"], rel=1e-9, abs=1e-6), fid
        assert {**mine, "area_m2": 0} == {**row, "area_m2": 0}, fid
    assert events == full_events

    # Every decision on a finding whose parcels did not change is kept as it was.
    unchanged = [fid for fid in decided if not changed & {
        (p["layer"], p["attributes"]["id"]) for p in json.loads(before[fid]["parcels"])}]
    assert unchanged
    for fid in unchanged:
        assert worklist[fid] == before[fid], fid
        assert (worklist[fid]["status"], worklist[fid]["decision"]) == ("decided",
                                                                        decided[fid])
    # The changes show: findings closed and found by this run, and (all overlaps decided) a
    # decided finding whose ground changed (the shrunk parcel) keeping its decision.
    run = summary.run_id
    assert any(r["status"] == "closed" and r["last_run"] == run for r in worklist.values())
    assert any(r["first_run"] == run for r in worklist.values())
    if not apply:
        assert any(r["last_run"] == run and r["status"] == "decided"
                   for r in worklist.values())
        # ... with a "changed" event saying the area before and after.
        assert any(e[3] == "changed" and json.loads(e[4])["run"] == run for e in events)
    else:
        # Applied findings are off the work list: found again (their parcels unchanged),
        # they come back as new ones, in both modes.
        applied = {r["parcel_keys"] for r in worklist.values() if r["status"] == "applied"}
        assert any(r["first_run"] == run and r["parcel_keys"] in applied
                   for r in worklist.values())


def test_an_unchanged_rerun_writes_no_finding_and_no_event(samples) -> None:
    _reset(samples)
    first = detect(samples, DIVISION, actor=WHO)
    _decide_some(samples)
    with samples.connect() as conn:
        versions = conn.execute(text(
            "SELECT id, xmin::text FROM recon_findings ORDER BY id")).all()
    events = _events(samples)
    again = detect(samples, DIVISION, actor=WHO)
    assert (again.mode, again.changed, again.new, again.closed) == ("incremental", 0, 0, 0)
    assert again.detected == first.detected
    assert again.kept == sum(first.detected.values())
    with samples.connect() as conn:
        assert conn.execute(text(
            "SELECT id, xmin::text FROM recon_findings ORDER BY id")).all() == versions
    assert _events(samples) == events
    # A full re-run writes no finding either: nothing changed on the ground.
    forced = detect(samples, DIVISION, actor=WHO, full=True)
    assert (forced.mode, forced.full_reason, forced.new, forced.closed) == (
        "full", "forced", 0, 0)
    with samples.connect() as conn:
        assert conn.execute(text(
            "SELECT id, xmin::text FROM recon_findings ORDER BY id")).all() == versions
    assert _events(samples) == events


def _sql(engine: Engine, statement: str) -> Callable[[], None]:
    def run() -> None:
        with engine.begin() as conn:
            conn.execute(text(statement))
    return run


def test_when_the_whole_division_is_scanned(samples) -> None:
    _reset(samples)
    first = detect(samples, DIVISION, actor=WHO)
    assert (first.mode, first.full_reason, first.changed) == ("full", "no_previous", None)
    # Another profile: the findings could differ everywhere.
    other_profile = detect(samples, DIVISION, "ningxia", actor=WHO)
    assert (other_profile.mode, other_profile.full_reason) == ("full", "profile_changed")
    assert (detect(samples, DIVISION, actor=WHO).full_reason) == "profile_changed"
    assert detect(samples, DIVISION, actor=WHO).mode == "incremental"
    # A village boundary moved: townships and villages of unchanged findings could change.
    _sql(samples, "UPDATE admin_divisions SET geom = ST_Multi(ST_Translate(geom, 0.0001, 0)) "
                  "WHERE code = (SELECT min(code) FROM admin_divisions "
                  "WHERE code LIKE '640202%' AND length(code) = 12)")()
    boundary = detect(samples, DIVISION, actor=WHO)
    assert (boundary.mode, boundary.full_reason, boundary.changed) == (
        "full", "boundary_changed", 0)
    # More than a fifth of the parcels changed: a full scan is cheaper.
    _sql(samples, "UPDATE survey_patches SET patch_no = patch_no")()
    many = detect(samples, DIVISION, actor=WHO)
    assert (many.mode, many.full_reason) == ("full", "many_changes")
    assert many.changed and many.changed > 200
    assert (many.new, many.closed) == (0, 0)
    # An emptied work list has no previous detection to compare with.
    with samples.begin() as conn:
        conn.execute(text("TRUNCATE recon_findings, recon_events, recon_runs, "
                          "recon_field_results RESTART IDENTITY CASCADE"))
    assert detect(samples, DIVISION, actor=WHO).full_reason == "no_previous"


def test_tiled_redetection_of_few_changes_needs_no_cluster(samples) -> None:
    _reset(samples)
    detect(samples, DIVISION, actor=WHO)
    _change_parcels(samples)
    nowhere = TileOptions(scheduler="tcp://127.0.0.1:9", connect_timeout=2)
    summary = detect(samples, DIVISION, actor=WHO, tiles=nowhere)
    assert summary.mode == "incremental" and summary.new > 0
    # A full tiled scan does need it: the unreachable scheduler is reported as such.
    with pytest.raises(ConfigurationError):
        detect(samples, DIVISION, actor=WHO, tiles=nowhere, full=True)


def test_cli_full_and_incremental(samples) -> None:
    _reset(samples)
    first = run_gis("reconcile", "detect", DIVISION, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["full_reason"] == "no_previous"
    _sql(samples, "UPDATE grassland_parcels SET owner = NULL WHERE id = (SELECT min(g.id) "
                  "FROM grassland_parcels AS g JOIN admin_divisions AS d ON d.code = '640202' "
                  "AND ST_Intersects(g.geom, d.geom))")()
    again = run_gis("reconcile", "detect", DIVISION)
    assert again.returncode == 0, again.stderr
    assert "incremental: 1 parcels changed since the last detection" in again.stdout
    forced = run_gis("reconcile", "detect", DIVISION, "--full")
    assert forced.returncode == 0, forced.stderr
    assert "full scan: asked for (0 parcels changed since the last detection)" in forced.stdout
    assert set(FULL_REASON_MESSAGES) == set(FULL_REASONS)
    for reason in FULL_REASONS:  # every reason the CLI may print is worded in both languages
        key = FULL_REASON_MESSAGES[reason]
        assert message_text(key, "zh") != message_text(key, "en")
    zh = run_gis("reconcile", "detect", DIVISION, "--full", "--json", env={"GIS_LANG": "zh"})
    summary = json.loads(zh.stdout)
    assert (summary["mode"], summary["full_reason"], summary["changed"]) == (
        "full", "forced", 0)


def test_api_runs_take_full(samples, role_keys) -> None:
    """``POST /api/v1/reconciliation/runs`` over HTTP: incremental unless ``full`` is sent."""
    _reset(samples)
    runs = "/api/v1/reconciliation/runs"
    with uvicorn_process() as (_, url), httpx.Client(
            base_url=url, headers=role_keys["forestry"], timeout=120) as api:
        first = api.post(runs, json={"division": DIVISION})
        assert first.status_code == 201, first.text
        assert (first.json()["mode"], first.json()["full_reason"]) == ("full", "no_previous")
        again = api.post(runs, json={"division": DIVISION}).json()
        assert (again["mode"], again["changed"], again["new"], again["closed"]) == (
            "incremental", 0, 0, 0)
        forced = api.post(runs, json={"division": DIVISION, "full": True}).json()
        assert (forced["mode"], forced["full_reason"], forced["kept"]) == (
            "full", "forced", first.json()["new"])
