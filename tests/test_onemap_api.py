"""``gis.connect(url, key)``: the same calls over the project's HTTP API, against a live
uvicorn on the samples, answering what the database mode answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

import gis
from gis.errors import DatabaseUnavailable, InputError, NotFound, Unauthorized
from gis.samples import load_sample_ledger
from gis.settings import Settings
from tests.server_fixtures import SAMPLES, uvicorn_process

B_WHERE = "name = '贺兰山保护区大武口管护站巡护用房'"


@pytest.fixture(scope="module")
def local(settings: Settings, sample_db: Engine) -> Iterator[gis.OneMap]:
    assert load_sample_ledger(sample_db, settings.with_changes(data={"samples_dir": SAMPLES}))
    with gis.connect(lang="en") as om:
        yield om


@pytest.fixture(scope="module")
def server(sample_db: Engine) -> Iterator[str]:
    """The API in its own uvicorn process on the samples, with the sample rasters as its
    raster folder (monitoring over the API names rasters there)."""
    with uvicorn_process(env={"GIS_RASTER_DIR": str(SAMPLES)}) as (_, url):
        yield url


@pytest.fixture(scope="module")
def remote(server: str, role_keys: dict[str, dict[str, str]], local: gis.OneMap
           ) -> Iterator[gis.OneMap]:
    with gis.connect(server, role_keys["planner"]["X-API-Key"], lang="en") as om:
        yield om


def test_layers_and_reads_match_the_database(local: gis.OneMap, remote: gis.OneMap) -> None:
    assert remote.mode == "api"
    assert remote.layers.to_dict("records") == local.layers.to_dict("records")
    for args in [dict(layer="eco_redline"), dict(layer="eco_redline", where="zone = 'core'"),
                 dict(layer="cultivated_land", division="640104"),
                 dict(layer="cultivated_land", bbox=(106.30, 38.95, 106.40, 39.05)),
                 dict(layer="village_plans", limit=7)]:
        mine, theirs = local.read(**args), remote.read(**args)
        assert list(theirs.columns) == list(mine.columns), args
        assert list(theirs["id"]) == list(mine["id"]) and len(mine) > 0, args
        fields = [c for c in mine.columns if c not in ("geometry", "area_m2", "area_mu",
                                                       "area_ha")]
        assert theirs[fields].astype(str).equals(mine[fields].astype(str)), args
        assert (theirs["area_m2"] - mine["area_m2"]).abs().max() <= 0.005, args
        assert theirs.crs.to_epsg() == 4490
        # the same shapes (the API writes RFC 7946 ring order and 7 decimals)
        assert max(t.hausdorff_distance(m) for t, m in zip(theirs.geometry, mine.geometry,
                                                            strict=True)) < 1e-6, args
        assert theirs.dtypes.equals(mine.dtypes), args


def test_a_siting_check_over_the_api_is_the_library_s_and_stored(
        local: gis.OneMap, remote: gis.OneMap, sample_db: Engine) -> None:
    b = local.read("projects", where=B_WHERE)
    mine = local.check_siting(b, "LA1", new_construction_land=True, profile="dawukou")
    with sample_db.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM siting_runs")).scalar_one()
    theirs = remote.check_siting(b, "LA1", new_construction_land=True, profile="dawukou")
    assert theirs.verdict == mine.verdict == "justification_required"
    assert theirs.approval_path == mine.approval_path
    assert theirs.results[0].rules == mine.results[0].rules
    assert theirs.to_frame().drop(columns="id").round(2).equals(
        mine.to_frame().drop(columns="id").round(2))
    with sample_db.connect() as conn:
        runs = conn.execute(sa.text("SELECT count(*) FROM siting_runs")).scalar_one()
        who = conn.execute(sa.text("SELECT requested_by FROM siting_runs ORDER BY created_at "
                                   "DESC LIMIT 1")).scalar_one()
    assert runs == before + 1 and who == "test-planner"


def test_planning_results_match_the_database(local: gis.OneMap, remote: gis.OneMap) -> None:
    assert remote.quota("64").to_frame().equals(local.quota("64").to_frame())
    assert remote.quota("64").townships().to_frame().equals(
        local.quota("64").townships().to_frame())
    code = local.quota("64").to_frame()["village_code"].iloc[0]
    assert remote.quota("64").ledger(code).to_frame().equals(
        local.quota("64").ledger(code).to_frame())
    mine, theirs = local.control_line_conflicts("64"), remote.control_line_conflicts("64")
    assert theirs.to_frame().equals(mine.to_frame()) and len(mine) > 0
    assert theirs.to_geodataframe().geometry.geom_equals_exact(
        mine.to_geodataframe().geometry, 1e-9).all()
    assert remote.indicators("640202").to_frame().equals(
        local.indicators("640202").to_frame())


def test_ledger_writes_need_record_over_the_api(remote: gis.OneMap,
                                                role_keys: dict[str, dict[str, str]],
                                                server: str, local: gis.OneMap,
                                                sample_db: Engine) -> None:
    with pytest.raises(InputError, match="record=True"):
        remote.reconcile("640202")
    with pytest.raises(InputError, match="record=True"):
        remote.monitor("landcover_2020.tif", "landcover_2023.tif")
    with pytest.raises(InputError, match="GIS_RASTER_DIR"):
        remote.monitor(SAMPLES / "landcover_2020.tif", "landcover_2023.tif", record=True)
    patches = remote.monitor("landcover_2020.tif", "landcover_2023.tif", record=True)
    dry = local.monitor(SAMPLES / "landcover_2020.tif", SAMPLES / "landcover_2023.tif")
    assert sorted(patches.to_frame()["feature_key"]) == sorted(dry.to_frame()["feature_key"])
    assert sum(patches.recorded.found.values()) == len(patches) > 0
    with gis.connect(server, role_keys["forestry"]["X-API-Key"]) as forestry:
        recorded = forestry.reconcile("640202", record=True)
    dry = local.reconcile("640202")
    assert sorted(recorded.to_frame()["parcel_keys"]) == sorted(dry.to_frame()["parcel_keys"])
    assert recorded.recorded.division == "640202"
    with sample_db.connect() as conn:  # recorded as the key's holder
        actors = set(conn.execute(sa.text("SELECT DISTINCT actor FROM recon_events")).scalars())
    assert actors == {"test-forestry"}
    with sample_db.connect() as conn:
        actors = set(conn.execute(sa.text("SELECT DISTINCT actor FROM monitor_events"))
                     .scalars())
    assert actors == {"test-planner"}


def test_errors_come_back_as_the_library_s(server: str, remote: gis.OneMap) -> None:
    with gis.connect(server, lang="zh") as anonymous:
        with pytest.raises(Unauthorized) as caught:
            anonymous.read("eco_redline")  # a planner layer: a key is needed
        assert "401" in caught.value.render("zh") and "eco_redline" in caught.value.render("zh")
        assert anonymous.read("urban_boundary").shape[0] > 0  # a public one is not
        with pytest.raises(Unauthorized) as caught:
            anonymous.control_line_conflicts("64")  # planner data
        assert "401" in caught.value.render("zh") and "密钥" in caught.value.render("zh")
    with gis.connect(server, "not-a-key") as wrong, pytest.raises(Unauthorized):
        wrong.read("urban_boundary")
    with gis.connect("http://127.0.0.1:9", "k") as nowhere, pytest.raises(DatabaseUnavailable):
        nowhere.read("urban_boundary")
    with pytest.raises(NotFound):
        remote.read("cultivated_land", division="99")
    with pytest.raises(InputError):
        gis.connect("postgresql://x/y", "a-key")


def test_maps_over_the_api_use_the_server_s_leaflet(remote: gis.OneMap,
                                                    server: str) -> None:
    page = remote.explore("urban_boundary").get_root().render()
    assert f"{server}/static/vendor/leaflet/leaflet.js" in page
